"""The one scoring module every framework worker uses.

Every framework hands over the same things: for classification a probability matrix
with the class label of each column, for regression the predicted values. Scores are
computed here, identically for all frameworks, on the original test labels.

Primary metrics (from the dataset manifest): binary ``roc_auc``, multiclass ``log_loss``,
regression ``rmse``. Secondary: accuracy, balanced_accuracy, f1_macro (classification;
labels are the argmax of the probabilities), mae and r2 (regression).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

GREATER_IS_BETTER = {
    "roc_auc": True, "log_loss": False, "accuracy": True, "balanced_accuracy": True,
    "f1_macro": True, "rmse": False, "mae": False, "r2": True,
}
EPS = 1e-15


def label_key(value) -> str:
    """A label as a comparable string: 1, 1.0, np.int64(1) and "1" all give "1"."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def align_proba(proba, classes, y_true) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reorder ``proba`` columns to a canonical label order and encode ``y_true``.

    The canonical order is the model's classes (by label key, sorted) plus any test label
    the model never saw (probability 0 there, so it costs the full log-loss penalty).
    Returns (probabilities (n, k), y as column indices (n,), label keys).
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(f"probabilities of shape {proba.shape} do not match {len(classes)} classes")
    model_keys = [label_key(c) for c in classes]
    if len(set(model_keys)) != len(model_keys):
        raise ValueError(f"duplicate class labels: {model_keys}")
    y_keys = [label_key(v) for v in y_true]
    keys = sorted(set(model_keys) | set(y_keys))
    position = {k: i for i, k in enumerate(keys)}
    aligned = np.zeros((proba.shape[0], len(keys)))
    for j, k in enumerate(model_keys):
        aligned[:, position[k]] = proba[:, j]
    return aligned, np.array([position[k] for k in y_keys], dtype=np.int64), keys


def classification_scores(y_true, proba, classes) -> dict:
    """Primary and secondary classification metrics from probabilities."""
    p, y, keys = align_proba(proba, classes, y_true)
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities contain NaN or infinite values")
    k = len(keys)
    labels = np.argmax(p, axis=1)
    clipped = np.clip(p, EPS, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    out = {"log_loss": skm.log_loss(y, clipped, labels=np.arange(k))}
    if k == 2:
        out["roc_auc"] = skm.roc_auc_score(y, p[:, 1])
    else:
        present = np.unique(y)
        # macro one-vs-rest AUC over the classes present in the test split
        out["roc_auc"] = float(np.mean([skm.roc_auc_score(y == c, p[:, c]) for c in present]))
    out["accuracy"] = skm.accuracy_score(y, labels)
    out["balanced_accuracy"] = skm.balanced_accuracy_score(y, labels)
    out["f1_macro"] = skm.f1_score(y, labels, average="macro", zero_division=0)
    return {name: float(v) for name, v in out.items()}


def regression_scores(y_true, values) -> dict:
    y = np.asarray(y_true, dtype=float)
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.shape != y.shape:
        raise ValueError(f"{v.shape[0]} predictions for {y.shape[0]} rows")
    if not np.all(np.isfinite(v)):
        raise ValueError("predictions contain NaN or infinite values")
    return {"rmse": float(skm.root_mean_squared_error(y, v)),
            "mae": float(skm.mean_absolute_error(y, v)),
            "r2": float(skm.r2_score(y, v))}


def score(task: str, metric: str, y_true, *, proba=None, classes=None, values=None) -> dict:
    """All metrics for one prediction, with ``primary`` = {name, value, greater_is_better}."""
    if task in ("binary", "multiclass"):
        metrics = classification_scores(y_true, proba, classes)
    elif task == "regression":
        metrics = regression_scores(y_true, values)
    else:
        raise ValueError(f"unsupported task {task!r}")
    if metric not in metrics:
        raise ValueError(f"metric {metric!r} is not computed for {task}")
    return {"primary": {"name": metric, "value": metrics[metric],
                        "greater_is_better": GREATER_IS_BETTER[metric]},
            "metrics": metrics}


def relative_loss(value: float, reference: float, greater_is_better: bool) -> float:
    """How much worse ``value`` is than ``reference``, relative to |reference| (>0 = worse)."""
    if value is None or reference is None or not (math.isfinite(value) and math.isfinite(reference)):
        return math.nan
    diff = (reference - value) if greater_is_better else (value - reference)
    return diff / max(abs(reference), 1e-12)
