"""Datetime columns expanded into numeric parts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute")


def to_datetime(col: pd.Series) -> pd.Series:
    """Parse a column as naive datetimes (unparseable values become NaT)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        out = col
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(col, errors="coerce", format="mixed", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


class DatetimeBlock(TransformerMixin, BaseEstimator):
    """Each datetime column as calendar parts that vary in training, plus absolute time."""

    def fit(self, X: pd.DataFrame, y=None):
        self.parts_ = {}
        for c in X.columns:
            dt = to_datetime(X[c])
            self.parts_[c] = [p for p in _PARTS if getattr(dt.dt, p).nunique() > 1]
        self.names_ = [f"{c}__{p}" for c, ps in self.parts_.items() for p in ps]
        self.names_ += [f"{c}__days" for c in self.parts_]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c, parts in self.parts_.items():
            dt = to_datetime(X[c])
            for p in parts:
                blocks.append(getattr(dt.dt, p).to_numpy(dtype=float, na_value=np.nan))
            days = (dt - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0
            blocks.append(days.to_numpy(dtype=float, na_value=np.nan))
        blocks = [blocks[i] for i in _reorder(self.parts_)]
        return np.column_stack(blocks).astype(np.float32) if blocks else np.empty((len(X), 0))


def _reorder(parts: dict) -> list[int]:
    """Indices that put every column's parts first, then every column's ``days``."""
    part_idx, day_idx, i = [], [], 0
    for ps in parts.values():
        part_idx.extend(range(i, i + len(ps)))
        day_idx.append(i + len(ps))
        i += len(ps) + 1
    return part_idx + day_idx
