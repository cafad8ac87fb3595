"""Give prediction rows the dtypes their training columns had, guided by the schema.

Categorical and text features are compared as strings, where ``7``, ``7.0`` and
``"007"`` differ, and pandas infers dtypes from the rows at hand: integers with one
missing value become floats (``7.0``), and JSON numbers in a list with a ``null`` do too.
The schema records each column's training dtype; :func:`conform_features` casts
whole-number floats back to integers when training saw integers or text, and integers to
floats when training saw floats, so that a row is read the same way whatever else is in
its batch. :func:`mlexpert.data.validate.prepare_prediction_table` applies it to every
prediction path.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

COMPARED_AS_STRINGS = ("categorical", "high_cardinality", "text")


def trained_as(dtype: str) -> str:
    """``"int"``, ``"float"``, ``"text"`` or ``"other"`` for a dtype name stored in a schema."""
    name = str(dtype).lower()
    if re.fullmatch(r"u?int\d*", name):
        return "int"
    if re.fullmatch(r"float\d*", name):
        return "float"
    if name in ("object", "str", "category") or name.startswith("string"):
        return "text"
    return "other"


def conform_features(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """Cast the categorical-like features of one chunk towards their training dtypes."""
    # dtypes read once, as a dict: selecting a column costs more than checking its dtype
    dtypes = dict(zip(frame.columns.tolist(), frame.dtypes.tolist()))
    for info in schema.columns:
        if info.kind not in COMPARED_AS_STRINGS or info.name not in dtypes:
            continue
        dtype, trained = dtypes[info.name], trained_as(info.dtype)
        if trained == "float" and _is_int(dtype):
            frame[info.name] = frame[info.name].astype("float64")
        elif (trained in ("int", "text") and pd.api.types.is_float_dtype(dtype)
              and _integral(frame[info.name])):
            frame[info.name] = frame[info.name].astype("Int64")
    return frame


def _is_int(dtype) -> bool:
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _integral(col: pd.Series) -> bool:
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return bool(np.all((np.mod(values, 1) == 0) & (np.abs(values) < 2**53)))
