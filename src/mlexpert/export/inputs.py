"""The exported graph's inputs: one named, typed tensor of shape (n, 1) per feature column.

============================ ========= ================================================
column kind                  type      value
============================ ========= ================================================
numeric                      double    the number; NaN (or ±inf) when missing
boolean                      double    1.0 true (yes/y/t/true/1), 0.0 false, NaN missing
datetime                     double    seconds since 1970-01-01 UTC; NaN when missing
categorical, high card.      string    the value as text (``str(v)``); ``__missing__``
                                       when missing
============================ ========= ================================================

:func:`onnx_feed` builds these tensors from a DataFrame exactly as the Python model reads
the same rows, so the two can be compared (and serves as the reference for clients).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import Schema
from ..data.validate import prepare_prediction_table
from ..features._frame import MISSING_TOKEN, as_float, as_strings
from ..features.datetime import to_datetime
from ..features.numeric import boolean_to_float

INPUT_TYPES = {"numeric": "double", "boolean": "double", "datetime": "double",
               "categorical": "string", "high_cardinality": "string", "text": "string"}


def input_types(schema: Schema) -> dict[str, str]:
    """ONNX element type of every input, by column name, in the schema's feature order."""
    return {c.name: INPUT_TYPES[c.kind] for c in schema.columns if c.name in schema.features}


def onnx_feed(frame: pd.DataFrame, schema: Schema) -> dict[str, np.ndarray]:
    """The inputs of the exported graph for the rows of ``frame`` (extra columns ignored)."""
    X = prepare_prediction_table(frame, schema)
    kinds = {c.name: c.kind for c in schema.columns}
    feed = {}
    for name in schema.features:
        col, kind = X[name], kinds[name]
        if kind == "numeric":
            values = as_float(col)
        elif kind == "boolean":
            values = boolean_to_float(col)
        elif kind == "datetime":
            values = epoch_seconds(col)
        else:
            values = np.array([MISSING_TOKEN if v is None else v for v in as_strings(col)],
                              dtype=object)
        feed[name] = values.reshape(-1, 1)
    return feed


def epoch_seconds(col: pd.Series) -> np.ndarray:
    """Seconds since the Unix epoch of each (UTC or naive) date/time; NaN when missing."""
    values = to_datetime(col).to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(values)
    ns = np.where(missing, np.datetime64(0, "ns"), values).astype(np.int64)
    seconds = ns // 10**9 + (ns % 10**9) / 1e9
    return np.where(missing, np.nan, seconds.astype(float))
