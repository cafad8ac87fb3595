"""The model's metric on the logged predictions that got feedback, against its validation
estimate.

Logged predictions are turned back into the model output the metric scores ((n, k) class
probabilities in the task's class order, or (n,) values) and the outcomes into encoded
targets, then scored with the fit's own metric (:func:`mlexpert.evaluation.metrics.get_metric`).
The 95% confidence interval is a bootstrap: ``RESAMPLES`` resamples of the labelled rows,
or, above ``SUBSAMPLE`` rows, of ``SUBSAMPLE`` rows with the spread rescaled by
sqrt(m/n) (the m-out-of-n bootstrap), which keeps the cost flat on large windows.

Verdict: ``decay`` when the whole interval is worse than the validation estimate
(``cv_score``) by more than ``tolerance`` (relative: 5% of |cv_score| by default);
``ok`` otherwise; ``None`` (no verdict) under ``min_labelled`` labelled rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..evaluation.metrics import Metric, get_metric
from ._bootstrap import resampled_scores
from ._coerce import category_key

RESAMPLES = 200
SUBSAMPLE = 5_000
PERFORMANCE_THRESHOLDS = {"decay_tolerance": 0.05, "min_labelled": 30}


def model_output(prediction: np.ndarray, proba: pd.DataFrame | None, kind: str,
                 classes: list) -> np.ndarray:
    """The output the metric scores, from logged predictions and probabilities: class
    probabilities (a one-hot of the logged label where none were logged; NaN rows where
    the label is not a class) or predicted values."""
    if kind == "regression":
        return pd.to_numeric(pd.Series(prediction), errors="coerce").to_numpy(dtype=float)
    n, k = len(prediction), len(classes)
    out = np.full((n, k), np.nan)
    if proba is not None and len(proba.columns):
        by_key = {category_key(c): c for c in proba.columns}
        for j, cls in enumerate(classes):
            column = by_key.get(category_key(cls))
            if column is not None:
                out[:, j] = proba[column].to_numpy(dtype=float)
    logged = np.isfinite(out).all(axis=1)
    if not logged.all():
        codes = class_codes(prediction, classes)
        rows = np.flatnonzero(~logged & (codes >= 0))
        out[~logged] = np.nan
        out[rows] = 0.0
        out[rows, codes[rows]] = 1.0
    return out


def class_codes(values, classes: list) -> np.ndarray:
    """Class indices of labels (``-1``: missing or not one of the classes); ``1``, ``1.0``
    and ``"1"`` are the same class."""
    index = {category_key(c): i for i, c in enumerate(classes)}
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    lookup = np.array([index.get(category_key(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]


def encode_actual(values, kind: str, classes: list) -> tuple[np.ndarray, np.ndarray]:
    """Encoded outcomes and the mask of usable ones (known class, finite number)."""
    if kind == "regression":
        y = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
        return y, np.isfinite(y)
    codes = class_codes(values, classes)
    return codes, codes >= 0


def evaluate(metric_name: str | None, kind: str, y: np.ndarray, output: np.ndarray,
             cv_score: float | None, *, decay_tolerance: float = 0.05, min_labelled: int = 30,
             seed: int = 0) -> dict:
    """The metric on labelled rows with its bootstrap 95% CI and the decay verdict."""
    metric = get_metric(metric_name, kind)
    keep = np.isfinite(output).all(axis=1) if output.ndim == 2 else np.isfinite(output)
    y, output = y[keep], output[keep]
    entry = {"metric": metric.name, "greater_is_better": metric.greater_is_better,
             "n": int(len(y)), "value": None, "ci_low": None, "ci_high": None,
             "reference": _finite(cv_score), "tolerance": decay_tolerance, "verdict": None,
             "detail": ""}
    if len(y) < min_labelled:
        entry["detail"] = (f"{len(y)} labelled predictions (< {min_labelled}): too few for a "
                           "verdict")
        return entry
    value = _score(metric, y, output)
    if value is None:
        entry["detail"] = "the metric is undefined on these rows (e.g. only one class among the outcomes)"
        return entry
    low, high = bootstrap_ci(metric, y, output, seed=seed)
    entry.update(value=value, ci_low=low, ci_high=high)
    entry["verdict"], entry["detail"] = _verdict(metric, value, low, high, entry["reference"],
                                                 decay_tolerance)
    return entry


def bootstrap_ci(metric: Metric, y: np.ndarray, output: np.ndarray, *, level: float = 0.95,
                 resamples: int = RESAMPLES, subsample: int = SUBSAMPLE,
                 seed: int = 0) -> tuple[float | None, float | None]:
    """Bootstrap confidence interval of ``metric`` (basic bootstrap, m-out-of-n above
    ``subsample`` rows). Resamples where the metric is undefined are skipped."""
    point = _score(metric, y, output)
    if point is None:
        return None, None
    n = len(y)
    picks = _picks(n, resamples, subsample, seed)
    draws = _resampled(metric, y, output, picks)
    deviation = _interval(draws - point, level, resamples, picks.shape[1], n)
    if deviation is None:
        return None, None
    low, high = point - deviation[1], point - deviation[0]
    return float(_clip(metric, low)), float(_clip(metric, high))


def _picks(n: int, resamples: int, subsample: int, seed: int) -> np.ndarray:
    """(resamples, m) row indices drawn with replacement, m = min(n, subsample)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, min(n, subsample)))


