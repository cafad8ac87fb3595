"""Helpers to read columns the same way under pandas 2.x and 3.x."""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING_TOKEN = "__missing__"


def as_strings(col: pd.Series | np.ndarray) -> np.ndarray:
    """Object array of str values, ``None`` for missing.

    A numpy array is a column of :class:`~mlexpert.data.record.RecordColumns`: plain
    Python values with ``None`` for missing, read as their DataFrame column would be."""
    if isinstance(col, np.ndarray):
        values = col
    else:
        values = col.to_numpy(dtype=object, na_value=None)
    out = np.empty(len(values), dtype=object)
    out[:] = [v if v is None or type(v) is str else str(v) for v in values]
    return out


def as_float(col: pd.Series | np.ndarray) -> np.ndarray:
    """Float array, NaN for missing or non-numeric values (a numpy array is already numbers)."""
    if isinstance(col, np.ndarray):
        return np.asarray(col, dtype="float64")
    if pd.api.types.is_bool_dtype(col):
        return col.astype("float64").to_numpy()
    if pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
