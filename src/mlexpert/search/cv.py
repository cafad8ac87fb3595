"""Validation splits: stratified / grouped / time-ordered k-fold, or a holdout on big data."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import (GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold,
                                     TimeSeriesSplit, train_test_split)

HOLDOUT_FRACTION = 0.2
MAX_CELLS_FOR_CV = 4_000_000


@dataclass(frozen=True)
class Folds:
    """Train/validation index pairs and how they were made."""

    splits: list[tuple[np.ndarray, np.ndarray]]
    strategy: str

    @property
    def validated(self) -> np.ndarray:
        """Rows that receive an out-of-fold prediction."""
        return np.unique(np.concatenate([va for _, va in self.splits]))

    def __len__(self) -> int:
        return len(self.splits)


def make_folds(y: np.ndarray, *, classification: bool, n_folds: int, seed: int,
               n_features: int = 1, holdout_rows: int = 100_000,
               groups: np.ndarray | None = None, times: np.ndarray | None = None) -> Folds:
    """Choose and build the validation scheme for ``y``.

    k-fold CV by default; a single holdout when the table is large (many rows or cells),
    because k fits per trial would not leave room for a search within the budget.
    """
    n = len(y)
    holdout = n > holdout_rows or n * max(n_features, 1) > MAX_CELLS_FOR_CV
    index = np.arange(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rare classes in stratified splits
        if times is not None:
            order = np.argsort(times, kind="stable")
            k = 1 if holdout else n_folds
            splitter = TimeSeriesSplit(n_splits=max(k, 2), test_size=n // (k + 1))
            splits = [(order[tr], order[va]) for tr, va in splitter.split(order)][-k:]
            return Folds(splits, f"time-ordered, {len(splits)} fold(s)")
        if groups is not None:
            return _group_folds(y, groups, classification, n_folds, seed, holdout)
        if holdout:
            strat = y if classification and _stratifiable(y, 2) else None
            tr, va = train_test_split(index, test_size=HOLDOUT_FRACTION, random_state=seed, stratify=strat)
            return Folds([(np.sort(tr), np.sort(va))], f"holdout {1 - HOLDOUT_FRACTION:.0%}/{HOLDOUT_FRACTION:.0%}")
        if classification and _stratifiable(y, 2):
            splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
            return Folds(list(splitter.split(index, y)), f"stratified {n_folds}-fold")
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
        return Folds(list(splitter.split(index)), f"{n_folds}-fold")


def _stratifiable(y: np.ndarray, min_count: int) -> bool:
    return np.bincount(y.astype(int)).max() >= min_count


def _group_folds(y, groups, classification, n_folds, seed, holdout) -> Folds:
    n_groups = len(np.unique(groups))
    k = min(5 if holdout else n_folds, n_groups)
    if classification:
        splitter = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(k, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.arange(len(y)), y, groups))
    if holdout:
        return Folds(splits[:1], f"group holdout ({n_groups} groups)")
    return Folds(splits, f"group {k}-fold ({n_groups} groups)")
