"""Categorical columns: native categories, strings, ordinal codes, one-hot, target encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn import __version__ as _sk_version
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, TargetEncoder

from ._frame import MISSING_TOKEN, as_strings

sklearn_version = tuple(int(p) for p in _sk_version.split(".")[:2])

def _target_encoder(target_type: str, random_state: int) -> TargetEncoder:
    """A seeded, cross-fitted TargetEncoder (the ``cv`` splitter API is new in scikit-learn 1.9)."""
    if "cv" in TargetEncoder._parameter_constraints and sklearn_version >= (1, 9):
        splitter = (StratifiedKFold if target_type != "continuous" else KFold)(
            5, shuffle=True, random_state=random_state)
        return TargetEncoder(target_type=target_type, cv=splitter)
    return TargetEncoder(target_type=target_type, random_state=random_state)


MODES = ("category", "string", "ordinal", "onehot", "target", "codes")


class CategoryBlock(TransformerMixin, BaseEstimator):
    """Encode string-like columns; unseen categories never raise.

    Modes: ``category`` (pandas categorical, for LightGBM/XGBoost native handling),
    ``string`` (for CatBoost), ``ordinal`` (frequency-rank codes + frequency),
    ``onehot`` (sparse), ``target`` (cross-fitted target means + frequency), ``codes``
    (integers 1..K for embeddings, 0 = unseen or rare).
    """

    def __init__(self, *, mode: str = "ordinal", max_levels: int = 200, min_count: int = 3,
                 target_type: str = "continuous", random_state: int = 0):
        self.mode = mode
        self.max_levels = max_levels
        self.min_count = min_count
        self.target_type = target_type
        self.random_state = random_state

    def _strings(self, X: pd.DataFrame, columns=None) -> np.ndarray:
        cols = [as_strings(X[c]) for c in (X.columns if columns is None else columns)]
        m = np.column_stack(cols) if cols else np.empty((len(X), 0), dtype=object)
        m[pd.isna(m)] = MISSING_TOKEN
        return m

    def fit(self, X: pd.DataFrame, y=None):
        self._fit(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None, **_):
        m = self._fit(X, y)
        if self.mode == "target":
            return self._combine_target(self.encoder_.fit_transform(m, y), m)
        return self._transform(m, len(X))

    def _fit(self, X: pd.DataFrame, y):
        self.__dict__.pop("_level_index_", None)
        self.__dict__.pop("_category_dtypes_", None)
        m = self._strings(X)
        self.columns_ = list(X.columns)
        self.levels_ = []
        self.frequency_ = []
        for j in range(m.shape[1]):
            values, counts = np.unique(m[:, j], return_counts=True)
            order = np.argsort(-counts, kind="stable")
            values, counts = values[order], counts[order]
            keep = counts >= min(self.min_count, counts.max())
            self.levels_.append(list(values[keep][: self.max_levels]))
            self.frequency_.append(dict(zip(values, counts / len(m))))
        if self.mode == "onehot":
            self.encoder_ = OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=self.min_count,
                max_categories=self.max_levels, sparse_output=True, dtype=np.float32,
            ).fit(m)
        elif self.mode == "target":
            self.encoder_ = _target_encoder(self.target_type, self.random_state)
        self.cardinalities_ = [len(lv) + 1 for lv in self.levels_]
        return m

    def transform(self, X: pd.DataFrame):
        """Encode the fitted columns of ``X`` (other columns of ``X`` are ignored)."""
        m = self._strings(X, self.columns_)
        if self.mode == "target":
            return self._combine_target(self.encoder_.transform(m), m)
        return self._transform(m, len(X))

    def category_codes(self, X: pd.DataFrame) -> np.ndarray:
        """The ``category`` mode's output as float codes (NaN for unseen or rare values):
        what a model reading the categorical frame sees, without building it."""
        codes = (self._codes(self._strings(X, self.columns_)) - 1).astype(np.float64)
        codes[codes < 0] = np.nan
        return codes

    def _frequencies(self, m: np.ndarray) -> np.ndarray:
        return np.column_stack([
            np.array([self.frequency_[j].get(v, 0.0) for v in m[:, j]]) for j in range(m.shape[1])
        ]) if m.shape[1] else np.empty((len(m), 0))

    def _codes(self, m: np.ndarray) -> np.ndarray:
        out = np.zeros(m.shape, dtype=np.int64)
        for j, index in enumerate(self._level_index()):
            out[:, j] = [index.get(v, 0) for v in m[:, j]]
        return out

    def _category_dtypes(self) -> list[pd.CategoricalDtype]:
        """The pandas dtype of each column's kept levels, built once (building one hashes
        every level: ~0.1 ms a column on every call otherwise)."""
        dtypes = self.__dict__.get("_category_dtypes_")
        if dtypes is None:
            dtypes = [pd.CategoricalDtype(levels) for levels in self.levels_]
            self._category_dtypes_ = dtypes
        return dtypes

    def _level_index(self) -> list[dict]:
        """Code of each kept level (1-based) per column, built once per fitted block."""
        index = self.__dict__.get("_level_index_")
        if index is None:
            index = [{v: i + 1 for i, v in enumerate(levels)} for levels in self.levels_]
            self._level_index_ = index
        return index

    def _combine_target(self, encoded: np.ndarray, m: np.ndarray) -> np.ndarray:
        return np.hstack([encoded, self._frequencies(m)]).astype(np.float32)

    def _transform(self, m: np.ndarray, n: int):
        if self.mode == "onehot":
            return self.encoder_.transform(m)
        if self.mode == "codes":
            return self._codes(m)
        if self.mode == "ordinal":
            codes = self._codes(m).astype(np.float32)
            codes[codes == 0] = -1.0
            return np.hstack([codes, self._frequencies(m)]).astype(np.float32)
        if self.mode == "string":
            return pd.DataFrame(m, columns=self.columns_)
        codes = self._codes(m) - 1  # -1 marks unseen or rare values: missing for the model
        dtypes = self._category_dtypes()
        frame = {c: pd.Categorical.from_codes(codes[:, j], dtype=dtypes[j], validate=False)
                 for j, c in enumerate(self.columns_)}
        return pd.DataFrame(frame)
