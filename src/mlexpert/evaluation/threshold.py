"""Decision-threshold tuning for binary classifiers (``fit --optimize-threshold f1``).

The threshold on P(positive class) that maximises a label metric on the out-of-fold
outputs. Every distinct probability is a candidate cut; the chosen threshold is the
midpoint between the two outputs on either side of the best cut, so it generalises as
well as a single cut can. The out-of-fold score at the tuned threshold is slightly
optimistic (it was chosen on those rows); a ``--test`` table gives an unbiased check.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InvalidParameterError

TUNABLE = ("f1", "accuracy", "balanced_accuracy", "mcc")


def check_threshold_metric(name: str | None, task: str) -> str | None:
    """Validate ``--optimize-threshold`` early, before any training."""
    if name is None:
        return None
    key = name.strip().lower()
    if key not in TUNABLE:
        raise InvalidParameterError(
            f"--optimize-threshold must be one of {list(TUNABLE)}. Got {name!r} instead "
            "(precision or recall alone are maximised by a trivial threshold)."
        )
    if task != "binary":
        raise InvalidParameterError(
            f"--optimize-threshold applies to binary classification; this is a {task} task. "
            "Drop the option."
        )
    return key


def label_scores(y: np.ndarray, positive: np.ndarray) -> dict:
    """The tunable metrics of hard predictions (``positive``: predicted class 1)."""
    y = np.asarray(y).astype(bool)
    tp = float(np.sum(positive & y))
    fp = float(np.sum(positive & ~y))
    fn = float(np.sum(~positive & y))
    tn = float(len(y) - tp - fp - fn)
    return {name: float(v) for name, v in _metrics(tp, fp, fn, tn).items()}


def tune_threshold(y: np.ndarray, p_positive: np.ndarray, metric: str) -> dict:
    """The best threshold for ``metric`` and the scores at 0.5 and at that threshold."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p_positive, dtype=float)
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    # cut after position i: rows 0..i predicted positive; only cuts between distinct values
    last_of_value = np.r_[ps[1:] != ps[:-1], True]
    tp = np.cumsum(ys)[last_of_value].astype(float)
    fp = np.cumsum(~ys)[last_of_value].astype(float)
    n_pos, n_neg = float(ys.sum()), float((~ys).sum())
    scores = _metrics(tp, fp, n_pos - tp, n_neg - fp)[metric]
    best = int(np.nanargmax(scores))
    cut_values = ps[last_of_value]
    below = cut_values[best + 1] if best + 1 < len(cut_values) else 0.0
    # never exactly 0 or 1 (a model whose outputs reach 0 exactly, "flag everything")
    threshold = float(np.clip((cut_values[best] + below) / 2, 1e-6, 1 - 1e-6))
    default = label_scores(y, p >= 0.5)[metric]
    tuned = label_scores(y, p >= threshold)[metric]
    return {"metric": metric, "threshold": float(f"{threshold:.6g}"),
            "default": {metric: round(default, 6)}, "tuned": {metric: round(tuned, 6)}}


def _metrics(tp, fp, fn, tn) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = tp + fp + fn + tn
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        tpr = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        tnr = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
        denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        mcc = np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1.0), 0.0)
    return {"f1": f1, "accuracy": (tp + tn) / n, "balanced_accuracy": (tpr + tnr) / 2, "mcc": mcc}
