"""Check a table before training or prediction, and fix what can be fixed with a warning."""

from __future__ import annotations

import difflib
from collections import Counter
import warnings

import numpy as np
import pandas as pd

from ..exceptions import DataError, DataWarning, InvalidParameterError
from .conform import conform_features
from .schema import Schema

_MAX_LISTED = 15


def prepare_training_table(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """Validate ``df`` for training on ``target``; return a cleaned copy with a RangeIndex.

    Rows with a missing target are dropped and infinite feature values become NaN,
    each with a :class:`DataWarning`; unusable data raises :class:`DataError`.
    """
    df, target = _as_frame(df, "training data"), str(target)
    if target not in df.columns:
        raise DataError(_unknown_target(target, list(df.columns)))
    y = df[target]
    missing = y.isna()
    if missing.all():
        raise DataError(f"Target column {target!r} has no values (all {len(df)} rows are "
                        "missing). Choose another target or fill it in.")
    if _is_float(y):
        n_inf = int(np.isinf(y[~missing].to_numpy(dtype=float)).sum())
        if n_inf:
            raise DataError(f"Target column {target!r} has {_count(n_inf, 'infinite value')}. "
                            "Replace or remove those rows before training.")
    if missing.any():
        warnings.warn(f"Dropped {_count(int(missing.sum()), 'row')} whose target {target!r} "
                      "is missing.", DataWarning, stacklevel=2)
        df = df.loc[~missing]
    df = df.reset_index(drop=True).copy()
    return _replace_infinite(df, [c for c in df.columns if c != target])


def prepare_prediction_table(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Return the feature columns of ``df`` in ``schema`` order, with a RangeIndex.

    Extra columns are ignored. Numeric features that arrive as strings are read as
    numbers (unreadable values become NaN, with a :class:`DataWarning`); ±inf become NaN.
    """
    df = _as_frame(df, "data to predict")
    features, names = schema.features, df.columns.tolist()  # a list: iterating an Index is slow
    present = set(names)
    absent = [c for c in features if c not in present]
    if absent:
        raise DataError(f"The data is missing {_count(len(absent), 'required column')}: "
                        f"{_quoted(absent, limit=len(absent))}. Add them (other columns are "
                        "ignored).")
    counts = Counter(names)
    repeated = [c for c in features if counts[c] > 1] if len(counts) < len(names) else []
    if repeated:
        verb = "appears" if len(repeated) == 1 else "appear"
        raise DataError(f"Column names must be unique; {_quoted(repeated)} {verb} more than "
                        "once. Rename the duplicates.")
    if names == features and isinstance(df.index, pd.RangeIndex) and df.index.start == 0 \
            and df.index.step == 1:
        out = df.copy()  # already in order (as the server builds it): skip a costly selection
    else:
        out = df[features].reset_index(drop=True).copy()
    out = conform_features(out, schema)  # e.g. integer categories that arrive as floats
    dtypes = _dtypes(out)
    for name in schema.names("numeric"):
        if pd.api.types.is_numeric_dtype(dtypes[name]) and not pd.api.types.is_bool_dtype(dtypes[name]):
            continue
        col = out[name]
        numbers = pd.to_numeric(col, errors="coerce")
        lost = int((numbers.isna() & col.notna()).sum())
        if lost:
            warnings.warn(f"Column {name!r} should be numeric; {_count(lost, 'value')} could not "
                          "be read as numbers and are treated as missing.", DataWarning,
                          stacklevel=2)
        out[name] = numbers.astype(float)
    return _replace_infinite(out, list(out.columns))


def _as_frame(df, what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(f"The {what} must be a pandas DataFrame, got "
                                    f"{type(df).__name__}. Load files with read_table().")
    if len(df) == 0 or len(df.columns) == 0:
        raise DataError(f"The {what} is empty ({len(df)} rows, {len(df.columns)} columns). "
                        "Pass a table with at least one row.")
    if any(not isinstance(c, str) for c in df.columns):
        df = df.set_axis([str(c) for c in df.columns], axis=1)
    return df


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _quoted(names: list[str], limit: int = _MAX_LISTED) -> str:
    text = ", ".join(repr(n) for n in names[:limit])
    return text + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


def _unknown_target(target: str, columns: list[str]) -> str:
    by_lower = {c.lower(): c for c in columns}
    guesses = [by_lower[target.lower()]] if target.lower() in by_lower else []
    close = difflib.get_close_matches(target, columns, n=3, cutoff=0.6)
    close += [by_lower[c] for c in difflib.get_close_matches(target.lower(), list(by_lower), n=3)]
    guesses += [c for c in dict.fromkeys(close) if c not in guesses]
    hint = f" Did you mean {' or '.join(repr(g) for g in guesses[:3])}?" if guesses else ""
    return (f"Target column {target!r} is not in the data.{hint} "
            f"Columns: {_quoted(columns)}.")


def _dtypes(df: pd.DataFrame) -> dict:
    """Column name -> dtype, read once (selecting a column costs more than its dtype)."""
    return dict(zip(df.columns.tolist(), df.dtypes.tolist()))


def _is_float(col: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(col)


def _replace_infinite(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    counts = {}
    dtypes = _dtypes(df)
    for name in columns:
        if not pd.api.types.is_float_dtype(dtypes[name]):
            continue
        col = df[name]
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(values).any():
            mask = np.isinf(values)
            counts[name] = int(mask.sum())
            df[name] = col.mask(mask)
    if counts:
        listed = ", ".join(f"{n!r} ({k})" for n, k in counts.items())
        warnings.warn(f"Replaced infinite values with missing values in "
                      f"{_count(len(counts), 'column')}: "
                      f"{listed}.", DataWarning, stacklevel=3)
    return df
