"""Metric values on many bootstrap resamples at once (numpy, no Python loop per resample).

``resampled_scores(name, y, output, picks)`` scores the rows ``picks[b]`` for every
resample ``b`` of a (B, m) index matrix, with the same definitions as
:mod:`mlexpert.evaluation.metrics` (which scores the point estimate with scikit-learn):
means of per-row losses; confusion-matrix metrics from per-resample counts (macro
averages over the classes present, zero when undefined, as scikit-learn's
``zero_division=0``); ROC AUC as the share of (positive, negative) pairs ranked
right, ties counting one half (one-vs-rest macro for multiclass). A resample where a metric is undefined scores NaN. The tests check
every metric against scikit-learn on the identity resample.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(np.float64).eps


def resampled_scores(name: str, y: np.ndarray, output: np.ndarray, picks: np.ndarray) -> np.ndarray | None:
    """Scores of metric ``name`` on each row set ``picks[b]``; None if the metric is not one
    this module knows (the caller then loops over scikit-learn)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if output.ndim == 1:
            return _regression(name, np.asarray(y, dtype=float), output, picks)
        return _classification(name, np.asarray(y, dtype=np.int64), output, picks)


def _regression(name, y, values, picks):
    error = y - values
    if name == "mae":
        return np.abs(error)[picks].mean(axis=1)
    if name == "rmse":
        return np.sqrt((error ** 2)[picks].mean(axis=1))
    if name == "mape":
        return (np.abs(error) / np.maximum(np.abs(y), _EPS))[picks].mean(axis=1)
    if name == "r2":
        residual = (error ** 2)[picks].mean(axis=1)
        spread = y[picks].var(axis=1)
        return np.where(spread > 0, 1 - residual / spread, np.nan)
    return None


def _classification(name, y, proba, picks):
    k = proba.shape[1]
    predicted = np.argmax(proba, axis=1)
    if name == "accuracy":
        return (predicted == y).astype(float)[picks].mean(axis=1)
    if name == "log_loss":
        p = np.clip(proba, 1e-15, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        return (-np.log(p[np.arange(len(y)), y]))[picks].mean(axis=1)
    if name == "roc_auc":
        if k == 2:
            return _auc(proba[:, 1], y == 1, picks)
        return np.mean([_auc(proba[:, c], y == c, picks) for c in range(k)], axis=0)
    if name in ("f1", "precision", "recall", "balanced_accuracy"):
        return _from_confusion(name, _confusions(y, predicted, k, picks), k)
    return None


def _auc(score: np.ndarray, positive: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """ROC AUC per resample: the share of (positive, negative) pairs ranked right, ties
    counting one half. Rows are sorted by score once; a resample's rows, drawn as positions
    in that order, are sorted by sorting the integer positions."""
    order = np.argsort(score, kind="stable")
    position = np.empty(len(score), dtype=np.int64)
    position[order] = np.arange(len(score))
    tie_group = np.concatenate([[0], np.cumsum(np.diff(score[order]) != 0)])
    drawn = np.sort(position[picks], axis=1)
    group, pos = tie_group[drawn], positive[order][drawn]
    neg = ~pos
    m = drawn.shape[1]
    index = np.arange(m)
    first = np.ones(group.shape, dtype=bool)
    first[:, 1:] = group[:, 1:] != group[:, :-1]
    last = np.ones(group.shape, dtype=bool)
    last[:, :-1] = first[:, 1:]
    start = np.maximum.accumulate(np.where(first, index, 0), axis=1)
    end = np.minimum.accumulate(np.where(last, index, m - 1)[:, ::-1], axis=1)[:, ::-1]
    negatives = np.cumsum(neg, axis=1)
    below = np.take_along_axis(negatives - neg, start, axis=1)  # negatives scored lower
    tied = np.take_along_axis(negatives, end, axis=1) - below  # negatives scored the same
    n1 = pos.sum(axis=1).astype(float)
    n0 = m - n1
    auc = (pos * (below + 0.5 * tied)).sum(axis=1) / (n1 * n0)
    return np.where((n1 > 0) & (n0 > 0), auc, np.nan)


def _confusions(y, predicted, k, picks) -> np.ndarray:
    """(B, k, k) confusion matrices (rows: actual, columns: predicted)."""
    cells = (y * k + predicted)[picks] + (np.arange(len(picks)) * k * k)[:, None]
    return np.bincount(cells.ravel(), minlength=len(picks) * k * k).reshape(len(picks), k, k)


def _from_confusion(name: str, cm: np.ndarray, k: int) -> np.ndarray:
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(float)
    actual, predicted = cm.sum(axis=2).astype(float), cm.sum(axis=1).astype(float)
    if name == "balanced_accuracy":
        present = actual > 0
        recall = np.where(present, tp / np.where(present, actual, 1), 0.0)
        return recall.sum(axis=1) / present.sum(axis=1)
    precision = np.where(predicted > 0, tp / np.where(predicted > 0, predicted, 1), 0.0)
    recall = np.where(actual > 0, tp / np.where(actual > 0, actual, 1), 0.0)
    both = actual + predicted
    f1 = np.where(both > 0, 2 * tp / np.where(both > 0, both, 1), 0.0)
    per_class = {"precision": precision, "recall": recall, "f1": f1}[name]
    if k == 2:  # scikit-learn's average="binary": the positive class (index 1)
        return per_class[:, 1]
    present = both > 0  # macro average over the labels present in y_true or y_pred
    return (per_class * present).sum(axis=1) / present.sum(axis=1)
