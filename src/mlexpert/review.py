"""The expert review of a fit, within a deadline: diagnosis (learning curve and verdict),
importance (tree SHAP on the final model, permutation importance on held-out rows, partial
dependence) and, with ``sensitive`` columns, fairness by group."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .diagnosis.curve import subsample
from .diagnosis.fitted import diagnose_fit
from .explain.partial_dependence import GRID, partial_dependence
from .explain.permutation import permutation_importance
from .models.registry import get_family
from .predictor import FittedPipeline, Member

SHAP_ROWS = 500
PERMUTATION_ROWS = 2_000
PD_ROWS = 300
PD_FEATURES = 4
# the least each step always does, however late or slow (rows), so the report shows the
# leading features; above it, rows are sized by the measured prediction speed
MIN_SHAP_ROWS, MIN_PERMUTATION_ROWS, MIN_PD_ROWS = 100, 200, 50
SHAP_COST = 15.0  # TreeSHAP's cost per row over a prediction's (LightGBM, measured: ~14x)
PROBE_ROWS = 256
DIAGNOSIS_SHARE = 0.5  # of the review's time; importance gets most of the rest
PERMUTATION_END = 0.85
SHAP_SHARE = 0.5
REVIEW_MIN, REVIEW_MAX = 0.04, 0.10  # of the budget held back for the review (and its cap)
IMPORTANCE_SHARE = 0.03  # of the budget for SHAP, permutation importance and partial dependence
REPORT_SECONDS = 1.5  # writing the report (charts) after the review


def review_seconds(best, budget: float) -> float:
    """Time the search holds back for the review of its best trial so far: one learning
    curve (the fits on 1/8, 1/4 and 1/2 of a fold, padded 20%), importance and the report,
    kept between REVIEW_MIN and REVIEW_MAX of the budget."""
    fold = best.fold_seconds if best is not None and np.isfinite(best.fold_seconds) else 0.0
    need = 1.2 * 0.875 * fold + IMPORTANCE_SHARE * budget + REPORT_SECONDS
    return min(max(need, REVIEW_MIN * budget), REVIEW_MAX * budget)


def review_fit(pipeline: FittedPipeline, kept: list, results: list, ws, metric, *,
               deadline: float, n_threads: int, seed: int = 0) -> dict:
    """``diagnosis`` and ``importance`` sections of the manifest (JSON-ready)."""
    start = time.monotonic()
    span = max(deadline - start, 0.0)
    out = {"diagnosis": diagnose_fit(results, ws, metric, deadline=start + DIAGNOSIS_SHARE * span,
                                     n_threads=n_threads, seed=seed)}
    rng = np.random.default_rng(seed)
    row_seconds = _row_seconds(pipeline, ws.X, rng)
    now = time.monotonic()  # SHAP gets half the time to the permutation's deadline, at most
    shap_until = now + SHAP_SHARE * max(start + PERMUTATION_END * span - now, 0.0)
    rows = _rows_by(shap_until, SHAP_COST * row_seconds, MIN_SHAP_ROWS, SHAP_ROWS)
    shap = (_shap(pipeline, _sample(ws.X, rows, rng), deadline=shap_until)
            if now < deadline else None)
    order = [f["feature"] for f in shap["features"]] if shap else []
    order += [c for c in pipeline.schema.features if c not in order]
    permutation = _permutation(kept, ws, pipeline, metric, order, rng, row_seconds=row_seconds,
                               deadline=start + PERMUTATION_END * span, seed=seed)
    ranked = [f["feature"] for f in permutation.get("features", [])] or order
    rows = _rows_by(deadline, GRID * row_seconds, MIN_PD_ROWS, PD_ROWS)
    out["importance"] = {"permutation": permutation, "shap": shap,
                         "partial_dependence": _partial_dependence(pipeline, ws, ranked, rng,
                                                                   deadline, rows=rows)}
    return out


def _row_seconds(pipeline: FittedPipeline, X: pd.DataFrame, rng) -> float:
    """Seconds per row of the pipeline's prediction, timed on a small sample (per-call
    overhead included, so an over- rather than underestimate)."""
    probe = _sample(X, PROBE_ROWS, rng)
    started = time.monotonic()
    pipeline.predict_output(probe)
    return (time.monotonic() - started) / max(len(probe), 1)


def _rows_by(deadline: float, seconds_per_row: float, least: int, most: int) -> int:
    """Rows a step can afford before ``deadline`` at ``seconds_per_row``, in [least, most]."""
    affordable = (deadline - time.monotonic()) / max(seconds_per_row, 1e-9)
    return int(min(max(affordable, least), most))


def fold_pipeline(pipeline: FittedPipeline, kept: list, ws, fold: int = 0) -> FittedPipeline | None:
    """The ensemble as it was in fold ``fold``: its members' fold models and preprocessors,
    so rows of that fold's validation part are truly unseen (None if a model is missing)."""
    weights = {m.name: m.weight for m in pipeline.members}  # after any --max-latency-ms drop
    kept = [(r, weights[r.name]) for r, _ in kept if r.name in weights]
    if not kept or any(len(r.models) <= fold for r, _ in kept):
        return None
    models = [r.models[fold] for r, _ in kept]  # read once (trial models may be on disk)
    if any(m is None for m in models):
        return None
    members = [Member(r.name, r.family, w, [m]) for (r, w), m in zip(kept, models)]
    profiles = {get_family(r.family).profile for r, _ in kept}
    return FittedPipeline(pipeline.schema, pipeline.task, pipeline.metric,
                          {p: [ws.fold(p, fold).preprocessor] for p in profiles}, members)


