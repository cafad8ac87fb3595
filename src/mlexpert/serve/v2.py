"""The Open Inference Protocol v2 (KServe / Triton) REST endpoints.

Each input column is one tensor named after the column, of shape ``[n]`` or ``[n, 1]``:
``FP64`` (or any numeric type) for numbers, ``BOOL`` for booleans, ``BYTES`` (UTF-8
strings) for categories, dates and text. Numeric NaN is read as a missing value. Tensor
data comes as JSON, or as raw bytes after the JSON header (Triton's binary tensor
extension, what ``tritonclient`` sends by default). Outputs are JSON: ``label`` (the
prediction), ``probabilities`` (``[n, k]``, classification) and ``classes``.
"""

from __future__ import annotations

import json
import math
import struct
import time

import numpy as np
from fastapi import APIRouter, Depends, Request

from .._version import __version__
from .catalog import ServedModel
from .errors import RequestError
from .security import check_api_key, read_body

router = APIRouter(prefix="/v2", tags=["open inference protocol v2"])
infer_router = APIRouter(prefix="/v2", tags=["open inference protocol v2"],
                         dependencies=[Depends(check_api_key)])

_KIND_TYPE = {"numeric": "FP64", "boolean": "BOOL", "categorical": "BYTES",
              "high_cardinality": "BYTES", "datetime": "BYTES", "text": "BYTES"}
_NUMPY = {"BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
          "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2",
          "FP32": "<f4", "FP64": "<f8"}


@router.get("", summary="Server metadata")
async def server_metadata() -> dict:
    return {"name": "mlexpert", "version": __version__, "extensions": ["binary_tensor_data"]}


@router.get("/health/live", summary="Liveness")
async def live() -> dict:
    return {"live": True}


@router.get("/health/ready", summary="Readiness (every model loaded)")
async def ready(request: Request) -> dict:
    return {"ready": bool(request.app.state.catalog.all())}


@router.get("/models/{name}", summary="Model metadata (latest version)")
async def metadata(request: Request, name: str) -> dict:
    return _metadata(request.app.state.catalog, request.app.state.catalog.get(name))


@router.get("/models/{name}/versions/{version}", summary="Model metadata")
async def metadata_version(request: Request, name: str, version: str) -> dict:
    return _metadata(request.app.state.catalog, request.app.state.catalog.get(name, version))


@router.get("/models/{name}/ready", summary="Model readiness")
async def model_ready(request: Request, name: str) -> dict:
    model = request.app.state.catalog.get(name)
    return {"name": model.name, "ready": True}


@router.get("/models/{name}/versions/{version}/ready", summary="Model version readiness")
async def model_version_ready(request: Request, name: str, version: str) -> dict:
    model = request.app.state.catalog.get(name, version)
    return {"name": model.name, "ready": True}


@infer_router.post("/models/{name}/infer", summary="Inference (latest version)")
async def infer(request: Request, name: str) -> dict:
    return await _infer(request, request.app.state.catalog.get(name))


@infer_router.post("/models/{name}/versions/{version}/infer", summary="Inference")
async def infer_version(request: Request, name: str, version: str) -> dict:
    return await _infer(request, request.app.state.catalog.get(name, version))


