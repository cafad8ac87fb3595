"""Metric registry.

Every metric scores *model outputs*: class probabilities of shape (n, k) for
classification, values of shape (n,) for regression. ``loss`` turns any metric into
a number to minimise, so search and ensembling never branch on the direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.stats import rankdata
from sklearn import metrics as skm

from ..exceptions import InvalidParameterError

CLASSIFICATION = ("binary", "multiclass")


@dataclass(frozen=True)
class Metric:
    """A scoring function with its direction and the tasks it applies to."""

    name: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    func: Callable[[np.ndarray, np.ndarray, int], float]
    fast: Callable[[np.ndarray, np.ndarray, int], float] | None = None  # same value, no checks

    def score(self, y_true: np.ndarray, output: np.ndarray) -> float:
        """Score model ``output`` (probabilities or values) against encoded ``y_true``."""
        n_classes = output.shape[1] if output.ndim == 2 else 0
        return float(self.func(np.asarray(y_true), np.asarray(output), n_classes))

    def loss(self, y_true: np.ndarray, output: np.ndarray) -> float:
        """The score as a quantity to minimise."""
        value = self.score(y_true, output)
        return -value if self.greater_is_better else value

    def fast_loss(self, y_true: np.ndarray, output: np.ndarray) -> float:
        """:meth:`loss` for hot loops (ensemble selection) over arrays already checked: the
        same value in plain numpy, without scikit-learn's input validation (~1 ms a call)."""
        if self.fast is None:
            return self.loss(y_true, output)
        value = float(self.fast(y_true, output, output.shape[1] if output.ndim == 2 else 0))
        return -value if self.greater_is_better else value


def _labels(output: np.ndarray) -> np.ndarray:
    return np.argmax(output, axis=1)


def _average(n_classes: int) -> str:
    return "binary" if n_classes == 2 else "macro"


def _roc_auc(y, p, k):
    if k == 2:
        return skm.roc_auc_score(y, p[:, 1])
    return skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=np.arange(k))


def _log_loss(y, p, k):
    p = np.clip(p, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return skm.log_loss(y, p, labels=np.arange(k))


def _roc_auc_fast(y, p, k):
    """Binary ROC AUC as the Mann-Whitney statistic with mid-ranks (ties count half)."""
    if k != 2:
        return _roc_auc(y, p, k)
    positive = y == 1
    n_pos = int(positive.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(p[:, 1])
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _log_loss_fast(y, p, k):
    p = np.clip(p, 1e-15, 1.0)
    picked = p[np.arange(len(y)), y] / p.sum(axis=1)
    eps = np.finfo(p.dtype).eps  # as scikit-learn clips
    return float(-np.mean(np.log(np.clip(picked, eps, 1 - eps))))


def _mape(y, v, _k):
    return skm.mean_absolute_percentage_error(y, v)


_BOTH = CLASSIFICATION
_REG = ("regression",)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", True, _BOTH, _roc_auc, _roc_auc_fast),
        Metric("log_loss", False, _BOTH, _log_loss, _log_loss_fast),
        Metric("accuracy", True, _BOTH, lambda y, p, k: skm.accuracy_score(y, _labels(p))),
        Metric(
            "balanced_accuracy", True, _BOTH,
            lambda y, p, k: skm.balanced_accuracy_score(y, _labels(p)),
        ),
        Metric(
            "f1", True, _BOTH,
            lambda y, p, k: skm.f1_score(y, _labels(p), average=_average(k), zero_division=0),
        ),
        Metric(
            "precision", True, _BOTH,
            lambda y, p, k: skm.precision_score(y, _labels(p), average=_average(k), zero_division=0),
        ),
        Metric(
            "recall", True, _BOTH,
            lambda y, p, k: skm.recall_score(y, _labels(p), average=_average(k), zero_division=0),
        ),
        Metric("rmse", False, _REG, lambda y, v, k: skm.root_mean_squared_error(y, v),
               lambda y, v, k: math.sqrt(np.mean((y - v) ** 2))),
        Metric("mae", False, _REG, lambda y, v, k: skm.mean_absolute_error(y, v),
               lambda y, v, k: float(np.mean(np.abs(y - v)))),
        Metric("r2", True, _REG, lambda y, v, k: skm.r2_score(y, v)),
        Metric("mape", False, _REG, _mape),
    ]
}

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def get_metric(name: str | None, task: str) -> Metric:
    """Return the metric called ``name`` (or the task's default), checked against the task."""
    if name is None:
        return METRICS[DEFAULT_METRIC[task]]
    key = name.strip().lower()
    if key not in METRICS:
        raise InvalidParameterError(
            f"The 'metric' parameter must be one of {sorted(METRICS)}. Got {name!r} instead."
        )
    metric = METRICS[key]
    if task not in metric.tasks:
        allowed = sorted(n for n, m in METRICS.items() if task in m.tasks)
        raise InvalidParameterError(
            f"The metric {key!r} does not apply to a {task} task. Use one of {allowed}."
        )
    return metric
