"""Bulk JSON parsing of logged columns: many small JSON texts into columns, in C++.

The prediction log stores each record as a JSON object; reading a million of them one
``json.loads`` at a time would take minutes. When the fields to read and their types are
known (a model's schema), DuckDB's ``json_transform`` parses a chunk's texts in parallel
into typed columns (a value of the wrong type reads as missing). Otherwise the texts are
joined with newlines and parsed by ``pyarrow.json.read_json`` (every field, types
inferred). Chunks either refuses (malformed JSON, a field changing type between rows,
field names equal but for case for DuckDB) fall back to the standard library, which
accepts anything valid.
"""

from __future__ import annotations

import io
import json
import logging
import threading

import numpy as np
import pandas as pd

log = logging.getLogger("mlexpert.monitoring")
_local = threading.local()
_NUMERIC_SCALARS = 1000  # above this many distinct values, try a vectorised numeric parse


DUCKDB_TYPES = {"number": "DOUBLE", "text": "VARCHAR"}


def parse_records(texts: list, fields: dict[str, str] | None = None) -> pd.DataFrame:
    """JSON object texts (``None``: an empty object) to one row each: the ``fields``
    (``{name: "number" | "text"}``) when given, else every field found."""
    if fields and len({f.lower() for f in fields}) == len(fields):
        try:
            return _duckdb_records(texts, fields)
        except Exception as exc:  # noqa: BLE001 - malformed rows: the lenient readers below
            log.debug("DuckDB could not parse %d records: %s", len(texts), exc)
    frame = parse_objects(texts, [f for f, kind in (fields or {}).items() if kind == "text"])
    if fields:
        frame = frame.reindex(columns=list(fields))
    return frame


def _duckdb_records(texts: list, fields: dict[str, str]) -> pd.DataFrame:
    """DuckDB's newline-delimited JSON reader over the joined texts (a value of the wrong
    type reads as missing); refuses, for the fallback, if any line was dropped."""
    import duckdb

    joined = "\n".join(t if t else "{}" for t in texts).encode("utf-8")
    columns = {name: DUCKDB_TYPES[kind] for name, kind in fields.items()}
    con = getattr(_local, "duckdb", None)
    if con is None:  # one in-memory database per thread, reused
        con = _local.duckdb = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
    table = con.read_json(io.BytesIO(joined), columns=columns, format="newline_delimited",
                          ignore_errors=True).to_arrow_table()
    if table.num_rows != len(texts):
        raise ValueError(f"{len(texts) - table.num_rows} malformed records")
    frame = table.to_pandas()
    frame.columns = list(fields)
    return frame


def parse_objects(texts: list, text_columns=()) -> pd.DataFrame:
    """JSON object texts (``None``: an empty object) to one row each, every field found.

    ``text_columns`` are read as strings whatever they look like (no date inference), so
    that a category such as ``"2024-01-01"`` stays the text it was sent as.
    """
    if not texts:
        return pd.DataFrame(index=pd.RangeIndex(0))
    joined = "\n".join(t if t else "{}" for t in texts).encode("utf-8")
    try:
        frame = _arrow_objects(joined, text_columns)
    except Exception as exc:  # noqa: BLE001 - pyarrow's type inference refused: be lenient
        log.debug("falling back to json.loads for %d rows: %s", len(texts), exc)
        return _python_objects(texts)
    return frame if len(frame) == len(texts) else _python_objects(texts)


def _python_objects(texts: list) -> pd.DataFrame:
    """The slow, lenient path: a record that is not a JSON object reads as all missing."""
    records, bad = [], 0
    for text in texts:
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            value = None
        if not isinstance(value, dict):
            bad += 1
            value = {}
        records.append(value)
    if bad:
        log.warning("%d logged records are not JSON objects; they count as all missing", bad)
    frame = pd.DataFrame(records)
    return frame if len(frame) == len(records) else pd.DataFrame(index=pd.RangeIndex(len(records)))


def _arrow_objects(joined: bytes, text_columns) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.json as pj

    parse = pj.ParseOptions()
    if text_columns:
        parse = pj.ParseOptions(explicit_schema=pa.schema([(str(c), pa.string()) for c in text_columns]),
                                unexpected_field_behavior="infer")
    table = pj.read_json(io.BytesIO(joined), parse_options=parse,
                         read_options=pj.ReadOptions(block_size=8 << 20))
    return table.to_pandas()


def parse_scalars(texts) -> np.ndarray:
    """JSON scalar texts (``None`` or ``null``: missing) to an object array of Python values,
    or a float array when every value is a number (regression outputs, numeric labels)."""
    series = pd.Series(texts, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    if len(uniques) > _NUMERIC_SCALARS:
        numbers = pd.to_numeric(pd.Series(uniques), errors="coerce").to_numpy(dtype=float)
        if not np.any(np.isnan(numbers) & (uniques != "null")):
            out = numbers[codes]
            out[codes < 0] = np.nan
            return out
    decoded = np.empty(len(uniques) + 1, dtype=object)  # the last slot: missing
    decoded[:-1] = [json.loads(u) for u in uniques]
    decoded[-1] = None
    present = [v for v in decoded[:-1] if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        decoded = np.array([np.nan if v is None else float(v) for v in decoded], dtype=float)
    return decoded[codes]  # code -1 (missing) picks the last slot


def parse_probabilities(texts: list) -> pd.DataFrame | None:
    """JSON objects label -> probability to a float frame (columns: the label texts), or
    ``None`` when no row has probabilities."""
    if not any(texts):
        return None
    frame = parse_objects(texts)
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)
