"""The model-family contract.

A family is a stateless object: it declares what it needs (``profile`` of preprocessing,
``requires`` libraries), proposes configurations (``default_configs``, ``search_space``),
fits a native model within a deadline (``fit``) and turns it into outputs (``predict``):
class probabilities of shape (n, k) for classification, values of shape (n,) for regression.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..utils._optional import is_available


SMALL_BATCH = 1000  # predict this many rows or fewer on one thread: more threads cost more than they save


@dataclass(frozen=True)
class FitContext:
    """Everything a family needs to know besides the data and its parameters.

    ``deadline`` is a :func:`time.monotonic` value: iterative learners must stop by then
    and return the model trained so far.
    """

    task: str
    n_classes: int
    n_threads: int
    seed: int
    deadline: float

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"


class ModelFamily(ABC):
    """Base of every model family (one module per family in this package)."""

    key: ClassVar[str]
    name: ClassVar[str]
    priority: ClassVar[int] = 50  # lower runs earlier in the default round
    profile: ClassVar[str] = "native"  # see mlexpert.features.PROFILES
    tasks: ClassVar[tuple[str, ...]] = ("binary", "multiclass", "regression")
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    max_rows: ClassVar[int | None] = None  # skipped above this many training rows
    refit_final: ClassVar[bool] = True  # refit on all rows after the search (else keep the folds)
    uses_threads: ClassVar[bool] = False  # one fit shares its work between threads

    @classmethod
    def missing_requirements(cls) -> list[str]:
        """Libraries this family needs that are not installed."""
        return [name for name in cls.requires if not is_available(name)]

    def supports(self, task: str, n_rows: int) -> bool:
        return task in self.tasks and (self.max_rows is None or n_rows <= self.max_rows)

    @abstractmethod
    def default_configs(self, task: str, n_rows: int, n_features: int) -> list[dict]:
        """A few strong configurations, best first."""

    @abstractmethod
    def search_space(self, trial: Any, task: str, n_rows: int, n_features: int) -> dict:
        """Sample one configuration from an Optuna ``trial``."""

    @abstractmethod
    def fit(self, X, y: np.ndarray, params: dict, ctx: FitContext, X_val=None, y_val=None) -> Any:
        """Fit and return a native model; use ``X_val`` for early stopping when given."""

    @abstractmethod
    def predict(self, model: Any, X, task: str) -> np.ndarray:
        """Probabilities (n, k) for classification, values (n,) for regression."""

    encoding: ClassVar[str] = "output"  # what encode() returns; members sharing it share inputs

    def encode(self, preprocessor: Any, X) -> Any:
        """Prediction inputs for this family from a fitted preprocessor (its ``transform``
        by default; a family may read a cheaper form that :meth:`predict` accepts too)."""
        return preprocessor.transform(X)

    def describe(self, model: Any) -> dict:
        """Facts learned during fit worth showing (e.g. the best iteration)."""
        return {}

    def refit_params(self, params: dict, fold_infos: list[dict], data_ratio: float) -> dict:
        """Parameters to fit on all rows without a validation set.

        ``fold_infos`` are :meth:`describe` of the fold models, ``data_ratio`` is all rows
        over a fold's training rows. Iterative families turn the iterations that early
        stopping chose into a fixed count; the others keep their parameters.
        """
        return dict(params)


MAX_ROUNDS = 10_000  # boosting rounds cap; early stopping or the deadline ends training first


def scaled_count(fold_infos: list[dict], key: str, data_ratio: float) -> int:
    """The mean of ``key`` over the fold models, grown with the data (more rows, more rounds).

    Rounds grow slower than the data: by half the relative increase (x1.125 after 5 folds).
    """
    mean = float(np.mean([info[key] for info in fold_infos]))
    return max(1, int(round(mean * (1.0 + 0.5 * (data_ratio - 1.0)))))


def early_stopping_rounds(learning_rate: float) -> int:
    """Patience that grows as the learning rate shrinks (30 to 200 rounds)."""
    return int(min(200, max(30, 5.0 / learning_rate)))


def deadline_reached(ctx: FitContext) -> bool:
    return time.monotonic() >= ctx.deadline


def as_probabilities(p: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) positive-class probabilities or (n, k) scores as a valid (n, k) matrix."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 1:
        p = np.column_stack([1.0 - p, p])
    if p.shape[1] != n_classes:
        raise ValueError(f"expected {n_classes} probability columns, got {p.shape[1]}")
    p = np.clip(p, 0.0, 1.0)
    total = p.sum(axis=1, keepdims=True)
    return np.divide(p, total, out=np.full_like(p, 1.0 / n_classes), where=total > 0)


def align_classes(proba: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    """Spread (n, len(present)) probabilities into (n, n_classes) columns.

    Needed when a training fold lacks a rare class: the missing columns get 0.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape[1] == n_classes:
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, np.asarray(present, dtype=int)] = proba
    return out
