"""Benchmark worker for mlexpert: ``mlexpert.fit`` with the manifest's task and metric."""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where this very file would shadow
# the real package of the same name ("import mlexpert"): drop it, import via benchmarks/.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from frameworks._common import Adapter, Spec, run_worker  # noqa: E402

import mlexpert  # noqa: E402  (imported here so that import time is not counted as fit time)


def fit(train, spec: Spec):
    return mlexpert.fit(train, target=spec.target, task=spec.task, metric=spec.metric,
                        time_limit=spec.budget, seed=spec.seed, n_jobs=spec.n_jobs)


def _predict(model, X, spec: Spec):
    if spec.task == "regression":
        return model.predict(X)
    proba = model.predict_proba(X)
    # columns are str(label); classes_ keeps the original labels in the same order
    return proba.to_numpy(dtype=float), list(model.classes_)


def save(model, directory: Path) -> None:
    model.save(directory)


def reload(directory: Path, X, spec: Spec):
    return _predict(mlexpert.load(directory), X, spec)


def info(model) -> dict:
    m = model.manifest
    lb = model.leaderboard
    return {
        "cv_score": m.get("cv_score"),
        "best_single": m.get("best_single"),
        "cv_strategy": m.get("cv_strategy"),
        "trials": m.get("trials"),
        "budget": m.get("budget"),
        "refit_skipped": m.get("refit_skipped"),  # members kept as fold models, and why
        "n_features_used": m.get("n_features"),
        "ensemble": getattr(model.pipeline, "members", None)
        and {mem.name: round(mem.weight, 4) for mem in model.pipeline.members},
        "families_tried": sorted(set(lb["family"])) if "family" in lb.columns else None,
        "notices": list(model.notices),
    }


ADAPTER = Adapter(name="mlexpert", fit=fit, predict=_predict, save=save, info=info, reload=reload,
                  packages=("mlexpert", "lightgbm", "xgboost-cpu", "catboost", "optuna", "torch"))

if __name__ == "__main__":
    sys.exit(run_worker(ADAPTER))
