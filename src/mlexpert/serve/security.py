"""API-key check for prediction endpoints (constant-time), and body-size limits."""

from __future__ import annotations

import hmac

from fastapi import Request

from .errors import RequestError


async def check_api_key(request: Request) -> None:
    """Refuse the request (401) unless it carries the server's key, when one is set.

    The key goes in ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``; it is compared
    with :func:`hmac.compare_digest`, so timing does not reveal how much of a guess is right.
    """
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    supplied = request.headers.get("x-api-key")
    if supplied is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        supplied = token.strip() if scheme.lower() == "bearer" else None
    if supplied is None or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise RequestError(401, "Missing or wrong API key: send it as 'X-API-Key: KEY' or "
                                "'Authorization: Bearer KEY'.")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, _too_large(int(declared), limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, _too_large(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (f"The request body is too large ({size / 2**20:.1f} MB > {limit / 2**20:.1f} MB). Send "
            "fewer rows per request, use POST /predict/batch, or raise --max-body-mb.")
