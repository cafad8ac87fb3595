"""The worker protocol shared by every ``benchmarks/frameworks/<name>.py``.

A worker is started by ``benchmarks/run.py`` in its own process::

    python benchmarks/frameworks/<name>.py --train train.parquet --test test.parquet \
        --budget 60 --seed 0 --task binary --target class --metric roc_auc --out cell.json

It fits on the train split, times one prediction over the whole test split, scores it
with :mod:`benchmarks.scoring` (the same code for every framework), measures the saved
model's size, and writes one JSON document to ``--out``. Errors are caught and written
as ``status: "error"`` with the stage that failed; the parent adds peak memory and wall
time and handles crashes and timeouts.

A framework module only provides an adapter with four functions (see ``Adapter``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parents[1]
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import scoring  # noqa: E402  (benchmarks/scoring.py: the one shared scoring module)


PREDICT_REPEATS = 3
PREDICT_REPEAT_UNDER_S = 2.0


@dataclass
class Spec:
    """What a worker is asked to do."""

    dataset: str
    task: str
    target: str
    metric: str
    budget: float
    seed: int
    n_jobs: int


@dataclass
class Adapter:
    """How to drive one framework.

    fit(train_df, spec) -> model                      (train_df includes the target column)
    predict(model, X_test, spec) -> (proba, classes)  for classification
                                 -> values            for regression
    save(model, directory) -> None                    write the model under ``directory``
    info(model) -> dict                               optional extra facts for the JSON
    reload(directory, X_test, spec) -> prediction     optional: load the saved model and predict
    """

    name: str
    fit: Callable[[Any, Spec], Any]
    predict: Callable[[Any, Any, Spec], Any]
    save: Callable[[Any, Path], None]
    info: Callable[[Any], dict] | None = None
    reload: Callable[[Path, Any, Spec], Any] | None = None
    packages: tuple[str, ...] = ()


def _versions(packages) -> dict:
    found = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "scikit-learn", *packages):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def save_pickle(model, directory: Path) -> None:
    """Save ``model`` as ``directory/model.pkl`` (for frameworks without their own format)."""
    import pickle

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "model.pkl", "wb") as fh:
        pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)


def load_pickle(directory: Path):
    import pickle

    with open(directory / "model.pkl", "rb") as fh:
        return pickle.load(fh)


def dir_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    os.replace(tmp, path)


def _max_abs_diff(a, b, task: str) -> float:
    import numpy as np

    if task == "regression":
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    else:
        x, y = np.asarray(a[0], dtype=float), np.asarray(b[0], dtype=float)
    if x.shape != y.shape:
        return float("inf")
    return float(np.max(np.abs(x - y))) if x.size else 0.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark worker: fit, predict, score, save.")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--budget", type=float, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--task", required=True, choices=["binary", "multiclass", "regression"])
    p.add_argument("--target", required=True)
    p.add_argument("--metric", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--dataset", default="")
    return p.parse_args(argv)


def run_worker(adapter: Adapter, argv=None) -> int:
    """Run the whole protocol for ``adapter``; always writes ``--out`` unless killed."""
    args = parse_args(argv)
    spec = Spec(dataset=args.dataset, task=args.task, target=args.target, metric=args.metric,
                budget=args.budget, seed=args.seed, n_jobs=args.n_jobs)
    out = Path(args.out)
    doc: dict = {"framework": adapter.name, "status": "error", "stage": "load", "error": None,
                 "versions": _versions(adapter.packages)}
    stage = "load"
    try:
        import pandas as pd

        train = pd.read_parquet(args.train)
        test = pd.read_parquet(args.test)
        y_test = test[spec.target]
        X_test = test.drop(columns=[spec.target])
        doc.update(n_train=int(len(train)), n_test=int(len(test)), n_features=int(X_test.shape[1]))

        stage = "fit"
        t0 = time.perf_counter()
        model = adapter.fit(train, spec)
        fit_s = time.perf_counter() - t0
        doc.update(fit_s=round(fit_s, 3), fit_budget_ratio=round(fit_s / spec.budget, 4))
        del train

        stage = "predict"
        # one call over the whole test split; repeated (at most twice, when quick) and the
        # fastest kept, since a single call on a small split is dominated by noise
        t0 = time.perf_counter()
        pred = adapter.predict(model, X_test, spec)
        times = [time.perf_counter() - t0]
        while len(times) < PREDICT_REPEATS and sum(times) < PREDICT_REPEAT_UNDER_S:
            t0 = time.perf_counter()
            adapter.predict(model, X_test, spec)
            times.append(time.perf_counter() - t0)
        predict_s = min(times)
        doc.update(predict_s=round(predict_s, 5), predict_first_call_s=round(times[0], 5),
                   predict_calls=len(times),
                   predict_rows_per_s=round(len(X_test) / predict_s, 1) if predict_s > 0 else None)

        stage = "score"
        if spec.task == "regression":
            scores = scoring.score(spec.task, spec.metric, y_test, values=pred)
        else:
            proba, classes = pred
            scores = scoring.score(spec.task, spec.metric, y_test, proba=proba, classes=classes)
        doc.update(scores)

        stage = "save"
        with tempfile.TemporaryDirectory(prefix=f"bench-{adapter.name}-") as tmp:
            target = Path(tmp) / "model"
            t0 = time.perf_counter()
            adapter.save(model, target)
            doc["save_s"] = round(time.perf_counter() - t0, 3)
            doc["artifact_bytes"] = dir_size(target)
            if adapter.reload is not None:
                # a failed reload is recorded, but does not void the scores above
                try:
                    again = adapter.reload(target, X_test, spec)
                    doc["reload_max_abs_diff"] = _max_abs_diff(pred, again, spec.task)
                except Exception as exc:  # noqa: BLE001
                    doc["reload_error"] = f"{type(exc).__name__}: {exc}"

        stage = "info"
        if adapter.info is not None:
            doc["info"] = adapter.info(model)
        doc.update(status="ok", stage="done")
    except BaseException as exc:  # noqa: BLE001  (record everything, then exit non-zero)
        doc.update(status="error", stage=stage, error=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc()[-6000:])
        traceback.print_exc()
    _write_json(out, doc)
    return 0 if doc["status"] == "ok" else 1
