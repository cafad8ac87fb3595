"""``POST /predict/batch``: score an uploaded CSV, JSON Lines or Parquet file, streamed back.

The upload (multipart field ``file``, or the raw body) is spooled to a temporary file,
checked in full, then scored in chunks (:mod:`mlexpert.batch`), so memory stays flat
however large the file. The check runs first so that a bad row is reported (by its
0-based row index, with the column and value) before any prediction is sent: a
response that has started cannot change its status any more.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from ..data.ingest import COMPRESSIONS, _file_format
from ..exceptions import MLExpertError
from ..features.datetime import to_datetime
from ..monitoring.log import BatchLog
from .errors import RequestError
from .security import check_api_key

router = APIRouter(dependencies=[Depends(check_api_key)], tags=["predict"])

CHUNK_ROWS = 50_000
SPOOL_BYTES = 8 * 2**20  # uploads up to this size stay in memory
MAX_LISTED = 50
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}
_BY_TYPE = {"text/csv": "csv", "application/csv": "csv", "text/tab-separated-values": "tsv",
            "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/json": "json",
            "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet"}
_BOOLEAN_TEXT = {"true", "false", "yes", "no", "y", "n", "t", "f", "1", "0", "1.0", "0.0"}


@router.post("/predict/batch", summary="Score a CSV / JSON Lines / Parquet file, streamed back",
             response_class=StreamingResponse,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                    "properties": {"file": {"type": "string", "format": "binary"}}}},
                 "text/csv": {"schema": {"type": "string"}},
                 "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}})
async def predict_batch(
    request: Request,
    model: str | None = Query(None, description="Model name (default: the default model)."),
    version: str | None = Query(None, description="Model version (default: the latest)."),
    format: str | None = Query(None, description="Input format: csv, tsv, jsonl, json or parquet "
                                                  "(default: from the file name or content type)."),
    output: str = Query("csv", pattern="^(csv|jsonl|parquet)$", description="Output format."),
    proba: bool = Query(True, description="Add one probability column per class."),
    keep: list[str] = Query([], description="Input columns to copy into the output (e.g. an id)."),
):
    served = request.app.state.catalog.get(model, version)
    upload, fmt = await _spool(request, format)
    try:
        await anyio.to_thread.run_sync(_check_rows, served, upload, fmt, tuple(keep))
        upload.seek(0)
        logger = request.app.state.prediction_log
        on_chunk = (BatchLog(logger, request.scope["state"]["request_id"], served.name,
                             served.version, served.result.pipeline) if logger is not None else None)
        blocks = served.batch_blocks(upload, fmt, output, proba, tuple(keep), CHUNK_ROWS,
                                     request.app.state.metrics, on_chunk=on_chunk)
        first = await anyio.to_thread.run_sync(_first, blocks)
    except BaseException:
        upload.close()
        raise

    async def body():
        try:
            yield first
            async for block in iterate_in_threadpool(blocks):
                yield block
        finally:
            upload.close()

    target = served.manifest.get("target", "prediction")
    return StreamingResponse(body(), media_type=MEDIA[output], headers={
        "Content-Disposition": f'attachment; filename="{target}_predictions.{output}"'})


async def _spool(request: Request, fmt: str | None):
    """The upload in a temporary file (refused with 413 past the upload limit), and its format."""
    limit = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"The upload is larger than the {limit / 2**20:.0f} MB limit; raise "
                                "--max-upload-mb or score the file with `mlexpert predict`.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise RequestError(422, "Send the table as a multipart file field named 'file'.")
        if upload.size is not None and upload.size > limit:
            raise RequestError(413, f"The upload is larger than the {limit / 2**20:.0f} MB limit.")
        name = (upload.filename or "").lower()
        return upload.file, fmt or _from_name(name) or _BY_TYPE.get((upload.content_type or "").lower())\
            or _unknown_format()
    spooled, size = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES), 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spooled.close()
            raise RequestError(413, f"The upload is larger than the {limit / 2**20:.0f} MB limit.")
        spooled.write(chunk)
    if size == 0:
        spooled.close()
        raise RequestError(422, "The upload is empty: send a CSV, JSON Lines or Parquet file.")
    spooled.seek(0)
    return spooled, fmt or _BY_TYPE.get(content_type) or _unknown_format()


def _from_name(name: str) -> str | None:
    """The format of an uploaded file from its name, read as ``read_table`` reads paths."""
    path = Path(name)
    kind = _file_format(path)
    suffix = path.suffix.lower()
    return None if kind is None else f"{kind}{suffix}" if suffix in COMPRESSIONS else kind


def _unknown_format():
    raise RequestError(415, "Cannot tell the upload's format: name the file .csv/.tsv/.jsonl/"
                            ".parquet, send a matching Content-Type, or add ?format=csv.")


def _first(blocks):
    try:
        return next(blocks)
    except StopIteration:
        return b""
    except MLExpertError as exc:
        raise RequestError(422, " ".join(str(exc).split())) from None


def _check_rows(served, upload, fmt: str, keep: tuple[str, ...]) -> None:
    """Read the whole upload once; 422 listing the bad rows (and columns) if there are any."""
    from ..batch import iter_table_chunks

    schema = served.result.pipeline.schema
    kinds = {c.name: c.kind for c in schema.columns if c.name in schema.features}
    problems, total, offset = [], 0, 0
    try:
        with iter_table_chunks(upload, chunk_rows=CHUNK_ROWS, fmt=fmt, schema=schema) as chunks:
            for chunk in chunks:
                missing = [c for c in list(kinds) + list(keep) if c not in chunk.columns]
                if missing and chunks.fixed_columns:
                    raise RequestError(422, f"The upload is missing required columns: {missing}.")
                for name, kind in kinds.items():
                    if name in chunk.columns:
                        for i, value in _bad_values(chunk[name], kind):
                            total += 1
                            if len(problems) < MAX_LISTED:
                                problems.append({"row": offset + i, "field": name,
                                                 "message": _MESSAGES[kind], "value": str(value)[:80]})
                offset += len(chunk)
    except MLExpertError as exc:
        raise RequestError(422, " ".join(str(exc).split())) from None
    if problems:
        first = problems[0]
        more = f" (and {total - 1} more)" if total > 1 else ""
        raise RequestError(422, f"Bad value at row {first['row']}, column {first['field']!r}: "
                                f"{first['value']!r} is not {_MESSAGES[kinds[first['field']]]}{more}. "
                                "Fix those rows (leave a cell empty when the value is unknown).",
                           problems)


_MESSAGES = {"numeric": "a number", "boolean": "true/false or yes/no",
             "datetime": "a date or date-time"}


def _bad_values(col: pd.Series, kind: str):
    """(position, value) of the cells the model would silently read as missing or wrong."""
    if kind not in _MESSAGES or pd.api.types.is_bool_dtype(col):
        return []
    if kind == "numeric" and pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        return [(int(i), values[i]) for i in np.flatnonzero(np.isinf(values))]
    if kind == "boolean" and pd.api.types.is_numeric_dtype(col):
        bad = col.notna() & ~col.isin([0, 1])
    else:
        text = col.astype("string").str.strip()
        given = col.notna() & (text != "")
        if kind == "numeric":
            parsed = pd.to_numeric(text, errors="coerce").astype("Float64")
            bad = given & (parsed.isna() | parsed.isin([float("inf"), float("-inf")]))
        elif kind == "datetime":
            bad = given & to_datetime(col).isna().to_numpy()
        else:
            bad = given & ~text.str.lower().isin(_BOOLEAN_TEXT)
    bad = pd.Series(bad).fillna(False).to_numpy(dtype=bool)
    return [(int(i), col.iloc[i]) for i in bad.nonzero()[0]]
