"""A full assessment of model outputs: every usual metric, bootstrap confidence intervals,
the confusion matrix and calibration (classification) or residual analysis (regression).

Used on the out-of-fold outputs of the final ensemble during ``fit`` and on a labelled
test table (``fit --test``). Outputs follow the metric registry's convention: class
probabilities (n, k) or values (n,); ``y`` is encoded (class indices or floats).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.stats import rankdata
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

N_BOOTSTRAP = 200
MAX_BOOTSTRAP_ROWS = 5_000  # bigger tables: m-out-of-n bootstrap, intervals scaled by sqrt(m/n)
CALIBRATION_BINS = 10
MAX_CURVE_POINTS = 200  # ROC / PR points kept for the report's charts
MAX_RESIDUAL_SAMPLE = 500  # (predicted, actual) pairs kept for the residual plot
MAX_OVR_CLASSES = 10  # multiclass one-vs-rest curves only up to this many classes


def assess(y: np.ndarray, output: np.ndarray, classes: tuple = (), *, seed: int = 0,
           n_bootstrap: int = N_BOOTSTRAP, threshold: float | None = None) -> dict:
    """Metrics with 95% bootstrap intervals, plus task-specific diagnostics (JSON-ready)."""
    y, output = np.asarray(y), np.asarray(output, dtype=float)
    if output.ndim == 2:
        labels = [str(c) for c in classes] or [str(i) for i in range(output.shape[1])]
        point = _classification_metrics(y, output, threshold)
        extra = _classification_details(y, output, labels, threshold)
        funcs = partial(fast_classification_metrics, threshold=threshold)
    else:
        point = _regression_metrics(y, output)
        extra = _residuals(y, output, seed)
        funcs = _regression_metrics
    intervals = _bootstrap(y, output, funcs, point, seed, n_bootstrap)
    metrics = {name: {"value": _round(value), **intervals.get(name, {})}
               for name, value in point.items()}
    if threshold is not None and output.ndim == 2 and output.shape[1] == 2:
        extra["decision_threshold"] = _round(threshold)
    return {"n_rows": int(len(y)), "metrics": metrics, **extra}


def predicted_labels(p: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Class indices: the most probable class, or for binary with a ``threshold``,
    class 1 when its probability is at least the threshold."""
    if threshold is not None and p.shape[1] == 2:
        return (p[:, 1] >= threshold).astype(int)
    return np.argmax(p, axis=1)


def _classification_metrics(y, p, threshold=None) -> dict:
    k = p.shape[1]
    pred = predicted_labels(p, threshold)
    present = np.unique(y)
    out = {"accuracy": skm.accuracy_score(y, pred),
           "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
           "f1_macro": skm.f1_score(y, pred, average="macro", labels=np.arange(k), zero_division=0),
           "precision_macro": skm.precision_score(y, pred, average="macro", labels=np.arange(k),
                                                  zero_division=0),
           "recall_macro": skm.recall_score(y, pred, average="macro", labels=np.arange(k),
                                            zero_division=0)}
    clipped = np.clip(p, 1e-15, 1.0)
    out["log_loss"] = skm.log_loss(y, clipped / clipped.sum(axis=1, keepdims=True), labels=np.arange(k))
    out["brier"] = float(np.mean(np.sum((p - np.eye(k)[y.astype(int)]) ** 2, axis=1)))
    if len(present) < 2:
        return out
    if k == 2:
        out["roc_auc"] = skm.roc_auc_score(y, p[:, 1])
        out["pr_auc"] = skm.average_precision_score(y, p[:, 1])
        out["f1"] = skm.f1_score(y, pred, zero_division=0)
    elif len(present) == k:
        out["roc_auc"] = skm.roc_auc_score(y, p, multi_class="ovr", average="macro")
        out["pr_auc"] = float(np.mean([skm.average_precision_score(y == c, p[:, c]) for c in range(k)]))
    return out