def _metadata(catalog, model: ServedModel) -> dict:
    kinds = model.records.kinds
    outputs = [{"name": "label", "datatype": _label_type(model), "shape": [-1]}]
    if model.task != "regression":
        outputs += [{"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.classes)]},
                    {"name": "classes", "datatype": "BYTES", "shape": [len(model.classes)]}]
    return {
        "name": model.name, "versions": sorted(catalog.models[model.name]), "platform": "mlexpert",
        "inputs": [{"name": c, "datatype": _KIND_TYPE[kinds[c]], "shape": [-1]}
                   for c in model.records.features],
        "outputs": outputs,
    }


def _label_type(model: ServedModel) -> str:
    if model.task == "regression":
        return "FP64"
    return "INT64" if all(isinstance(c, int) and not isinstance(c, bool) for c in model.classes) else "BYTES"


async def _infer(request: Request, model: ServedModel) -> dict:
    state = request.app.state
    start = time.perf_counter()
    body = await read_body(request, state.settings.max_body_bytes)
    header, tensors = _split(body, request.headers.get("inference-header-content-length"))
    columns = _columns(header, tensors, model)
    n = len(next(iter(columns.values())))
    if n > state.settings.max_rows:
        raise RequestError(413, f"{n} rows in one request; the limit is {state.settings.max_rows}.")
    records = [{name: values[i] for name, values in columns.items()} for i in range(n)]
    try:
        rows = model.records.records(records, state.settings.max_rows)
    except RequestError as exc:  # the protocol answers every bad request with 400
        raise RequestError(400, exc.message, exc.details) from None
    result = await model.predict_async(rows)
    state.metrics.observe_predictions(model, result.labels)
    if state.prediction_log is not None:
        state.prediction_log.log(request.scope["state"]["request_id"], model.name, model.version,
                                 records, result.labels, result.probabilities, result.classes,
                                 latency_ms=(time.perf_counter() - start) * 1000, source="v2")
    label_type = _label_type(model)
    outputs = {"label": {"name": "label", "datatype": label_type, "shape": [n],
                         "data": [str(v) if label_type == "BYTES" else v for v in result.labels]}}
    if result.probabilities is not None:
        k = len(result.classes)
        outputs["probabilities"] = {"name": "probabilities", "datatype": "FP64", "shape": [n, k],
                                    "data": [float(p) for p in result.probabilities.ravel()]}
        outputs["classes"] = {"name": "classes", "datatype": "BYTES", "shape": [k],
                              "data": [str(c) for c in result.classes]}
    wanted = [o.get("name") for o in header.get("outputs") or []]
    unknown = [w for w in wanted if w not in outputs]
    if unknown:
        raise RequestError(400, f"Unknown outputs {unknown}; this model has {list(outputs)}.")
    response = {"model_name": model.name, "model_version": model.version,
                "outputs": [outputs[w] for w in wanted] if wanted else list(outputs.values())}
    if header.get("id") is not None:
        response["id"] = header["id"]
    return response


def _split(body: bytes, header_length: str | None) -> tuple[dict, bytes]:
    """The JSON inference header and the binary tensor bytes that follow it."""
    size = len(body)
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise RequestError(400, "Inference-Header-Content-Length must be the byte length of "
                                    "the JSON header at the start of the body.")
        size = int(header_length)
    try:
        header = json.loads(body[:size])
    except (ValueError, RecursionError) as exc:
        raise RequestError(400, f"The inference request is not valid JSON: {exc}.") from None
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list) or not header["inputs"]:
        raise RequestError(400, "An inference request needs an 'inputs' list with one tensor per "
                                "input column (see GET /v2/models/{name} for their names and types).")
    return header, body[size:]


def _columns(header: dict, binary: bytes, model: ServedModel) -> dict[str, list]:
    columns, offset = {}, 0
    for tensor in header["inputs"]:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise RequestError(400, "Every input tensor needs a 'name' (an input column).")
        name, datatype = tensor["name"], str(tensor.get("datatype", ""))
        shape = tensor.get("shape")
        if (not isinstance(shape, list) or not shape or len(shape) > 2
                or not all(isinstance(s, int) and s >= 0 for s in shape) or (len(shape) == 2 and shape[1] != 1)):
            raise RequestError(400, f"Input {name!r}: shape must be [n] or [n, 1], got {shape!r}.")
        size = (tensor.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise RequestError(400, f"Input {name!r}: binary_data_size does not match the body.")
            values = _decode(binary[offset:offset + size], datatype, name)
            offset += size
        else:
            values = _flatten(tensor.get("data"), name)
        if len(values) != shape[0]:
            raise RequestError(400, f"Input {name!r}: shape says {shape[0]} rows but the data has "
                                    f"{len(values)} values.")
        columns[name] = [_missing_nan(v) for v in values]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise RequestError(400, "All input tensors must have the same number of rows.")
    missing = [c for c in model.records.features if c not in columns]
    if missing:
        raise RequestError(400, f"Missing input tensors for columns {missing}; send one tensor "
                                "per input column.")
    return columns


def _decode(raw: bytes, datatype: str, name: str) -> list:
    if datatype == "BYTES":
        values, i = [], 0
        while i < len(raw):
            if i + 4 > len(raw):
                raise RequestError(400, f"Input {name!r}: truncated BYTES tensor.")
            (length,) = struct.unpack_from("<I", raw, i)
            chunk = raw[i + 4:i + 4 + length]
            if len(chunk) != length:
                raise RequestError(400, f"Input {name!r}: truncated BYTES tensor.")
            values.append(chunk.decode("utf-8", errors="replace"))
            i += 4 + length
        return values
    if datatype not in _NUMPY:
        raise RequestError(400, f"Input {name!r}: unsupported datatype {datatype!r}.")
    dtype = np.dtype(_NUMPY[datatype])
    if len(raw) % dtype.itemsize:
        raise RequestError(400, f"Input {name!r}: {len(raw)} bytes is not a whole number of "
                                f"{datatype} values.")
    return np.frombuffer(raw, dtype=dtype).tolist()


def _flatten(data, name: str) -> list:
    if not isinstance(data, list):
        raise RequestError(400, f"Input {name!r} needs 'data' (a list of values) or binary data.")
    flat = []
    for v in data:
        if isinstance(v, list):
            if len(v) != 1 or isinstance(v[0], list):
                raise RequestError(400, f"Input {name!r}: rows must hold one value each.")
            flat.append(v[0])
        else:
            flat.append(v)
    return flat


def _missing_nan(value):
    return None if isinstance(value, float) and math.isnan(value) else value
