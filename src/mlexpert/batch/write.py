"""Encode prediction chunks one after another: CSV, JSON Lines or Parquet, into any binary file.

The same encoders write an output file (through a temporary sibling, see
:func:`mlexpert.batch.score_file`) and the body of an HTTP response (into a
:class:`ByteBuffer` drained after every chunk).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..io import WRITERS
from .conform import as_text, is_text

OUTPUT_FORMATS = ("csv", "jsonl", "parquet")


def output_format(path: str | os.PathLike) -> str:
    """The output format of ``path`` from its extension (as ``io.write_table``)."""
    kind = WRITERS.get(Path(path).suffix.lower())
    if kind is None:
        raise InvalidParameterError(f"Cannot write {Path(path).name!r}: use a .csv, .parquet or "
                                    ".jsonl file name.")
    return kind


def make_encoder(out_fmt: str, fh):
    """A CSV, JSON Lines or Parquet encoder writing to the binary file ``fh``."""
    encoders = {"csv": CsvEncoder, "jsonl": JsonlEncoder, "parquet": ParquetEncoder}
    key = str(out_fmt).lower().lstrip(".")
    if key not in encoders:
        raise InvalidParameterError(f"Unknown output format {out_fmt!r}. Use one of: "
                                    f"{', '.join(OUTPUT_FORMATS)}.")
    return encoders[key](fh)


class CsvEncoder:
    """CSV with one header line, written before the first chunk."""

    def __init__(self, fh):
        self.fh, self.header = fh, True

    def write(self, frame: pd.DataFrame) -> None:
        self.fh.write(frame.to_csv(index=False, header=self.header).encode("utf-8"))
        self.header = False

    def close(self) -> None:
        """Nothing to finish: CSV has no footer."""


class JsonlEncoder:
    """One JSON object per line."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, frame: pd.DataFrame) -> None:
        text = frame.to_json(orient="records", lines=True)
        self.fh.write((text if text.endswith("\n") else text + "\n").encode("utf-8"))

    def close(self) -> None:
        """Nothing to finish: JSON Lines has no footer."""


class ParquetEncoder:
    """A Parquet file whose schema is fixed by the first chunk; one row group per chunk.

    A column with no value in the first chunk is declared as text (its type is unknown
    yet); numbers that arrive later in a text column are written as text.
    """

    def __init__(self, fh):
        self.fh, self.writer, self.schema, self.text = fh, None, None, []

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            empty = [c for c in frame.columns if frame[c].isna().all()]
            self.schema = _text_schema(frame.assign(**{c: as_text(frame[c]) for c in empty}), empty)
            self.text = [f.name for f in self.schema
                         if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            self.writer = pq.ParquetWriter(self.fh, self.schema)
        numbers = [c for c in self.text if c in frame.columns and not is_text(frame[c].dtype)]
        if numbers:
            frame = frame.assign(**{c: as_text(frame[c]) for c in numbers})
        try:
            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise _changed_type(frame, self.schema) from exc
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _text_schema(frame: pd.DataFrame, names: list[str]):
    """Arrow schema of ``frame`` with the columns ``names`` declared as text."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    for name in names:
        i = schema.get_field_index(name)
        schema = schema.set(i, schema.field(i).with_type(pa.string()))
    return schema


def _changed_type(frame: pd.DataFrame, schema) -> DataError:
    import pyarrow as pa

    for field in schema:
        try:
            pa.array(frame[field.name], type=field.type, from_pandas=True)
        except (pa.ArrowException, ValueError, TypeError, KeyError):
            return DataError(
                f"Column {field.name!r} changed type between chunks ({field.type} in the first "
                f"chunk, {frame[field.name].dtype} later), and a Parquet file holds one type per "
                "column. Write .csv or .jsonl instead, or use larger chunks (--chunk-rows)."
            )
    return DataError("A chunk of predictions does not match the Parquet schema of the first. "
                     "Write .csv or .jsonl instead.")


class ByteBuffer:
    """A write-only binary file whose content is taken out with :meth:`drain`."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        """Nothing buffered below this object."""

    def drain(self) -> bytes:
        """Everything written since the last drain."""
        data, self.parts = b"".join(self.parts), []
        return data
