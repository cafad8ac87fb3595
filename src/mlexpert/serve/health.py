"""``/health`` (with what is served) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness, and the models served")
async def health(request: Request) -> dict:
    catalog = request.app.state.catalog
    return {"status": "ok", "default": catalog.default,
            "models": [{"name": m.name, "version": m.version, "task": m.task, "runtime": m.runtime,
                        "latest": m.version == catalog.latest[m.name]} for m in catalog.all()]}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    m = request.app.state.metrics
    return Response(m.exposition(), media_type=m.content_type)
