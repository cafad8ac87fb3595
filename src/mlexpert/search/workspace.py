"""Training data, folds, and fold-wise preprocessed matrices shared by all trials."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..features import TablePreprocessor
from .cv import Folds
from .spill import ModelSpill


@dataclass
class FoldView:
    """One fold as a model sees it: a fitted preprocessor and encoded matrices."""

    preprocessor: TablePreprocessor
    X_train: object
    y_train: np.ndarray
    X_valid: object
    y_valid: np.ndarray
    valid_index: np.ndarray


@dataclass
class Workspace:
    """The encoded training problem. Preprocessing is fitted inside each fold (no leakage)
    and cached per profile, so every trial of a profile reuses the same matrices."""

    X: pd.DataFrame
    y: np.ndarray
    task: str
    n_classes: int
    columns: dict
    folds: Folds
    seed: int = 0
    spill: ModelSpill = field(default_factory=ModelSpill, repr=False)  # trials' fold models on disk
    _cache: dict = field(default_factory=dict, repr=False)
    _full: dict = field(default_factory=dict, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        return sum(len(v) for v in self.columns.values())

    def fold(self, profile: str, i: int) -> FoldView:
        key = (profile, i)
        if key not in self._cache:
            tr, va = self.folds.splits[i]
            pp = TablePreprocessor(columns=self.columns, profile=profile, task=self.task,
                                   random_state=self.seed)
            X_train = pp.fit_transform(self.X.iloc[tr], self.y[tr])
            X_valid = pp.transform(self.X.iloc[va])
            self._cache[key] = FoldView(pp, X_train, self.y[tr], X_valid, self.y[va], va)
        return self._cache[key]

    def full(self, profile: str):
        """Every row encoded by a preprocessor fitted on every row (for refits)."""
        if profile not in self._full:
            pp = TablePreprocessor(columns=self.columns, profile=profile, task=self.task,
                                   random_state=self.seed)
            self._full[profile] = (pp, pp.fit_transform(self.X, self.y))
        return self._full[profile][1]

    def full_preprocessor(self, profile: str) -> TablePreprocessor:
        return self._full[profile][0]

    def preprocessors(self, profile: str) -> list[TablePreprocessor]:
        return [self.fold(profile, i).preprocessor for i in range(len(self.folds))]

    def release(self) -> None:
        """Drop the encoded matrices and the spilled trial models (keeping fitted
        preprocessors is done by the caller)."""
        self.spill.close()
        self._cache.clear()
        self._full = {p: (pp, None) for p, (pp, _) in self._full.items()}
