"""Read the prediction log back in chunks, with the outcomes fed back for it.

Rows are paged by id (keyset pagination: ``WHERE id > last ORDER BY id LIMIT n``), each
page in its own short read transaction, so reading a log of any size takes constant
memory, never holds a snapshot open for long, and works the same on SQLite and
PostgreSQL. Pages are fetched through the driver's cursor (no per-row SQLAlchemy
objects) and their JSON columns parsed in bulk (:mod:`._json`), in two background threads
while the caller works on the previous page.
"""

from __future__ import annotations

import ctypes
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
from sqlalchemy import and_, func, select

from ..exceptions import InvalidParameterError
from ..store import Store, open_store
from ..store.tables import feedback, prediction_log
from ._json import parse_probabilities, parse_records, parse_scalars

CHUNK_ROWS = 25_000  # rows per page: ~40 MB of JSON at 100 columns; larger pages only cost memory
META_COLUMNS = ("id", "request_id", "row", "ts", "model", "version", "latency_ms", "shadow")
_P = prediction_log.c


@dataclass
class LogChunk:
    """One page of the log: ``meta`` (one row per logged prediction: id, request_id, row,
    ts, model, version, latency_ms, shadow, prediction, probabilities (a dict label ->
    probability, or None) and, when asked for, actual), ``inputs`` (the records, one column
    per field) and ``proba`` (the probabilities as floats, one column per label, or None)."""

    meta: pd.DataFrame
    inputs: pd.DataFrame
    proba: pd.DataFrame | None

    def __len__(self) -> int:
        return len(self.meta)


def iter_log(store: Store | str, *, model: str | None = None, version: str | None = None,
             since: float | None = None, until: float | None = None, shadow: bool | None = False,
             chunk_rows: int = CHUNK_ROWS, after_id: int | None = None, upto_id: int | None = None,
             with_actual: bool = False, fields: dict[str, str] | None = None,
             probability_dicts: bool = False) -> Iterator[LogChunk]:
    """The log rows matching the filters, oldest first, ``chunk_rows`` at a time.

    ``since``/``until`` are UNIX seconds (``since <= ts < until``); ``shadow`` keeps the
    served predictions (False), the shadow challengers' (True) or both (None); ``after_id``
    starts after that log id and ``upto_id`` stops at that one; ``with_actual`` adds the
    latest feedback of each row (None when there is none); ``fields`` (``{name: "number"
    | "text"}``) reads only these input fields, with these types (faster), instead of
    every field with inferred types; ``probability_dicts`` fills ``meta["probabilities"]``
    with one dict per row (else None: :attr:`LogChunk.proba` holds them as floats).
    """
    store = _store(store)
    if chunk_rows < 1:
        raise InvalidParameterError(f"chunk_rows must be a positive integer; got {chunk_rows}.")
    conditions = log_filters(model=model, version=version, since=since, until=until, shadow=shadow)
    if upto_id is not None:
        conditions.append(_P.id <= upto_id)
    columns = [*(_P[c] for c in META_COLUMNS), _P.inputs, _P.prediction, _P.probabilities]
    if with_actual:
        columns.append(latest_actual().label("actual"))

    def fetch(last: int) -> list:
        return fetch_rows(store, select(*columns).where(_P.id > last, *conditions)
                          .order_by(_P.id).limit(chunk_rows))

    def parse(rows: list) -> LogChunk:
        chunk = to_chunk(rows, with_actual, fields, probability_dicts)
        rows.clear()
        release_memory()
        return chunk

    # a pipeline of threads: page k+2 is read while page k+1 is parsed and page k is used
    with ThreadPoolExecutor(1, thread_name_prefix="mlexpert-log-fetch") as fetcher, \
            ThreadPoolExecutor(1, thread_name_prefix="mlexpert-log-parse") as parser:
        fetching = fetcher.submit(fetch, after_id if after_id is not None else -1)
        parsing = None
        while fetching is not None or parsing is not None:
            rows = fetching.result() if fetching is not None else []
            fetching = fetcher.submit(fetch, rows[-1][0]) if len(rows) == chunk_rows else None
            parsed_next = parser.submit(parse, rows) if rows else None
            if parsing is not None:
                yield parsing.result()
            parsing = parsed_next


