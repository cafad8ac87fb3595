"""One record (column name -> value) read as prediction columns without building a DataFrame.

A one-row DataFrame costs about a millisecond of pandas overhead (construction, dtype
inference, per-column selections), several times what a gradient-boosted model needs to
predict the row. :func:`record_columns` applies the rules of
:func:`~mlexpert.data.validate.prepare_prediction_table` and
:func:`~mlexpert.data.conform.conform_features` to one record's plain Python values and
returns length-1 numpy arrays that the preprocessing blocks read like DataFrame columns.
Records it cannot read exactly as the DataFrame path would (dates, free text, values of
other types, infinities) get ``None``: the caller then takes the DataFrame path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .conform import COMPARED_AS_STRINGS, trained_as
from .schema import Schema

_NUMBER = (int, float)  # bool is an int: read as 0/1, as the DataFrame path does


class RecordColumns:
    """Read-only columns of one record: ``X[name]`` is a length-1 numpy array."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self._arrays = arrays

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def __len__(self) -> int:
        return 1

    @property
    def columns(self) -> list[str]:
        return list(self._arrays)


def record_columns(record: Mapping, schema: Schema) -> RecordColumns | None:
    """The feature columns of ``record`` as the DataFrame path would prepare them, or None.

    Numbers become float64 (None: NaN); booleans stay Python values for
    :func:`~mlexpert.features.numeric.boolean_to_float`; categories are cast towards their
    training dtype (an integral float for integer or text columns becomes an int, an int
    for float columns a float) so that they compare as the same strings.
    """
    arrays = {}
    for info in schema.columns:
        if info.kind not in _READERS:
            if info.kind in ("datetime", "text"):
                return None
            continue  # a column the model does not use
        if info.name not in record:
            return None  # the DataFrame path names the missing columns
        value = _READERS[info.kind](record[info.name], info)
        if value is _UNREADABLE:
            return None
        arrays[info.name] = value
    return RecordColumns(arrays)


_UNREADABLE = object()


def _numeric(value, info):
    if value is None:
        return np.array([np.nan])
    if not isinstance(value, _NUMBER) or not math.isfinite(value):
        return _UNREADABLE  # strings are coerced with a warning, inf replaced with one
    return np.array([float(value)])


def _boolean(value, info):
    if value is not None and not isinstance(value, (bool, *_NUMBER, str)):
        return _UNREADABLE
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def _category(value, info):
    if isinstance(value, float) and math.isnan(value):
        value = None
    elif value is not None and not isinstance(value, (str, bool, *_NUMBER)):
        return _UNREADABLE
    trained = trained_as(info.dtype)
    if type(value) is int and trained == "float":
        value = float(value)
    elif (type(value) is float and trained in ("int", "text") and abs(value) < 2**53
          and value == int(value)):
        value = int(value)
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


_READERS = {"numeric": _numeric, "boolean": _boolean,
            **{kind: _category for kind in COMPARED_AS_STRINGS if kind != "text"}}