def fast_classification_metrics(y, p, threshold=None) -> dict:
    """The bootstrapped classification metrics in plain numpy (sklearn's checks cost ~10x)."""
    k = p.shape[1]
    y = y.astype(int)
    pred = predicted_labels(p, threshold)
    counts = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    support, predicted, hits = counts.sum(axis=1), counts.sum(axis=0), np.diag(counts)
    recall = np.divide(hits, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(hits, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=(precision + recall) > 0)
    clipped = np.clip(p, 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    out = {"accuracy": hits.sum() / len(y), "balanced_accuracy": recall[support > 0].mean(),
           "f1_macro": f1.mean(), "precision_macro": precision.mean(), "recall_macro": recall.mean(),
           "log_loss": -np.mean(np.log(clipped[np.arange(len(y)), y])),
           "brier": float(np.mean(np.sum((p - np.eye(k)[y]) ** 2, axis=1)))}
    if k == 2:  # multiclass AUC (k rankings per resample) is reported without an interval
        out["f1"] = f1[1]
        if (support > 0).all():
            out["roc_auc"] = _auc(y == 1, p[:, 1])
    return out


def _auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (Mann-Whitney U), ties counted half."""
    n_pos = positive.sum()
    n_neg = len(positive) - n_pos
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _classification_details(y, p, labels: list[str], threshold=None) -> dict:
    k = p.shape[1]
    pred = predicted_labels(p, threshold)
    report = skm.classification_report(y, pred, labels=np.arange(k), target_names=labels,
                                       output_dict=True, zero_division=0)
    per_class = {name: {m: _round(v) for m, v in report[name].items()} for name in labels}
    matrix = skm.confusion_matrix(y, pred, labels=np.arange(k))
    # binary: calibration of the positive class; multiclass: of the top-label confidence
    if k == 2:
        prob, hit = p[:, 1], (y == 1)
    else:
        prob, hit = p.max(axis=1), (pred == y)
    frac, mean = calibration_curve(hit.astype(int), prob, n_bins=CALIBRATION_BINS, strategy="quantile")
    ece = _expected_calibration_error(hit, prob)
    out = {"per_class": per_class,
           "confusion_matrix": {"labels": labels, "matrix": matrix.tolist()},
           "calibration": {"kind": "positive class" if k == 2 else "top label",
                           "mean_predicted": [_round(v) for v in mean],
                           "fraction_positive": [_round(v) for v in frac],
                           "expected_calibration_error": _round(ece)}}
    curves = _curves(y, p, labels)
    if curves:
        out["curves"] = curves
    return out


def _curves(y, p, labels: list[str]) -> dict:
    """ROC and precision-recall curves (binary), or one-vs-rest per class (multiclass, up to
    MAX_OVR_CLASSES), each downsampled to at most MAX_CURVE_POINTS points."""
    k = p.shape[1]
    if k == 2:
        return _binary_curves(y == 1, p[:, 1]) or {}
    if k > MAX_OVR_CLASSES:
        return {}
    per_class = {}
    for c, label in enumerate(labels):
        curves = _binary_curves(y == c, p[:, c])
        if curves:
            per_class[label] = curves
    return {"one_vs_rest": per_class} if per_class else {}


def _binary_curves(positive: np.ndarray, score: np.ndarray) -> dict | None:
    """ROC (fpr, tpr) and PR (recall, precision, threshold: predict positive when score >=
    threshold; the last point, recall 0, has threshold null) of one positive class."""
    if positive.all() or not positive.any():
        return None
    fpr, tpr, _ = skm.roc_curve(positive, score)
    precision, recall, thresholds = skm.precision_recall_curve(positive, score)
    keep = _downsample(len(fpr))
    roc = {"fpr": [_round(v) for v in fpr[keep]], "tpr": [_round(v) for v in tpr[keep]]}
    keep = _downsample(len(recall))
    thr = [_round(thresholds[i]) if i < len(thresholds) else None for i in keep]
    pr = {"recall": [_round(v) for v in recall[keep]],
          "precision": [_round(v) for v in precision[keep]], "threshold": thr}
    return {"roc": roc, "pr": pr}


def _downsample(n: int, limit: int = MAX_CURVE_POINTS) -> np.ndarray:
    """At most ``limit`` evenly spaced indices of ``range(n)``, both ends included."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def _expected_calibration_error(hit, prob, bins: int = CALIBRATION_BINS) -> float:
    edges = np.quantile(prob, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(hit[mask].mean() - prob[mask].mean())
    return float(total)


def _regression_metrics(y, v) -> dict:
    out = {"rmse": skm.root_mean_squared_error(y, v), "mae": skm.mean_absolute_error(y, v),
           "median_absolute_error": skm.median_absolute_error(y, v), "r2": skm.r2_score(y, v)}
    if np.all(np.abs(y) > 1e-9):
        out["mape"] = skm.mean_absolute_percentage_error(y, v)
    return out


def _residuals(y, v, seed: int = 0) -> dict:
    r = y - v
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(y), size=min(len(y), MAX_RESIDUAL_SAMPLE), replace=False))
    order = np.argsort(-np.abs(r))[:10]
    spread = float(np.corrcoef(np.abs(r), v)[0, 1]) if np.std(v) > 0 and np.std(r) > 0 else 0.0
    return {"residuals": {
        "mean": _round(r.mean()), "std": _round(r.std()),
        "quantiles": {str(q): _round(np.quantile(r, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
        "abs_residual_vs_prediction_corr": _round(spread),
        "largest": [{"row": int(i), "actual": _round(y[i]), "predicted": _round(v[i])} for i in order],
        "sample": {"predicted": [_round(v[i]) for i in sample],
                   "actual": [_round(y[i]) for i in sample]},
    }}


def _bootstrap(y, output, funcs, point: dict, seed: int, n: int) -> dict:
    """95% percentile intervals. On more than MAX_BOOTSTRAP_ROWS rows, resamples of m rows
    are drawn and each interval's half-widths shrunk by sqrt(m/n) (the m-out-of-n bootstrap)."""
    if n <= 0 or len(y) < 10:
        return {}
    rng = np.random.default_rng(seed)
    m = min(len(y), MAX_BOOTSTRAP_ROWS)
    shrink = np.sqrt(m / len(y))
    draws: dict[str, list] = {}
    for _ in range(n):
        idx = rng.integers(0, len(y), m)
        for name, value in funcs(y[idx], output[idx]).items():
            draws.setdefault(name, []).append(value)
    out = {}
    for name, values in draws.items():
        if len(values) < 0.9 * n or name not in point:
            continue
        low, high = np.percentile(values, [2.5, 97.5])
        centre = point[name]
        out[name] = {"ci_low": _round(centre - (centre - low) * shrink),
                     "ci_high": _round(centre + (high - centre) * shrink)}
    return out


def _round(value) -> float:
    return round(float(value), 6)