def release_memory() -> None:
    """Hand freed memory back to the operating system (glibc keeps the large blocks a page
    of JSON texts leaves behind, so a long read would otherwise hold its peak)."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc: nothing to do
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


def fetch_rows(store: Store, query) -> list[tuple]:
    """All rows of ``query`` as plain tuples, in one short read transaction, through the
    driver's own cursor (SQLAlchemy's row objects cost more than the query on big pages)."""
    with store.read() as conn:
        compiled = query.compile(dialect=conn.dialect)
        params = compiled.params
        if compiled.positiontup is not None:  # qmark / numeric styles (SQLite)
            params = tuple(params[name] for name in compiled.positiontup)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(str(compiled), params)
            return cursor.fetchall()
        finally:
            cursor.close()


def labelled_log(store: Store | str, model: str, *, version: str | None = None,
                 since: float | None = None, limit: int | None = None, shadow: bool = False,
                 chunk_rows: int = CHUNK_ROWS,
                 fields: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(inputs, meta)`` of the logged predictions of ``model`` that have feedback: ``meta``
    has the columns of :class:`LogChunk` plus ``actual`` (the latest feedback). With
    ``limit``, only the most recent ``limit`` labelled rows. Oldest first. ``fields`` as
    in :func:`iter_log` (default: every field as received)."""
    store = _store(store)
    has = select(feedback.c.id).where(feedback.c.request_id == _P.request_id,
                                      feedback.c.row == _P.row).exists()
    conditions = [*log_filters(model=model, version=version, since=since, shadow=shadow), has]
    columns = [*(_P[c] for c in META_COLUMNS), _P.inputs, _P.prediction, _P.probabilities,
               latest_actual().label("actual")]
    pages, last, wanted = [], None, math.inf if limit is None else int(limit)
    while wanted > 0:  # newest first, so that ``limit`` keeps the most recent rows
        query = select(*columns).where(*conditions).order_by(_P.id.desc())
        if last is not None:
            query = query.where(_P.id < last)
        rows = fetch_rows(store, query.limit(int(min(chunk_rows, wanted))))
        if not rows:
            break
        pages.append(rows)
        last, wanted = rows[-1][0], wanted - len(rows)
    rows = [r for page in reversed(pages) for r in reversed(page)]
    chunk = to_chunk(rows, True, fields)
    return chunk.inputs, chunk.meta


def log_filters(*, model=None, version=None, since=None, until=None, shadow=None) -> list:
    """SQLAlchemy conditions on the prediction log for the given filters."""
    conditions = []
    if model is not None:
        conditions.append(_P.model == model)
    if version is not None:
        conditions.append(_P.version == str(version))
    if since is not None:
        conditions.append(_P.ts >= float(since))
    if until is not None:
        conditions.append(_P.ts < float(until))
    if shadow is not None:
        conditions.append(_P.shadow.is_(bool(shadow)))
    return conditions


def latest_actual():
    """The latest feedback ``actual`` of a log row (a correlated scalar subquery)."""
    return (select(feedback.c.actual)
            .where(and_(feedback.c.request_id == _P.request_id, feedback.c.row == _P.row))
            .order_by(feedback.c.id.desc()).limit(1).scalar_subquery())


def log_summary(store: Store | str, *, model=None, since=None, until=None,
                after_id: int | None = None) -> list[dict]:
    """Per model, version and shadow flag: the row count, first and last time and ids."""
    store = _store(store)
    conditions = log_filters(model=model, since=since, until=until)
    if after_id is not None:
        conditions.append(_P.id > after_id)
    query = (select(_P.model, _P.version, _P.shadow, func.count(), func.min(_P.ts), func.max(_P.ts),
                    func.min(_P.id), func.max(_P.id))
             .where(*conditions).group_by(_P.model, _P.version, _P.shadow))
    with store.read() as conn:
        rows = conn.execute(query).fetchall()
    keys = ("model", "version", "shadow", "n", "first_ts", "last_ts", "first_id", "last_id")
    return [dict(zip(keys, (*r[:2], bool(r[2]), *r[3:]))) for r in rows]


def recent_start(store: Store | str, max_rows: int, *, model=None, since=None,
                 until=None) -> int | None:
    """The id after which the most recent ``max_rows`` matching rows lie (None: all rows)."""
    store = _store(store)
    query = (select(_P.id).where(*log_filters(model=model, since=since, until=until))
             .order_by(_P.id.desc()).offset(int(max_rows)).limit(1))
    with store.read() as conn:
        return conn.execute(query).scalar()


def to_chunk(rows: list, with_actual: bool = False, fields: dict[str, str] | None = None,
             probability_dicts: bool = True) -> LogChunk:
    """Fetched rows (the columns of :func:`iter_log`) to a parsed :class:`LogChunk`."""
    columns = list(zip(*rows)) if rows else [()] * (len(META_COLUMNS) + 3 + with_actual)
    meta = pd.DataFrame({name: list(values) for name, values in zip(META_COLUMNS, columns)})
    if not len(meta):
        meta = pd.DataFrame(columns=list(META_COLUMNS))
    meta["shadow"] = meta["shadow"].astype(bool)
    n_meta = len(META_COLUMNS)
    inputs = parse_records(list(columns[n_meta]), fields)
    meta["prediction"] = parse_scalars(columns[n_meta + 1])
    proba = parse_probabilities(list(columns[n_meta + 2]))
    meta["probabilities"] = _as_dicts(proba, len(meta)) if probability_dicts else None
    if with_actual:
        meta["actual"] = parse_scalars(columns[n_meta + 3])
    inputs.index = meta.index
    if proba is not None:
        proba.index = meta.index
    return LogChunk(meta, inputs, proba)


def _as_dicts(proba: pd.DataFrame | None, n: int) -> list:
    if proba is None:
        return [None] * n
    labels = list(proba.columns)
    present = proba.notna().any(axis=1).to_numpy()
    values = proba.to_numpy().tolist()
    return [dict(zip(labels, v)) if ok else None for v, ok in zip(values, present)]


def _store(store: Store | str) -> Store:
    return open_store(store) if isinstance(store, str) else store