def _resampled(metric: Metric, y: np.ndarray, output: np.ndarray, picks: np.ndarray) -> np.ndarray:
    scores = resampled_scores(metric.name, y, output, picks)
    if scores is None:  # a metric without a vectorised form: one scikit-learn call each
        scores = np.array([_score(metric, y[i], output[i]) for i in picks], dtype=float)
    return np.asarray(scores, dtype=float)


def _interval(deviations: np.ndarray, level: float, resamples: int, m: int, n: int):
    """Quantiles of the resampled deviations from the estimate, rescaled by sqrt(m/n) for
    the m-out-of-n bootstrap; None when most resamples were undefined."""
    deviations = deviations[np.isfinite(deviations)]
    if len(deviations) < resamples // 2:
        return None
    alpha = (1 - level) / 2
    low, high = np.quantile(deviations, [alpha, 1 - alpha]) * math.sqrt(m / n)
    return float(low), float(high)


def _score(metric: Metric, y: np.ndarray, output: np.ndarray) -> float | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = metric.score(y, output)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _clip(metric: Metric, value: float) -> float:
    """Keep an interval end inside the metric's range (scores in [0, 1]; errors >= 0)."""
    if metric.name in ("roc_auc", "accuracy", "balanced_accuracy", "f1", "precision", "recall"):
        return min(1.0, max(0.0, value))
    if not metric.greater_is_better:
        return max(0.0, value)
    return min(1.0, value) if metric.name == "r2" else value


def _verdict(metric: Metric, value: float, low: float | None, high: float | None,
             reference: float | None, tolerance: float) -> tuple[str | None, str]:
    shown = f"{metric.name} {_g(value)}" + (f" (95% CI {_g(low)} to {_g(high)})" if low is not None else "")
    if reference is None:
        return None, f"{shown}; no validation estimate to compare with"
    margin = tolerance * abs(reference)
    if metric.greater_is_better:
        bound, worse = reference - margin, high is not None and high < reference - margin
    else:
        bound, worse = reference + margin, low is not None and low > reference + margin
    where = f"validation estimate {_g(reference)}, decay threshold {_g(bound)}"
    if worse:
        return "decay", f"{shown} is worse than the {where}"
    return "ok", f"{shown}; {where}"


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _g(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def paired_difference(metric: Metric, y: np.ndarray, base: np.ndarray, other: np.ndarray, *,
                      level: float = 0.95, resamples: int = RESAMPLES,
                      subsample: int = SUBSAMPLE, seed: int = 0) -> dict:
    """How much better ``other`` scores than ``base`` on the same rows (positive: better,
    whatever the metric's direction), with a paired bootstrap CI (same resamples for both)."""
    sign = 1.0 if metric.greater_is_better else -1.0
    a, b = _score(metric, y, base), _score(metric, y, other)
    out = {"base": a, "other": b, "improvement": None, "ci_low": None, "ci_high": None}
    if a is None or b is None:
        return out
    point = sign * (b - a)
    picks = _picks(len(y), resamples, subsample, seed)
    draws = sign * (_resampled(metric, y, other, picks) - _resampled(metric, y, base, picks))
    deviation = _interval(draws - point, level, resamples, picks.shape[1], len(y))
    out["improvement"] = float(point)
    if deviation is not None:
        out["ci_low"], out["ci_high"] = float(point - deviation[1]), float(point - deviation[0])
    return out
