"""Metric values on many bootstrap resamples at once, from resample count matrices.

A resample is a row of counts ``C[b, i]`` (how often row ``i`` was drawn); every metric
mlexpert offers is then a few matrix products: means of per-row values (rmse, mae, mape,
log_loss, accuracy, r2), weighted confusion counts (f1, precision, recall,
balanced_accuracy) or weighted rank sums (roc_auc, ties counted half, one-vs-rest macro
for several classes). Each matches :meth:`Metric.score` on the resampled rows; a value
that is undefined on a resample (roc_auc on one class, r2 on a constant) is NaN.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..evaluation.metrics import Metric

_EPS = np.finfo(np.float64).eps  # sklearn's floor on |y| in mape


def resample_counts(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``size`` bootstrap resamples of ``n`` rows, as a (size, n) matrix of draw counts."""
    idx = rng.integers(0, n, size=(size, n))
    flat = (idx + (np.arange(size) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=size * n).reshape(size, n).astype(np.float64)


def row_losses(loss: str, y: np.ndarray, output: np.ndarray) -> np.ndarray:
    """One loss per row (lower is better)."""
    if loss == "squared_error":
        return (y - output) ** 2
    if loss == "absolute_error":
        return np.abs(y - output)
    if loss == "absolute_percentage_error":
        return np.abs(y - output) / np.maximum(np.abs(y), _EPS)
    if loss == "log_loss":  # as the metric computes it: clipped, renormalised
        p = np.clip(output, 1e-15, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        return -np.log(p[np.arange(len(y)), y])
    if loss == "zero_one":
        return (np.argmax(output, axis=1) != y).astype(float)
    raise ValueError(f"unknown per-row loss {loss!r}")


def counts_scorer(metric: Metric, y: np.ndarray,
                  output: np.ndarray) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function from a count matrix to the metric on each resample (None: not vectorised)."""
    name, n = metric.name, len(y)
    means = {"rmse": "squared_error", "mae": "absolute_error", "mape": "absolute_percentage_error",
             "log_loss": "log_loss", "accuracy": "zero_one"}
    if name in means:
        values = row_losses(means[name], y, output)
        finish = {"rmse": np.sqrt, "accuracy": lambda m: 1.0 - m}.get(name, lambda m: m)
        return lambda C: finish(C @ values / n)
    if name == "r2":
        return _r2(y, output)
    if name == "roc_auc":
        return _roc_auc(y, output)
    if name in ("f1", "precision", "recall", "balanced_accuracy"):
        return _confusion(name, y, output)
    return None


def _r2(y, output):
    n = len(y)
    centred = y - y.mean()  # the variance does not move; the subtraction below stays exact
    sq_err, first, second = (y - output) ** 2, centred, centred ** 2

    def scores(C):
        mean = C @ first / n
        total = C @ second / n - mean ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - (C @ sq_err / n) / total
        out[total <= 1e-12 * max(float(np.mean(second)), 1e-300)] = np.nan
        return out

    return scores


def _roc_auc(y, output):
    k = output.shape[1]
    columns = [1] if k == 2 else list(range(k))
    parts = [_binary_auc(y == c, output[:, c]) for c in columns]
    return lambda C: np.mean([part(C) for part in parts], axis=0)


def _binary_auc(positive: np.ndarray, score: np.ndarray):
    """AUC = P(score of a positive > score of a negative), ties half, with row weights."""
    order = np.argsort(score, kind="mergesort")
    sorted_score = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    pos = positive[order].astype(np.float64)

    def scores(C):
        W = C[:, order]
        P = np.add.reduceat(W * pos, starts, axis=1)
        N = np.add.reduceat(W * (1.0 - pos), starts, axis=1)
        below = np.cumsum(N, axis=1) - N
        total = P.sum(axis=1) * N.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, (P * (below + 0.5 * N)).sum(axis=1) / total, np.nan)

    return scores


def _confusion(name, y, output):
    k = output.shape[1]
    pred = np.argmax(output, axis=1)
    onehot_true = np.eye(k)[y]
    onehot_pred = np.eye(k)[pred]
    hit = onehot_true * onehot_pred

    def scores(C):
        T, P, TP = C @ onehot_true, C @ onehot_pred, C @ hit
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.where(T > 0, TP / T, 0.0)
            precision = np.where(P > 0, TP / P, 0.0)
            f1 = np.where(T + P > 0, 2 * TP / (T + P), 0.0)
        if name == "balanced_accuracy":  # classes absent from the truth do not count
            present = T > 0
            return np.where(present, recall, 0.0).sum(axis=1) / present.sum(axis=1)
        per_class = {"f1": f1, "precision": precision, "recall": recall}[name]
        if k == 2:  # sklearn's average="binary": the second class is the positive one
            return per_class[:, 1]
        present = (T + P) > 0  # macro over the labels seen in the truth or the predictions
        return np.where(present, per_class, 0.0).sum(axis=1) / present.sum(axis=1)

    return scores
