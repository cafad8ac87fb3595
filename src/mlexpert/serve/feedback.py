"""``POST /feedback``: the true outcome of earlier predictions, by request id (and row)."""

from __future__ import annotations

import json

import anyio
from fastapi import APIRouter, Depends, Request

from ..exceptions import DataError
from ..monitoring.feedback import record_feedback
from .errors import RequestError
from .security import check_api_key, read_body

router = APIRouter(tags=["monitoring"], dependencies=[Depends(check_api_key)])
MAX_ITEMS = 100_000
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "anyOf": [{"$ref": "#/components/schemas/Feedback"},
              {"type": "array", "items": {"$ref": "#/components/schemas/Feedback"}, "minItems": 1}]}}}}}
FEEDBACK_SCHEMA = {
    "type": "object", "required": ["request_id", "actual"], "additionalProperties": False,
    "properties": {
        "request_id": {"type": "string", "minLength": 1, "maxLength": 128,
                       "description": "the request_id returned with the prediction"},
        "row": {"type": "integer", "minimum": 0, "default": 0,
                "description": "the record's position in that request (0 for a single record)"},
        "actual": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
                   "description": "the true label or value"}}}


@router.post("/feedback", summary="Report the true outcome of logged predictions",
             openapi_extra=_BODY, response_model=None)
async def feedback(request: Request) -> dict:
    """One ``{"request_id", "row", "actual"}`` object or a list of them. Answers how many
    were received and how many match a logged prediction (unsampled requests are not
    logged, so their feedback has nothing to join)."""
    state = request.app.state
    if state.store is None:
        raise RequestError(409, "This server has no store, so there is no prediction log to join "
                                "feedback to; start it with --store URL or serve a folder of models.")
    body = await read_body(request, state.settings.max_body_bytes)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise RequestError(422, "The body is not valid JSON; send an object or a list of objects "
                                "with request_id, row and actual.") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise RequestError(422, "Empty list: send at least one feedback item.")
    if len(items) > MAX_ITEMS:
        raise RequestError(413, f"{len(items)} feedback items in one request; the limit is {MAX_ITEMS}.")
    try:
        return await anyio.to_thread.run_sync(record_feedback, state.store, items)
    except DataError as exc:
        raise RequestError(422, str(exc)) from None
