"""Score a table chunk by chunk: prediction frames, an output file, or encoded bytes."""

from __future__ import annotations

import os
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..io import _atomic
from .conform import OutputTypes
from .read import DEFAULT_CHUNK_ROWS, TableChunks, iter_table_chunks
from .write import ByteBuffer, make_encoder, output_format


@dataclass(frozen=True)
class BatchProgress:
    """Where scoring stands, after each chunk (and once with ``rows=0`` before the first).

    ``done`` of ``total`` is counted in ``unit``: ``"rows"`` (Parquet, JSON arrays) or
    ``"bytes"`` of the input file (CSV, JSON Lines; ``total`` None when unknown).
    """

    rows: int
    chunks: int
    done: int
    total: int | None
    unit: str


@dataclass(frozen=True)
class BatchSummary:
    """What :func:`score_file` wrote."""

    rows: int
    chunks: int
    seconds: float
    out: Path


def predict_chunk(model, frame: pd.DataFrame, *, proba: bool = True,
                  keep: tuple[str, ...] = (), on_chunk: Callable | None = None) -> pd.DataFrame:
    """The ``keep`` columns, ``<target>_predicted`` and one ``proba_<class>`` per class.

    Same columns as ``io.predictions_frame``, but the ensemble runs once per chunk.
    ``on_chunk(frame, labels, outputs)`` sees each chunk's inputs and outputs (the
    prediction log uses it).
    """
    pipeline = model.pipeline
    out = frame[list(keep)].reset_index(drop=True)
    outputs = pipeline.predict_output(frame)
    labels = pipeline.decide(outputs)
    if on_chunk is not None:
        on_chunk(frame, labels, outputs)
    out[f"{model.manifest.get('target', 'prediction')}_predicted"] = labels
    if proba and pipeline.task.is_classification:
        for j, label in enumerate(pipeline.task.classes):
            out[f"proba_{label}"] = np.asarray(outputs[:, j])
    return out


def iter_predictions(model, source, *, fmt: str | None = None,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS, proba: bool = True,
                     keep: tuple[str, ...] = (),
                     progress: Callable[[BatchProgress], None] | None = None,
                     on_chunk: Callable | None = None) -> Iterator[pd.DataFrame]:
    """Prediction frames (see :func:`predict_chunk`), one per input chunk, in input order.

    ``source`` and ``fmt`` are as in :func:`iter_table_chunks`. Each column keeps one dtype
    across chunks (:class:`~mlexpert.batch.conform.OutputTypes`). Raises
    :class:`DataError` for an unreadable source, a missing feature or ``keep`` column (at
    the first chunk; for JSON, whose records may omit keys, after the last), or an empty
    table.
    """
    keep = tuple(keep)
    schema = model.pipeline.schema
    with iter_table_chunks(source, chunk_rows=chunk_rows, fmt=fmt, schema=schema) as chunks:
        columns = _Columns(chunks, schema.features, keep)
        types = OutputTypes()
        rows = n_chunks = 0
        _report(progress, chunks, rows, n_chunks)
        for frame in chunks:
            if len(frame) == 0:
                continue
            preds = predict_chunk(model, columns.check(frame), proba=proba, keep=keep,
                                  on_chunk=on_chunk)
            del frame
            rows, n_chunks = rows + len(preds), n_chunks + 1
            yield types.conform(preds)
            _report(progress, chunks, rows, n_chunks)
        if rows == 0:
            raise DataError(f"{chunks.name} has no rows. Pass a file with data in it.")
        columns.check_seen()


def score_file(model, source, out: str | os.PathLike, *, chunk_rows: int = DEFAULT_CHUNK_ROWS,
               proba: bool = True, keep: tuple[str, ...] = (),
               progress: Callable[[BatchProgress], None] | None = None,
               fmt: str | None = None, on_chunk: Callable | None = None) -> BatchSummary:
    """Write the predictions for every row of ``source`` to ``out``, chunk by chunk.

    Memory grows with ``chunk_rows`` (and a Parquet input's row-group size), not with the
    size of the input. The format of ``out`` comes from its extension (.csv, .parquet,
    .jsonl); it is written to a temporary sibling renamed into place at the end, so an
    error (a bad chunk, a missing column, Ctrl-C) never leaves a partial file.
    ``progress`` is called after each chunk with a :class:`BatchProgress`.
    """
    out = Path(out)
    kind = output_format(out)
    start = time.monotonic()
    rows = n_chunks = 0
    with _atomic(out) as tmp, open(tmp, "wb") as fh, closing(make_encoder(kind, fh)) as encoder:
        for preds in iter_predictions(model, source, fmt=fmt, chunk_rows=chunk_rows, proba=proba,
                                      keep=keep, progress=progress, on_chunk=on_chunk):
            encoder.write(preds)
            rows, n_chunks = rows + len(preds), n_chunks + 1
    return BatchSummary(rows=rows, chunks=n_chunks, seconds=time.monotonic() - start, out=out)


def iter_prediction_chunks(model, source, *, fmt: str | None = None, out_fmt: str = "csv",
                           chunk_rows: int = DEFAULT_CHUNK_ROWS, proba: bool = True,
                           keep: tuple[str, ...] = (),
                           progress: Callable[[BatchProgress], None] | None = None,
                           on_chunk: Callable | None = None) -> Iterator[bytes]:
    """The predictions encoded as ``out_fmt`` (csv, jsonl, parquet), one bytes block per chunk.

    Concatenated, the blocks are a complete file (CSV: the header is in the first block;
    Parquet: the footer is in the last). Nothing is yielded before the first chunk is
    scored, so errors in the source or its columns raise at the first ``next()``: call it
    before sending a response's headers. A later error raises mid-stream.
    """
    buffer = ByteBuffer()
    encoder = make_encoder(out_fmt, buffer)
    for preds in iter_predictions(model, source, fmt=fmt, chunk_rows=chunk_rows, proba=proba,
                                  keep=keep, progress=progress, on_chunk=on_chunk):
        encoder.write(preds)
        if data := buffer.drain():
            yield data
    encoder.close()
    if data := buffer.drain():
        yield data


def _report(progress, chunks: TableChunks, rows: int, n_chunks: int) -> None:
    if progress is not None:
        progress(BatchProgress(rows=rows, chunks=n_chunks, done=chunks.position(),
                               total=chunks.total, unit=chunks.unit))


class _Columns:
    """Required columns: checked on the first chunk, or (JSON) filled in and checked at the end."""

    def __init__(self, chunks: TableChunks, features: list[str], keep: tuple[str, ...]):
        self.fixed = chunks.fixed_columns
        self.features, self.keep = list(features), keep
        self.needed = list(dict.fromkeys([*features, *keep]))
        self.seen: set[str] = set()

    def check(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.fixed:
            if not self.seen:
                self.seen = set(frame.columns)
                self._raise_missing(self.seen)
            return frame
        self.seen.update(frame.columns)
        absent = [c for c in self.needed if c not in frame.columns]
        return frame.assign(**{c: np.nan for c in absent}) if absent else frame

    def check_seen(self) -> None:
        self._raise_missing(self.seen)

    def _raise_missing(self, present: set[str]) -> None:
        missing = [c for c in self.keep if c not in present]
        if missing:
            raise DataError(f"--keep names columns not in the data: {missing}. Check the names.")
        missing = [c for c in self.features if c not in present]
        if missing:
            listed = ", ".join(repr(c) for c in missing)
            noun = "column" if len(missing) == 1 else "columns"
            raise DataError(f"The data is missing {len(missing)} required {noun}: {listed}. Add "
                            "them (other columns are ignored).")
