"""JSON prediction endpoints, one set per served model so that each has its own typed schema.

``POST /predict`` uses the default model; ``POST /models/{name}/predict`` the latest
version of a named model and ``POST /models/{name}/versions/{version}/predict`` one version.
Each request body is ``Record`` (one object) or a list of them; the OpenAPI document names
the fields of every model (component ``Record`` for the default model, ``Record_<name>_<version>``
for the others).
"""

from __future__ import annotations

import logging
import math
import time

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from .catalog import ServedModel
from .metrics import slug
from .security import check_api_key, read_body

log = logging.getLogger("mlexpert.serve")
INLINE_PARSE_BYTES = 64 * 1024
_DOC = ("Predict one record (a JSON object, one field per input column) or a list of records. "
        "Returns one prediction per record, with class probabilities for classification. "
        "Every input column is required and may be null (missing).")


def schema_name(model: ServedModel, default: bool) -> str:
    return "Record" if default else f"Record_{slug(model.name)}_{slug(model.version)}"


def predict_router(catalog) -> APIRouter:
    """Routes for every served model (and ``/predict`` for the default one).

    Each route finds its model in the catalog when called, so after a hot reload
    ``/predict`` and ``/models/{name}/predict`` answer with the new champion. Versions
    registered after start-up are reached through the (undocumented) generic routes.
    """
    router = APIRouter(dependencies=[Depends(check_api_key)], tags=["predict"])
    default = catalog.get()
    _add(router, "/predict", default, True, f"Predict with the default model ({default.name})",
         lambda: catalog.get())
    for model in catalog.all():
        if model.version == catalog.latest[model.name]:
            _add(router, f"/models/{model.name}/predict", model, model is default,
                 f"Predict with {model.name} (default version, now {model.version})",
                 lambda name=model.name: catalog.get(name))
        _add(router, f"/models/{model.name}/versions/{model.version}/predict", model,
             model is default, f"Predict with {model.name} version {model.version}",
             lambda name=model.name, version=model.version: catalog.get(name, version))

    async def any_version(request: Request, name: str, version: str | None = None) -> Response:
        return await predict_json(request, catalog.get(name, version))

    for path in ("/models/{name}/predict", "/models/{name}/versions/{version}/predict"):
        router.add_api_route(path, any_version, methods=["POST"], include_in_schema=False)
    return router


def _add(router: APIRouter, path: str, model: ServedModel, default: bool, summary: str,
         resolve) -> None:
    async def endpoint(request: Request) -> Response:
        return await predict_json(request, resolve())

    one = {"$ref": f"#/components/schemas/{schema_name(model, default)}"}
    body = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]}}}}}
    router.add_api_route(path, endpoint, methods=["POST"], summary=summary, description=_DOC,
                         openapi_extra=body, response_model=None,
                         operation_id=f"predict_{slug(path)}")


async def predict_json(request: Request, model: ServedModel) -> Response:
    """Validate the JSON body, predict in a worker thread, count and log the predictions;
    a shadow-tested version predicts the same records after the response is sent."""
    state = request.app.state
    start = time.perf_counter()
    body = await read_body(request, state.settings.max_body_bytes)
    records = await _parse(model, body, state.settings.max_rows)
    result = await model.predict_async(records)
    state.metrics.observe_predictions(model, result.labels)
    rows = []
    for i, label in enumerate(result.labels):
        row = {"prediction": label}
        if result.probabilities is not None:
            row["probabilities"] = {str(c): _finite(p) for c, p in
                                    zip(result.classes, result.probabilities[i])}
        rows.append(row)
    request_id = request.scope["state"]["request_id"]
    logger, background = state.prediction_log, None
    if logger is not None:
        logger.log(request_id, model.name, model.version, body, result.labels, result.probabilities,
                   result.classes, latency_ms=(time.perf_counter() - start) * 1000)
        shadow = state.catalog.shadow_of(model)
        if shadow is not None:
            background = BackgroundTask(_shadow_predict, state, shadow, body, request_id)
    return JSONResponse({"model": model.name, "version": model.version, "request_id": request_id,
                         "predictions": rows}, background=background)


async def _parse(model: ServedModel, body: bytes, max_rows: int):
    if len(body) <= INLINE_PARSE_BYTES:
        return model.records.parse_body(body, max_rows)
    # big bodies are parsed off the event loop, which keeps answering health checks
    return await anyio.to_thread.run_sync(model.records.parse_body, body, max_rows)


async def _shadow_predict(state, shadow: ServedModel, body: bytes, request_id: str) -> None:
    """Predict with the shadow version and log it (never seen by the client)."""
    start = time.perf_counter()
    try:
        records = await _parse(shadow, body, state.settings.max_rows)
        result = await shadow.predict_async(records)
    except Exception as exc:  # a shadow failure must not touch the champion's traffic
        log.warning("shadow model %s/%s failed on request %s: %s", shadow.name, shadow.version,
                    request_id, exc)
        state.metrics.errors.labels("shadow", "internal").inc()
        return
    state.prediction_log.log(request_id, shadow.name, shadow.version, body, result.labels,
                             result.probabilities, result.classes,
                             latency_ms=(time.perf_counter() - start) * 1000, shadow=True)


def _finite(value: float):
    return float(value) if math.isfinite(value) else None
