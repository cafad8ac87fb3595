"""Values as the drift statistics count them, from training frames and from logged JSON.

The same functions read the training data (when the reference profile is built) and the
prediction log (when a window is counted), so both sides are counted alike: numbers as
finite float64 (numeric strings parsed, anything else missing), datetimes as UNIX
seconds, free text as its length in characters, categories as canonical string keys.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from ..features.datetime import to_datetime

NUMERIC_KINDS = ("numeric", "datetime", "text")
CATEGORY_KINDS = ("boolean", "categorical", "high_cardinality")
MEASURE = {"numeric": "value", "datetime": "unix_seconds", "text": "length"}
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def numeric_values(col: pd.Series, kind: str = "numeric") -> np.ndarray:
    """The column as float64 for a numeric-like ``kind``; missing, unparseable and
    non-finite values are NaN."""
    if kind == "datetime":
        values = _unix_seconds(col)
    elif kind == "text":
        values = col.astype("string").str.len().to_numpy(dtype=float, na_value=np.nan)
    elif str(col.dtype).lower() == "float32":
        values = _widened(col.to_numpy(dtype=np.float32, na_value=np.nan))
    elif pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return _finite(values)


def _widened(values: np.ndarray) -> np.ndarray:
    """float32 as the float64 of its shortest decimal form (0.1f -> 0.1, as JSON carries it)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return unique.astype(str).astype(float)[inverse]


def _unix_seconds(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(col):
        return _seconds(to_datetime(col))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds = _seconds(pd.to_datetime(col, errors="coerce", utc=True, format="ISO8601"))
    retry = np.isnan(seconds) & col.notna().to_numpy()
    if retry.any():  # not ISO 8601: the training pipeline's lenient parser
        seconds[retry] = _seconds(to_datetime(col[retry]))
    return seconds


def _seconds(parsed: pd.Series) -> np.ndarray:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = parsed.to_numpy().astype("datetime64[us]")
    seconds = stamps.astype(np.int64) / 1e6
    seconds[np.isnat(stamps)] = np.nan
    return seconds


def category_counts(col: pd.Series, kind: str) -> tuple[dict[str, int], int]:
    """Count of each canonical category key, and the number of missing values."""
    missing = int(col.isna().sum())
    try:
        counts = col.value_counts(dropna=True, sort=False)
    except TypeError:  # unhashable values (lists, objects from JSON): their text
        counts = col[col.notna()].astype(str).value_counts(sort=False)
    out: dict[str, int] = {}
    boolean = kind == "boolean"
    for value, count in zip(counts.index.tolist(), counts.to_numpy().tolist()):
        if count:
            key = category_key(value, boolean)
            out[key] = out.get(key, 0) + int(count)
    return out, missing


def category_key(value, boolean: bool = False) -> str:
    """Canonical string of a category: ``True`` and ``"true"``, ``3``, ``3.0`` and ``"3"`` match."""
    if isinstance(value, (bool, np.bool_)):
        key = "true" if value else "false"
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        key = str(int(value))
    elif isinstance(value, np.generic):
        key = str(value.item())
    else:
        key = str(value)
    if boolean:
        low = key.strip().lower()
        key = "true" if low in _TRUE else "false" if low in _FALSE else low
    return key


def invalid_count(col: pd.Series, values: np.ndarray) -> int:
    """Values that were given but could not be read as the profiled kind."""
    return int((col.notna().to_numpy() & np.isnan(values)).sum())


def prediction_parts(output, task_kind: str, classes, n_rows: int | None = None) -> dict:
    """The prediction distribution(s) of model ``output``: ``{"value": floats}`` for
    regression, ``{"labels": Series, "score": floats}`` for classification (argmax label;
    positive-class probability when binary, highest probability when multiclass)."""
    out = np.asarray(output, dtype=float)
    if n_rows is not None and len(out) != n_rows:
        raise InvalidParameterError(
            f"The model output has {len(out)} rows but the frame has {n_rows}; "
            "pass the output computed for these same rows."
        )
    if task_kind == "regression":
        if out.ndim != 1:
            out = out.reshape(len(out), -1)[:, 0] if out.ndim == 2 and out.shape[1] == 1 else None
        if out is None:
            raise InvalidParameterError("A regression model output must be one value per row.")
        return {"value": _finite(out)}
    k = len(classes)
    if out.ndim == 1 and k == 2:
        out = np.column_stack([1.0 - out, out])
    if out.ndim != 2 or out.shape[1] != k:
        raise InvalidParameterError(
            f"A classification model output must be (rows, {k}) class probabilities in "
            f"the order {list(classes)}; got shape {out.shape}."
        )
    missing = ~np.isfinite(out).all(axis=1)
    keys = np.array([category_key(c) for c in classes], dtype=object)
    labels = pd.Series(keys[np.argmax(np.nan_to_num(out, nan=-1.0), axis=1)], dtype=object)
    labels[missing] = None
    score = out[:, 1] if k == 2 else out.max(axis=1)
    return {"labels": labels, "score": _finite(np.where(missing, np.nan, score))}


def _finite(values: np.ndarray) -> np.ndarray:
    """float64 values with infinities as NaN (copied only when something changes)."""
    values = np.asarray(values, dtype=float)
    bad = np.isinf(values)
    if bad.any():
        values = values.copy()
        values[bad] = np.nan
    return values
