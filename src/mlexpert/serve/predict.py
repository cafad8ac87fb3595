"""JSON prediction endpoints, one set per served model so that each has its own typed schema.

``POST /predict`` uses the default model; ``POST /models/{name}/predict`` the latest
version of a named model and ``POST /models/{name}/versions/{version}/predict`` one version.
Each request body is ``Record`` (one object) or a list of them; the OpenAPI document names
the fields of every model (component ``Record`` for the default model, ``Record_<name>_<version>``
for the others).
"""

from __future__ import annotations

import math

import anyio

from fastapi import APIRouter, Depends, Request

from .catalog import ServedModel
from .metrics import slug
from .security import check_api_key, read_body

INLINE_PARSE_BYTES = 64 * 1024
_DOC = ("Predict one record (a JSON object, one field per input column) or a list of records. "
        "Returns one prediction per record, with class probabilities for classification. "
        "Every input column is required and may be null (missing).")


def schema_name(model: ServedModel, default: bool) -> str:
    return "Record" if default else f"Record_{slug(model.name)}_{slug(model.version)}"


def predict_router(catalog) -> APIRouter:
    """Routes for every served model (and ``/predict`` for the default one)."""
    router = APIRouter(dependencies=[Depends(check_api_key)], tags=["predict"])
    default = catalog.get()
    _add(router, "/predict", default, True, f"Predict with the default model ({default.name})")
    for model in catalog.all():
        if model.version == catalog.latest[model.name]:
            _add(router, f"/models/{model.name}/predict", model, model is default,
                 f"Predict with {model.name} (latest version, {model.version})")
        _add(router, f"/models/{model.name}/versions/{model.version}/predict", model,
             model is default, f"Predict with {model.name} version {model.version}")
    return router


def _add(router: APIRouter, path: str, model: ServedModel, default: bool, summary: str) -> None:
    async def endpoint(request: Request) -> dict:
        return await predict_json(request, model)

    one = {"$ref": f"#/components/schemas/{schema_name(model, default)}"}
    body = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]}}}}}
    router.add_api_route(path, endpoint, methods=["POST"], summary=summary, description=_DOC,
                         openapi_extra=body, response_model=None,
                         operation_id=f"predict_{slug(path)}")


async def predict_json(request: Request, model: ServedModel) -> dict:
    """Validate the JSON body, predict in a worker thread, count the predictions."""
    state = request.app.state
    body = await read_body(request, state.settings.max_body_bytes)
    if len(body) <= INLINE_PARSE_BYTES:
        frame = model.records.parse_body(body, state.settings.max_rows)
    else:  # big bodies are parsed off the event loop, which keeps answering health checks
        frame = await anyio.to_thread.run_sync(model.records.parse_body, body, state.settings.max_rows)
    result = await model.predict_async(frame)
    state.metrics.observe_predictions(model, result.labels)
    rows = []
    for i, label in enumerate(result.labels):
        row = {"prediction": label}
        if result.probabilities is not None:
            row["probabilities"] = {str(c): _finite(p) for c, p in
                                    zip(result.classes, result.probabilities[i])}
        rows.append(row)
    return {"model": model.name, "version": model.version,
            "request_id": request.scope["state"]["request_id"], "predictions": rows}


def _finite(value: float):
    return float(value) if math.isfinite(value) else None
