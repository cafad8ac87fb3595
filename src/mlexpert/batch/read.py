"""Read a table in chunks of rows, from a path or an open binary file, in constant memory.

Formats follow :func:`mlexpert.data.ingest.read_table`: CSV/TSV (optionally compressed),
Parquet, JSON Lines and JSON. A JSON array cannot be streamed: it is read whole, then cut.
Each chunk is a DataFrame with a fresh RangeIndex; errors are one-line DataErrors.
"""

from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from ..data.conform import conform_features
from ..data.ingest import COMPRESSIONS, FORMATS, _check_unique, _file_format, _one_line
from ..exceptions import DataError, InvalidParameterError
from .conform import read_hints

DEFAULT_CHUNK_ROWS = 100_000
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}


class TableChunks:
    """An iterator of DataFrames that knows how far it has read, for progress bars.

    ``unit`` is ``"rows"`` (Parquet, JSON arrays; ``total`` is the row count) or ``"bytes"``
    (CSV, JSON Lines; ``total`` is the file size, None for a stream of unknown size), and
    :meth:`position` is how many units have been read. ``fixed_columns`` is False for
    JSON, where a chunk lacks the keys none of its records has. ``name`` names the source
    in messages. Close it (or use ``with``) to release the file it opened.
    """

    def __init__(self, chunks: Iterator[pd.DataFrame], *, name: str, unit: str,
                 total: int | None, position: Callable[[], int], fixed_columns: bool = True,
                 close: Callable[[], None] = lambda: None):
        self.name, self.unit, self.total, self.fixed_columns = name, unit, total, fixed_columns
        self._chunks, self._position, self._close = chunks, position, close

    def __iter__(self) -> "TableChunks":
        return self

    def __next__(self) -> pd.DataFrame:
        return next(self._chunks)

    def position(self) -> int:
        """Rows or bytes read so far (see ``unit``)."""
        return self._position()

    def close(self) -> None:
        getattr(self._chunks, "close", lambda: None)()
        self._close()

    def __enter__(self) -> "TableChunks":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_table_chunks(source, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, fmt: str | None = None,
                      schema=None) -> TableChunks:
    """Chunks of at most ``chunk_rows`` rows of the table in ``source``.

    Parameters
    ----------
    source : path or binary file object
        A path (format from its extension, as in ``read_table``) or an open binary file
        (an upload spooled to disk); a file object needs ``fmt`` and, for Parquet, must
        be seekable. A file object is read from its current position and not closed.
    chunk_rows : int
        Rows per chunk (the last may be shorter).
    fmt : str, optional
        ``"csv"``, ``"tsv"``, ``"parquet"``, ``"jsonl"`` or ``"json"``, optionally with a
        compression suffix (``"csv.gz"``); overrides the extension of a path.
    schema : mlexpert.data.schema.Schema, optional
        The model's input schema (``model.pipeline.schema``). When given, each chunk's
        features get the dtypes they had in training (:mod:`mlexpert.batch.conform`), so
        that per-chunk type inference predicts the same as reading the whole table.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidParameterError(f"chunk_rows must be a positive integer. Got {chunk_rows!r} instead.")
    if isinstance(source, (str, os.PathLike)):
        name = repr(str(source))
        kind, compression = _parse_format(fmt) if fmt else _path_format(Path(source), name)
        handle, owned = _open_path(Path(source), name), True
    elif hasattr(source, "read"):
        if fmt is None:
            raise InvalidParameterError("A file object has no extension to tell its format: pass "
                                        "fmt='csv', 'tsv', 'parquet', 'jsonl' or 'json'.")
        kind, compression = _parse_format(fmt)
        label = getattr(source, "name", None)
        name, handle, owned = (repr(label) if isinstance(label, str) else "The data"), source, False
    else:
        raise InvalidParameterError(f"Cannot read chunks from a {type(source).__name__}. Pass a "
                                    "file path or an open binary file with fmt=...")
    src = _Input(handle, name, compression, chunk_rows, schema, kind, owned)
    try:
        return _READERS[kind](src)
    except BaseException:
        src.close()
        raise


def _parse_format(fmt: str) -> tuple[str, str | None]:
    parts = str(fmt).lower().lstrip(".").split(".")
    compression = _COMPRESSION.get(f".{parts[-1]}") if len(parts) > 1 else None
    if compression:
        parts.pop()
    kind = FORMATS.get(f".{parts[-1]}") if len(parts) == 1 else None
    if kind is None:
        raise InvalidParameterError(f"Unknown data format {fmt!r}. Use csv, tsv, parquet, jsonl or "
                                    "json (csv, tsv and jsonl may end in .gz, .bz2, .xz, .zst).")
    return kind, compression


def _path_format(path: Path, name: str) -> tuple[str, str | None]:
    kind = _file_format(path)
    if kind is None:
        raise DataError(f"Cannot read {name}: unsupported file type. Supported: {', '.join(FORMATS)} "
                        f"(optionally compressed {', '.join(COMPRESSIONS)}). Export it to CSV or Parquet.")
    return kind, _COMPRESSION.get(path.suffix.lower())


def _open_path(path: Path, name: str):
    if not path.exists():
        raise DataError(f"Data file {name} does not exist. Check the path (current directory: "
                        f"{os.getcwd()}).")
    if path.is_dir():
        raise DataError(f"{name} is a directory, not a data file. Pass a file inside it.")
    if path.stat().st_size == 0:
        raise DataError(f"{name} is empty: it has no rows. Pass a file with data in it.")
    try:
        return open(path, "rb")
    except PermissionError as exc:
        raise DataError(f"Cannot read {name}: permission denied. Fix its permissions or copy it.") from exc


class _Input:
    """What every reader needs: the open file, how to name it, and the options."""

    def __init__(self, handle, name, compression, chunk_rows, schema, kind, owned):
        self.handle, self.name, self.compression = handle, name, compression
        self.chunk_rows, self.schema, self.kind, self.owned = chunk_rows, schema, kind, owned
        self.start = _tell(handle) or 0
        self.total_bytes = self._size()

    def close(self) -> None:
        """Close the file if this module opened it (a caller's file object stays open)."""
        if self.owned:
            self.handle.close()

    def chunks(self, chunks: Iterator[pd.DataFrame], unit: str, total: int | None,
               position: Callable[[], int], fixed_columns: bool = True) -> TableChunks:
        return TableChunks(chunks, name=self.name, unit=unit, total=total, position=position,
                           fixed_columns=fixed_columns, close=self.close)

    def bytes_read(self) -> int:
        pos = _tell(self.handle)
        return 0 if pos is None else pos - self.start

    def _size(self) -> int | None:
        if not self.seekable():
            return None
        end = self.handle.seek(0, os.SEEK_END)
        self.handle.seek(self.start)
        return end - self.start

    def seekable(self) -> bool:
        return bool(getattr(self.handle, "seekable", lambda: False)())

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        return conform_features(frame, self.schema) if self.schema is not None else frame


def _tell(handle) -> int | None:
    try:
        return handle.tell()
    except (AttributeError, OSError, ValueError):
        return None


# -- CSV ----------------------------------------------------------------------------


def _csv_chunks(src: _Input) -> TableChunks:
    sep = "\t" if src.kind == "tsv" else ","
    opts = {"sep": sep, "index_col": False, "compression": src.compression}
    if src.seekable():  # pandas renames a repeated header 'a' to 'a.1': read the raw header
        header = _csv_step(src, lambda: pd.read_csv(src.handle, header=None, nrows=1, dtype=str,
                                                    keep_default_na=False, **opts))
        _check_unique([h for h in header.iloc[0].tolist() if h != ""])
        src.handle.seek(src.start)
    hints = read_hints(src.schema) if src.schema is not None else None
    reader = _csv_step(src, lambda: pd.read_csv(src.handle, chunksize=src.chunk_rows, dtype=hints, **opts))

    def chunks() -> Iterator[pd.DataFrame]:
        with reader:
            while (frame := _csv_step(src, lambda: next(reader, None))) is not None:
                yield src.conform(frame)

    return src.chunks(chunks(), "bytes", src.total_bytes, src.bytes_read)


def _csv_step(src: _Input, step: Callable):
    kind = "TSV" if src.kind == "tsv" else "CSV"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return step()
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{src.name} has no rows (and no header). Pass a file with data in it.") from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning, EOFError) as exc:
        raise DataError(f"{src.name} is not a well-formed {kind} file ({_one_line(exc)}). Check the "
                        "delimiter and quoting, or re-export it.") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{src.name} is not UTF-8 text ({_one_line(exc)}). Re-save it as UTF-8.") from exc
    except OSError as exc:
        raise DataError(f"{src.name} cannot be read ({_one_line(exc)}). Check that the file is not "
                        "truncated and its compression matches its extension.") from exc


# -- Parquet ------------------------------------------------------------------------


def _parquet_chunks(src: _Input) -> TableChunks:
    import pyarrow as pa
    import pyarrow.parquet as pq

    errors = (pa.ArrowException, OSError, ValueError)

    def fail(exc: BaseException) -> DataError:
        return DataError(f"{src.name} is not a valid Parquet file ({_one_line(exc)}). Re-export "
                         "it, or pass a CSV.")

    if not src.seekable():
        raise InvalidParameterError("Parquet needs a seekable file object (its index is at the end). "
                                    "Spool the data to a temporary file first.")
    try:
        parquet = pq.ParquetFile(src.handle)
    except errors as exc:
        raise fail(exc) from exc
    done = [0]

    def chunks() -> Iterator[pd.DataFrame]:
        batches = parquet.iter_batches(batch_size=src.chunk_rows, use_pandas_metadata=True)
        while True:
            try:
                batch = next(batches, None)
                if batch is None:
                    return
                frame = pa.Table.from_batches([batch]).to_pandas()
            except errors as exc:
                raise fail(exc) from exc
            done[0] += len(frame)
            yield src.conform(frame)

    return src.chunks(chunks(), "rows", parquet.metadata.num_rows, lambda: done[0])


# -- JSON ---------------------------------------------------------------------------


def _json_options() -> dict:
    # As read_table: dtype=False (no float->int downcasting) and no date parsing.
    opts = {"dtype": False}
    if "convert_dates" in inspect.signature(pd.read_json).parameters:
        opts.update(convert_dates=False, keep_default_dates=False)
    return opts


def _json_step(src: _Input, step: Callable, lines: bool):
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(convert_dates|keep_default_dates).*")
            return step()
    except UnicodeDecodeError as exc:
        raise DataError(f"{src.name} is not UTF-8 text ({_one_line(exc)}). Re-save it as UTF-8.") from exc
    except (ValueError, EOFError, OSError) as exc:
        kind = "JSON Lines (one object per line)" if lines else "JSON"
        raise DataError(f"{src.name} is not valid {kind} ({_one_line(exc)}). Pass one record per "
                        "line in .jsonl, or an array of records ([{\"col\": value}, ...]) in .json.") from exc


def _jsonl_chunks(src: _Input) -> TableChunks:
    reader = _json_step(src, lambda: pd.read_json(src.handle, lines=True, chunksize=src.chunk_rows,
                                                  compression=src.compression, **_json_options()), True)

    def chunks() -> Iterator[pd.DataFrame]:
        with reader:
            while (frame := _json_step(src, lambda: next(reader, None), True)) is not None:
                yield src.conform(frame)

    return src.chunks(chunks(), "bytes", src.total_bytes, src.bytes_read, fixed_columns=False)


def _json_chunks(src: _Input) -> TableChunks:
    """JSON Lines are streamed; a JSON array (first character '[') is read whole, then cut."""
    if src.compression is None and src.seekable():
        first = src.handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        src.handle.seek(src.start)
        if first != b"[":
            return _jsonl_chunks(src)
    frame = _whole_json(src)
    frame.columns = [str(c) for c in frame.columns]
    _check_unique(list(frame.columns))
    done = [0]

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, len(frame), src.chunk_rows):
            done[0] = min(start + src.chunk_rows, len(frame))
            yield src.conform(frame.iloc[start:done[0]])

    return src.chunks(chunks(), "rows", len(frame), lambda: done[0])


def _whole_json(src: _Input) -> pd.DataFrame:
    """As read_table: a JSON document, else (compressed files) one record per line."""
    def read(lines: bool) -> pd.DataFrame:
        return pd.read_json(src.handle, lines=lines, compression=src.compression, **_json_options())

    try:
        return _json_step(src, lambda: read(False), False)
    except DataError as error:
        if not src.seekable():
            raise
        src.handle.seek(src.start)
        try:
            return _json_step(src, lambda: read(True), True)
        except DataError:
            raise error from None


_READERS = {"csv": _csv_chunks, "tsv": _csv_chunks, "parquet": _parquet_chunks,
            "jsonl": _jsonl_chunks, "json": _json_chunks}
