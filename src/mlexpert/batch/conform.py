"""Give chunks read one at a time the dtypes the whole table had: guided by the schema.

Type inference runs per chunk, so a column can come back as integers in one chunk, floats
in the next (it holds a missing value) and text in a third. Numeric features do not care
(prediction reads them as numbers), but categorical and text features are compared as
strings, where ``7``, ``7.0`` and ``"007"`` differ. The model's schema records each
column's training dtype, and this module uses it twice:

- :func:`read_hints`: CSV columns that were text in training are read as text, so a chunk
  holding only ``"007"``-like values does not turn them into the number 7;
- :func:`~mlexpert.data.conform.conform_features` (applied to every prediction path): a float column whose values are all whole numbers (integers
  with a missing value in this chunk) goes back to integers when training saw integers
  or text (JSON numbers), and integers become floats when training saw floats.

:class:`OutputTypes` does the same for the output: each column keeps the dtype it had in
the first chunk where it has a value, so that a Parquet file keeps one schema and a CSV
one number format.
"""

from __future__ import annotations

import pandas as pd

from ..data.conform import COMPARED_AS_STRINGS, _integral, _is_int, conform_features, trained_as

_READ_AS_TEXT = (*COMPARED_AS_STRINGS, "datetime")


def read_hints(schema) -> dict[str, type]:
    """CSV ``dtype=`` hints: text read as text for the columns trained on text."""
    return {c.name: str for c in schema.columns
            if c.kind in _READ_AS_TEXT and trained_as(c.dtype) == "text"}


class OutputTypes:
    """Casts every output chunk to the dtypes a column first had, where that loses nothing.

    A column's dtype is fixed by the first chunk where it has a value. Integers that
    arrive as floats (a missing value) become nullable integers, integers become floats,
    and numbers or booleans become text in a text column. Anything else is left as is,
    for the writer to report.
    """

    def __init__(self) -> None:
        self.dtypes: dict = {}

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        for name in frame.columns:
            first, col = self.dtypes.get(name), frame[name]
            if first is None:
                if col.notna().any():
                    self.dtypes[name] = col.dtype
            elif col.dtype != first:
                frame[name] = _cast_like(col, first)
        return frame


def as_text(col: pd.Series) -> pd.Series:
    """Values as Python strings (missing stays missing), as categorical features see them."""
    from ..features._frame import as_strings  # late: mlexpert.features imports scikit-learn

    return pd.Series(as_strings(col), index=col.index, name=col.name, dtype=object)


def is_text(dtype) -> bool:
    return dtype == object or isinstance(dtype, pd.StringDtype)


def _cast_like(col: pd.Series, first) -> pd.Series:
    if pd.api.types.is_integer_dtype(first) and pd.api.types.is_float_dtype(col) and _integral(col):
        return col.astype("Int64") if col.isna().any() else col.astype(first)
    if pd.api.types.is_integer_dtype(first) and _is_int(col):
        return col if col.isna().any() else col.astype(first)
    if pd.api.types.is_float_dtype(first) and (_is_int(col) or pd.api.types.is_bool_dtype(col)):
        return col.astype(first)
    if is_text(first) and not is_text(col.dtype):
        return as_text(col).astype(first)
    return col
