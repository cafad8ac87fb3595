"""Numeric and boolean columns: imputation, missing indicators, scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import QuantileTransformer

from ._frame import as_float

_TRUE = {"true", "yes", "y", "t", "1", "1.0"}


def boolean_to_float(col: pd.Series | np.ndarray) -> np.ndarray:
    """Booleans (or yes/no strings) as 1.0 / 0.0 / NaN. A numpy array holds one record's
    plain values (see :mod:`mlexpert.data.record`): numbers and booleans as floats."""
    if isinstance(col, np.ndarray):
        return np.array([np.nan if v is None else float(v) if not isinstance(v, str)
                         else float(v.strip().lower() in _TRUE) for v in col], dtype=float)
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return as_float(col)
    lowered = col.astype(object).map(lambda v: None if pd.isna(v) else str(v).strip().lower())
    return np.array([np.nan if v is None else float(v in _TRUE) for v in lowered], dtype=float)


def _plain_number(dtype) -> bool:
    """Integer, float or boolean (numpy or nullable): read in one block by ``to_numpy``, with
    the values :func:`as_float` and :func:`boolean_to_float` give for such a column."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iufb"
    return (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype))


class NumericBlock(TransformerMixin, BaseEstimator):
    """Numbers: optional median imputation, missing indicators and scaling.

    ``scale`` is None, ``"standard"`` (clipped z-scores) or ``"quantile"`` (Gaussian ranks,
    robust to outliers; the choice of current tabular neural networks).
    """

    def __init__(self, *, impute: bool = True, indicator: bool = True, scale: str | None = None,
                 boolean: tuple[str, ...] = ()):
        self.impute = impute
        self.indicator = indicator
        self.scale = scale
        self.boolean = boolean

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        m = self._read(X, list(X.columns))
        m[~np.isfinite(m)] = np.nan
        return m

    def _read(self, X, names: list[str]) -> np.ndarray:
        """``names`` as a float matrix (NaN for missing, booleans as 1/0). A frame's columns
        of plain number dtypes are read as one block: reading 800 columns one by one costs
        ~0.1 s a call, which made wide tables slow to score."""
        n = len(X)
        if not names:
            return np.empty((n, 0))
        plain = []
        if isinstance(X, pd.DataFrame):
            dtypes = dict(zip(X.columns, X.dtypes))
            plain = [i for i, c in enumerate(names) if _plain_number(dtypes[c])]
        if len(plain) < 2:
            return np.column_stack([self._column(X, c) for c in names])
        m = np.empty((n, len(names)))
        m[:, plain] = X[[names[i] for i in plain]].to_numpy(dtype="float64", na_value=np.nan)
        rest = np.setdiff1d(np.arange(len(names)), plain)
        for i in rest:
            m[:, i] = self._column(X, names[i])
        return m

    def _column(self, X, name: str) -> np.ndarray:
        return boolean_to_float(X[name]) if name in self.boolean else as_float(X[name])

    def fit(self, X: pd.DataFrame, y=None):
        m = self._matrix(X)
        with np.errstate(all="ignore"):
            med = np.nanmedian(m, axis=0) if m.size else np.zeros(m.shape[1])
        self.medians_ = np.where(np.isnan(med), 0.0, med)
        self.indicator_columns_ = np.flatnonzero(np.isnan(m).any(axis=0)) if self.indicator else []
        filled = np.where(np.isnan(m), self.medians_, m)
        if self.scale == "standard":
            self.mean_ = filled.mean(axis=0)
            std = filled.std(axis=0)
            self.std_ = np.where(std > 0, std, 1.0)
        elif self.scale == "quantile" and filled.shape[1]:
            self.quantile_ = QuantileTransformer(
                n_quantiles=min(1000, max(len(filled), 10)), output_distribution="normal",
                subsample=200_000, random_state=0,
            ).fit(filled)
        self.names_ = list(X.columns) + [f"{X.columns[i]}__missing" for i in self.indicator_columns_]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return self._finish(self._matrix(X))

    def transform_columns(self, X: pd.DataFrame, names: list[str], extra=None) -> np.ndarray:
        """``transform`` of ``X[names]`` with the ``extra`` matrix's columns appended, without
        building that frame (selecting columns costs ~0.1 ms a call in pandas)."""
        m = self._read(X, names)
        if extra is not None:
            m = np.hstack([m, extra])
        m[~np.isfinite(m)] = np.nan
        return self._finish(m)

    def _finish(self, m: np.ndarray) -> np.ndarray:
        missing = np.isnan(m)
        if self.impute or self.scale:
            m = np.where(missing, self.medians_, m)
        if self.scale == "standard":
            m = np.clip((m - self.mean_) / self.std_, -10, 10)
        elif self.scale == "quantile" and m.shape[1]:
            m = self.quantile_.transform(m)
        parts = [m]
        if len(self.indicator_columns_):
            parts.append(missing[:, self.indicator_columns_].astype(float))
        return np.hstack(parts).astype(np.float32)
