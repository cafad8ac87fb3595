"""Permutation importance for any model: how much the score drops when one column's values
are shuffled across rows (breaking its link to the target, keeping its distribution)."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

BATCH_ROWS = 20_000  # permuted copies scored together, to share per-call overhead


def permutation_importance(predict_output: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame,
                           y: np.ndarray, metric, *, columns: list[str] | None = None,
                           n_repeats: int = 3, seed: int = 0,
                           deadline: float | None = None) -> dict:
    """Mean and std of the score drop per column (positive: the model relies on it).

    ``columns`` are done in the order given (most likely important first), so a
    ``deadline`` leaves the least interesting ones out: they are listed under
    ``not_computed``. Batches (up to ``BATCH_ROWS`` rows, whole columns) are sized by the
    prediction speed measured on the unshuffled rows to end by the deadline, so a slow model
    scores fewer columns rather than overrunning; the first column's repeats always run, so
    a late start still ranks the leading column. ``metric`` is a
    :class:`~mlexpert.evaluation.metrics.Metric`.
    """
    columns = list(columns if columns is not None else X.columns)
    X = X.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    sign = 1.0 if metric.greater_is_better else -1.0
    started = time.monotonic()
    base = _score(metric, y, predict_output(X))
    row_seconds = (time.monotonic() - started) / max(len(X), 1)  # measured prediction cost
    if not np.isfinite(base):
        return {"metric": metric.name, "baseline": float("nan"), "n_repeats": n_repeats,
                "n_rows": int(len(X)), "features": [], "not_computed": columns}
    per_batch = max(n_repeats, BATCH_ROWS // max(len(X), 1))  # a batch completes a column
    drops: dict[str, list[float]] = {}
    jobs = [(c, r) for c in columns for r in range(n_repeats)]
    start = 0
    while start < len(jobs):
        size = _fitting(per_batch, n_repeats, len(X) * row_seconds, deadline)
        if not size and start:
            break
        batch = jobs[start:start + max(size, n_repeats)]  # the leading column always runs
        start += len(batch)
        frames = []
        for column, _ in batch:
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
            frames.append(shuffled)
        output = predict_output(pd.concat(frames, ignore_index=True))
        for i, (column, _) in enumerate(batch):
            part = output[i * len(X):(i + 1) * len(X)]
            drops.setdefault(column, []).append(sign * (base - _score(metric, y, part)))
    done = [c for c in columns if len(drops.get(c, ())) == n_repeats]
    features = sorted(({"feature": c, "mean": _r(np.mean(drops[c])), "std": _r(np.std(drops[c]))}
                       for c in done), key=lambda f: -f["mean"])
    return {"metric": metric.name, "baseline": _r(base), "n_repeats": n_repeats,
            "n_rows": int(len(X)), "features": features,
            "not_computed": [c for c in columns if c not in done]}


def _fitting(per_batch: int, n_repeats: int, copy_seconds: float, deadline: float | None) -> int:
    """How many permuted copies the next batch can score before ``deadline`` (whole columns
    only; 0 when not even one column would finish in time)."""
    if deadline is None:
        return per_batch
    fits = int((deadline - time.monotonic()) / max(copy_seconds, 1e-9))
    return max(0, min(per_batch, fits - fits % n_repeats))


def _score(metric, y, output) -> float:
    """The metric, or NaN where it is undefined on these rows (e.g. AUC with one class)."""
    try:
        return metric.score(y, output)
    except ValueError:
        return float("nan")


def _r(value) -> float:
    return round(float(value), 6)