def _permutation(kept, ws, pipeline, metric, order, rng, *, row_seconds, deadline, seed) -> dict:
    held_out = fold_pipeline(pipeline, kept, ws)
    if held_out is None:
        return {"features": [], "not_computed": order,
                "note": "The fold models were not kept, so no held-out rows could be used."}
    n_repeats = 3 if len(order) <= 50 else 1
    # the unshuffled rows and the leading column's copies are scored whatever the clock says
    size = _rows_by(deadline, (1 + n_repeats) * row_seconds, MIN_PERMUTATION_ROWS, PERMUTATION_ROWS)
    valid = ws.folds.splits[0][1]
    rows = valid[subsample(ws.y[valid], size, ws.n_classes, rng)]  # every class kept
    found = permutation_importance(held_out.predict_output, ws.X.iloc[rows], ws.y[rows], metric,
                                   columns=order, n_repeats=n_repeats, seed=seed, deadline=deadline)
    if not np.isfinite(found["baseline"]):
        return {"features": [], "not_computed": order,
                "note": f"The {metric.name} of the held-out rows is undefined (too few rows of a class)."}
    return {"on": f"held-out rows of validation fold 1 ({len(rows):,} rows), scored by the "
                  "ensemble as trained without them", **found}


def _shap(pipeline, X: pd.DataFrame, deadline: float | None = None) -> dict | None:
    from .explain.tree_shap import shap_values

    result = shap_values(pipeline, X, deadline=deadline)
    if result is None:
        return None
    return {"space": result.space, "coverage": round(float(result.coverage), 6),
            "members": list(result.members), "n_rows": int(len(X)),
            "features": result.global_importance()}


def _partial_dependence(pipeline, ws, ranked: list[str], rng, deadline: float, *,
                        rows: int = PD_ROWS) -> list[dict]:
    """Curves for the top-ranked features on ``rows`` sampled rows; the first always runs
    (``rows`` times up to GRID values), so a review that starts late still shows the
    leading feature."""
    X = _sample(ws.X, rows, rng)
    curves = []
    for name in ranked:
        if len(curves) >= PD_FEATURES or (curves and time.monotonic() > deadline):
            break
        kind = pipeline.schema.kind_of(name)
        if kind not in ("numeric", "boolean", "categorical", "high_cardinality"):
            continue
        curve = partial_dependence(pipeline.predict_output, X, name,
                                   "numeric" if kind == "numeric" else "categorical",
                                   classes=pipeline.task.classes)
        if curve is not None:
            curves.append({**curve, "output": _output_label(pipeline)})
    return curves


def _output_label(pipeline) -> str:
    task = pipeline.task
    target = pipeline.schema.target
    if task.kind == "binary":
        return f"P({target} = {task.classes[1]})"
    if task.kind == "multiclass":
        return f"P({target} = class)"
    return f"predicted {target}"


def _sample(X: pd.DataFrame, n: int, rng) -> pd.DataFrame:
    if len(X) <= n:
        return X
    return X.iloc[np.sort(rng.choice(len(X), n, replace=False))]
