"""False-alarm rate and power of the drift alarm (``mlexpert.monitoring.drift``) on real data.

Per dataset and repeat: the rows are split at random into halves A and B. The reference
profile is built on A with the output of a fixed simple model (ridge / logistic
regression on the numeric features, fitted once per dataset on 5,000 other-seeded rows),
and windows are taken from B: all of B, and 5,000 and 1,000 rows drawn from it.

- false alarms: the share of repeats in which the unchanged window raised the alarm
  (A and B come from the same distribution, so every alarm is false; target < 5%);
- power, numeric: one numeric feature with at least 20 distinct values, drawn at random
  per repeat, is shifted in the window by ``--numeric-shift`` (default +0.25) of its
  reference standard deviation; integer-valued features stay integers (the shift is
  rounded up or down at random, so that it averages the same: moving a count or an age
  off the integers would be an easy, unrealistic change); detected = the alarm is raised
  and names that feature;
- power, categorical: for one category feature drawn at random, ``--category-shift``
  (default 0.10) of the window's rows move into its most frequent reference category
  (when that category holds at most half of the rows) or out of it (otherwise, to the
  other non-missing categories in their own proportions); detected as above.

Rates come with Wilson 95% intervals. A Markdown table is printed; ``--out`` writes JSON.

    .venv/bin/python benchmarks/drift_calibration.py --out /tmp/drift.json
    .venv/bin/python benchmarks/drift_calibration.py --repeats 40 --datasets adult
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from mlexpert.data.schema import infer_schema  # noqa: E402
from mlexpert.monitoring._coerce import category_key  # noqa: E402
from mlexpert.monitoring.drift import DriftAccumulator  # noqa: E402
from mlexpert.monitoring.profile import build_profile  # noqa: E402
from mlexpert.task import infer_task  # noqa: E402

DATASETS_DIR = REPO.parent / "shared" / "datasets"
DEFAULT_DATASETS = ("adult", "bank_marketing", "california_housing", "bike_sharing_hourly")
CATEGORY_KINDS = ("boolean", "categorical", "high_cardinality")
FULL = 0  # window size meaning "all of half B"
MIN_DISTINCT = 20  # numeric features with fewer distinct values are codes, not quantities
_CACHE: dict = {}


def load(name: str, datasets_dir: Path) -> dict:
    """The dataset, its schema and task, and a fixed model's output for every row."""
    if name not in _CACHE:
        manifest = json.loads((datasets_dir / "manifest.json").read_text())
        entry = next(d for d in manifest if d["name"] == name)
        df = pd.read_parquet(datasets_dir / entry["file"])
        df = df[df[entry["target"]].notna()].reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = infer_schema(df, entry["target"])
        task = infer_task(df[entry["target"]], entry["task"])
        numeric = df[schema.names("numeric")]
        _CACHE[name] = {"df": df, "schema": schema, "task": task,
                        "distinct": numeric.nunique().to_dict(),
                        "integral": {c: bool(np.all(np.mod(numeric[c].dropna(), 1) == 0))
                                     for c in numeric},
                        "output": fixed_model_output(df, schema, task, entry["target"])}
    return _CACHE[name]


def fixed_model_output(df: pd.DataFrame, schema, task, target: str) -> np.ndarray:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = df[schema.names("numeric")].astype(float)
    rows = np.random.default_rng(12345).choice(len(df), min(5000, len(df)), replace=False)
    classify = task.kind != "regression"
    model = make_pipeline(SimpleImputer(), StandardScaler(),
                          LogisticRegression(max_iter=500) if classify else Ridge())
    y = df[target].iloc[rows]
    model.fit(X.iloc[rows], task.encode(y) if classify else y.astype(float))
    return model.predict_proba(X) if classify else model.predict(X)


