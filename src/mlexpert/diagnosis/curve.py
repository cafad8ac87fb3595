"""A learning curve: train and validation error as the training set grows.

Errors are normalised so one yardstick serves every task: the loss divided by the loss of
the *null model* that always predicts the training prior (classification: log loss over
the prior's entropy) or the training mean (regression: MSE over the variance, 1 - R²).
0 is perfect, 1 is no better than knowing nothing about the row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

FRACTIONS = (0.125, 0.25, 0.5, 1.0)
MIN_ROWS = 10  # a smaller training subset is not a point of the curve
EPS = 1e-15


@dataclass
class CurvePoint:
    """One training size: normalised errors, the user's metric, and per-row validation losses."""

    n_train: int
    fraction: float
    train_error: float
    valid_error: float
    train: float = float("nan")  # the user's metric, when one is given
    valid: float = float("nan")
    valid_row_loss: np.ndarray = field(default=None, repr=False)

    def to_dict(self) -> dict:
        out = {"n_train": self.n_train, "fraction": round(self.fraction, 4),
               "train_error": _r(self.train_error), "valid_error": _r(self.valid_error)}
        if np.isfinite(self.train):
            out.update(train=_r(self.train), valid=_r(self.valid))
        return out


def row_losses(y: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Per-row log loss (probabilities (n, k)) or squared error (values (n,))."""
    output = np.asarray(output, dtype=float)
    if output.ndim == 2:
        p = np.clip(output[np.arange(len(y)), np.asarray(y, dtype=int)], EPS, 1.0)
        return -np.log(p)
    return (np.asarray(y, dtype=float) - output) ** 2


def null_loss(y_train: np.ndarray, n_classes: int) -> float:
    """Mean loss of the prior / mean predictor (on its own training rows)."""
    if n_classes:
        prior = np.bincount(np.asarray(y_train, dtype=int), minlength=n_classes) / len(y_train)
        prior = prior[prior > 0]
        return float(-(prior * np.log(prior)).sum())
    return float(np.var(np.asarray(y_train, dtype=float)))


def subsample(y: np.ndarray, size: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` row positions of ``y``; classification keeps every class (stratified)."""
    n = len(y)
    if size >= n:
        return np.arange(n)
    if not n_classes:
        return np.sort(rng.choice(n, size, replace=False))
    picked = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        k = max(1, int(round(size * len(rows) / n)))
        picked.append(rng.choice(rows, min(k, len(rows)), replace=False))
    return np.sort(np.concatenate(picked))


@dataclass
class Split:
    """One train/validation split of a learning curve; ``full`` are the outputs (on the
    training rows, on the validation rows) of a model already trained on all its rows."""

    y_train: np.ndarray
    y_valid: np.ndarray
    full: tuple[np.ndarray, np.ndarray] | Callable[[], tuple] | None = None  # callable: lazy


def learning_curve(fit_predict: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]],
                   splits: list[Split], *, n_classes: int, fractions=FRACTIONS, seed: int = 0,
                   deadline: float | None = None, seconds_per_row: float | None = None,
                   score=None) -> list[CurvePoint]:
    """Fit on growing subsets of the training rows and score each fit on both sides.

    ``fit_predict(s, rows)`` trains on those training-row positions of split ``s`` and
    returns the outputs on those rows and on the split's validation rows. Splits are done
    one after the other, each at every size, and averaged; a split whose expected cost
    (``seconds_per_row`` times its rows to fit) would pass ``deadline`` is not started,
    but the first split always is, skipping the sizes that would not fit in time.
    ``score(y, output)`` adds the user's metric to each point.
    """
    rng = np.random.default_rng(seed)
    sizes = sorted(f for f in fractions if f * len(splits[0].y_train) >= MIN_ROWS)
    done: list[list[CurvePoint]] = []
    for s, split in enumerate(splits):
        if null_loss(split.y_train, n_classes) <= 0:  # one class / a constant target: no scale
            continue
        rows_to_fit = sum(f * len(split.y_train) for f in sizes if f < 1.0 or split.full is None)
        if done and not _in_time(deadline, seconds_per_row, rows_to_fit):
            break
        points = []
        for fraction in sizes:
            size = int(round(fraction * len(split.y_train)))
            if fraction >= 1.0 and split.full is not None:
                full = split.full() if callable(split.full) else split.full
                rows, (out_train, out_valid) = np.arange(len(split.y_train)), full
            elif not done and not _in_time(deadline, seconds_per_row, size):
                continue
            else:
                rows = subsample(split.y_train, size, n_classes, rng)
                out_train, out_valid = fit_predict(s, rows)
            points.append(_point(split, rows, out_train, out_valid, n_classes, score))
        done.append(points)
    return _average(done)


def _in_time(deadline, seconds_per_row, rows) -> bool:
    return deadline is None or time.monotonic() + (seconds_per_row or 0.0) * rows <= deadline


def _point(split: Split, rows, out_train, out_valid, n_classes: int, score) -> CurvePoint:
    base = null_loss(split.y_train, n_classes)
    valid_loss = row_losses(split.y_valid, out_valid) / base
    point = CurvePoint(len(rows), len(rows) / len(split.y_train),
                       float(row_losses(split.y_train[rows], out_train).mean() / base),
                       float(valid_loss.mean()), valid_row_loss=valid_loss)
    if score is not None:
        point.train = score(split.y_train[rows], out_train)
        point.valid = score(split.y_valid, out_valid)
    return point


def _average(done: list[list[CurvePoint]]) -> list[CurvePoint]:
    """Mean over splits of the sizes every split has (the first split's when alone)."""
    if not done:
        return []
    common = [p.fraction for p in done[0]]
    runs = [r for r in done if [p.fraction for p in r] == common] or done[:1]
    out = []
    for i, first in enumerate(runs[0]):
        group = [r[i] for r in runs]
        out.append(CurvePoint(
            int(round(np.mean([p.n_train for p in group]))), first.fraction,
            float(np.mean([p.train_error for p in group])),
            float(np.mean([p.valid_error for p in group])),
            float(np.mean([p.train for p in group])), float(np.mean([p.valid for p in group])),
            valid_row_loss=np.concatenate([p.valid_row_loss for p in group])))
    return out


def take_rows(X, rows: np.ndarray):
    """Rows of an encoded matrix: DataFrame, array, sparse matrix or the MLP's dict."""
    if hasattr(X, "iloc"):
        return X.iloc[rows].reset_index(drop=True)
    if isinstance(X, dict):
        return {key: (value[rows] if isinstance(value, np.ndarray) else value)
                for key, value in X.items()}
    return X[rows]


def _r(value: float) -> float:
    return round(float(value), 6)