def one_repeat(job: tuple) -> list[dict]:
    """Every window of one random split: unchanged, numeric shift, categorical shift."""
    name, repeat, args = job
    data = load(name, Path(args["datasets_dir"]))
    df, schema, output = data["df"], data["schema"], data["output"]
    rng = np.random.default_rng([args["seed"], repeat])
    order = rng.permutation(len(df))
    half_a, half_b = order[: len(df) // 2], order[len(df) // 2:]
    profile = build_profile(df.iloc[half_a], schema, data["task"], output=output[half_a])
    numeric = [c["column"] for c in profile["columns"]
               if c["kind"] == "numeric" and data["distinct"][c["column"]] >= MIN_DISTINCT]
    categories = [c for c in profile["columns"] if c["kind"] in CATEGORY_KINDS]
    rows = []
    for size in args["windows"]:
        rows_w = half_b if size == FULL or size >= len(half_b) else \
            rng.choice(half_b, size, replace=False)
        window, out = df.iloc[rows_w].reset_index(drop=True), output[rows_w]
        null = check(profile, window, out, args)
        prediction = null["prediction"] and null["prediction"]["drifted"]
        row = {"dataset": name, "repeat": repeat, "window": int(len(rows_w)),
               "label": "B" if size == FULL else str(size), "alarm": null["alarm"],
               "false_drifted": null["drifted"] + (["(prediction)"] if prediction else [])}
        if numeric:
            column = numeric[rng.integers(len(numeric))]
            std = next(c["std"] for c in profile["columns"] if c["column"] == column)
            shifted = window.copy()
            shifted[column] = shift_values(shifted[column], args["numeric_shift"] * std,
                                           data["integral"][column], rng)
            row["numeric"] = {"column": column, **detected(profile, shifted, out, column, args)}
        if categories:
            entry = categories[rng.integers(len(categories))]
            shifted = move_share(window, entry, args["category_shift"], rng)
            row["categorical"] = {"column": entry["column"],
                                  **detected(profile, shifted, out, entry["column"], args)}
        rows.append(row)
    return rows


def shift_values(col: pd.Series, delta: float, integral: bool, rng) -> pd.Series:
    values = pd.to_numeric(col).astype(float)
    if not integral:
        return values + delta
    low = np.floor(delta)
    return values + low + (rng.random(len(values)) < delta - low)


def check(profile: dict, window: pd.DataFrame, out: np.ndarray, args: dict) -> dict:
    return DriftAccumulator(profile).update(window, out).result(**args["thresholds"])


def detected(profile, window, out, column, args) -> dict:
    result = check(profile, window, out, args)
    return {"named": column in result["drifted"], "alarm": result["alarm"]}


def move_share(window: pd.DataFrame, entry: dict, share: float, rng) -> pd.DataFrame:
    """Move ``share`` of the rows into (or out of) the reference's top category."""
    column, top_key = entry["column"], entry["categories"][0]
    values = window[column].astype(object)
    present = values.notna().to_numpy()
    keys = values.map({v: category_key(v, entry["kind"] == "boolean")
                       for v in values.dropna().unique()}).to_numpy()
    is_top = present & (keys == top_key)
    n_move = int(round(share * len(window)))
    top_value = values[is_top].iloc[0] if is_top.any() else top_key
    into = entry["counts"][0] / entry["n"] <= 0.5
    source = np.flatnonzero(present & ~is_top) if into else np.flatnonzero(is_top)
    n_move = min(n_move, len(source))
    chosen = rng.choice(source, n_move, replace=False)
    if into:
        values.iloc[chosen] = top_value
    else:
        others = values[present & ~is_top].to_numpy()
        values.iloc[chosen] = rng.choice(others, n_move) if len(others) else None
    shifted = window.copy()
    shifted[column] = values
    return shifted


def rate(hits: int, n: int) -> dict:
    if not n:
        return {"rate": None, "hits": 0, "n": 0, "ci95": None}
    ci = binomtest(hits, n).proportion_ci(method="wilson")
    return {"rate": hits / n, "hits": hits, "n": n, "ci95": [ci.low, ci.high]}


def summarise(rows: list[dict]) -> list[dict]:
    table = []
    for (name, label), group in pd.DataFrame(rows).groupby(["dataset", "label"], sort=False):
        line = {"dataset": name, "window": label, "rows": int(group["window"].iloc[0]),
                "repeats": len(group), "false_alarm": rate(int(group["alarm"].sum()), len(group)),
                "false_alarm_columns": pd.Series([c for cs in group["false_drifted"] for c in cs],
                                                 dtype=object).value_counts().to_dict()}
        for kind in ("numeric", "categorical"):
            cells = [c for c in group.get(kind, pd.Series(dtype=object)) if isinstance(c, dict)]
            line[f"{kind}_detected"] = rate(sum(c["named"] for c in cells), len(cells))
            missed = pd.Series([c["column"] for c in cells if not c["named"]])
            line[f"{kind}_missed"] = missed.value_counts().to_dict()
        table.append(line)
    return table


def markdown(table: list[dict], args: dict) -> str:
    def cell(r):
        if r["rate"] is None:
            return "n/a"
        lo, hi = r["ci95"]
        return f"{r['rate']:.1%} ({r['hits']}/{r['n']}; {lo:.1%}–{hi:.1%})"
    lines = ["| dataset | window (rows) | false alarms | numeric "
             f"+{args['numeric_shift']} SD detected | categorical ±{args['category_shift']:.0%} "
             "detected |", "|---|---|---|---|---|"]
    for r in table:
        window = "half B" if r["window"] == "B" else r["window"]
        lines.append(f"| {r['dataset']} | {window} ({r['rows']:,}) | {cell(r['false_alarm'])} | "
                     f"{cell(r['numeric_detected'])} | {cell(r['categorical_detected'])} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_DATASETS))
    parser.add_argument("--datasets-dir", type=Path, default=DATASETS_DIR)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--windows", nargs="+", type=int, default=[FULL, 5000, 1000],
                        help="window sizes drawn from half B (0 = all of B)")
    parser.add_argument("--numeric-shift", type=float, default=0.25)
    parser.add_argument("--category-shift", type=float, default=0.10)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--min-shift", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    ns = parser.parse_args(argv)
    args = {"datasets_dir": str(ns.datasets_dir), "windows": ns.windows, "seed": ns.seed,
            "numeric_shift": ns.numeric_shift, "category_shift": ns.category_shift,
            "thresholds": {"alpha": ns.alpha, "min_shift": ns.min_shift}}
    started = time.perf_counter()
    jobs = [(name, r, args) for name in ns.datasets for r in range(ns.repeats)]
    with multiprocessing.get_context("fork").Pool(ns.jobs) as pool:
        rows = [row for chunk in pool.imap(one_repeat, jobs, chunksize=4) for row in chunk]
    elapsed = time.perf_counter() - started
    table = summarise(rows)
    print(markdown(table, args))
    print(f"\n{ns.repeats} repeats x {len(ns.datasets)} datasets in {elapsed:.0f} s "
          f"({ns.jobs} processes)")
    if ns.out:
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(json.dumps({"settings": {**args, "repeats": ns.repeats,
                                                   "datasets": ns.datasets},
                                      "elapsed_s": elapsed, "summary": table, "runs": rows},
                                     indent=1, default=str))


if __name__ == "__main__":
    main()
