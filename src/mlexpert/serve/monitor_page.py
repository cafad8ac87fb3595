"""The monitoring page (``/monitor``): drift and performance over time, from the store.

The page is static HTML; it fetches ``/monitor/data`` (API key protected, like the
predictions it summarises), which runs :func:`mlexpert.monitoring.runner.run_monitor`
over the most recent ``max_rows`` logged predictions in a worker thread. Results are
cached for ``CACHE_S`` seconds so a page left open does not rescan the log.
"""

from __future__ import annotations

import threading
import time

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ._jinja import template
from .errors import RequestError
from .security import check_api_key

router = APIRouter(tags=["monitoring"])
data_router = APIRouter(tags=["monitoring"], dependencies=[Depends(check_api_key)])
CACHE_S = 10.0
MAX_ROWS = 200_000
_cache: dict[tuple, tuple[float, dict]] = {}
_cache_lock = threading.Lock()




@router.get("/monitor", response_class=HTMLResponse, summary="Drift and performance over time")
async def monitor_page(request: Request, model: str | None = None) -> HTMLResponse:
    catalog = request.app.state.catalog
    served = catalog.get(model)
    html = template("monitor.html").render(name=served.name, names=sorted(catalog.models),
                              version=served.version, has_store=request.app.state.store is not None,
                              needs_key=request.app.state.settings.api_key is not None)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@data_router.get("/monitor/data", summary="Monitoring results (JSON) for the page")
async def monitor_data(request: Request, model: str | None = None,
                       window: str = Query("auto", max_length=20),
                       max_rows: int = Query(MAX_ROWS, ge=100, le=5_000_000)) -> dict:
    state = request.app.state
    if state.store is None:
        raise RequestError(409, "This server has no store, so nothing is logged to monitor; start "
                                "it with --store URL or serve a folder of models.")
    name = state.catalog.get(model).name
    if state.prediction_log is not None:  # include what was just predicted
        await anyio.to_thread.run_sync(state.prediction_log.flush, 2.0)
    key = (state.store.url, name, window, max_rows)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    result = await anyio.to_thread.run_sync(_run, state, name, window, max_rows)
    now = time.monotonic()
    with _cache_lock:  # expired entries go, so odd query strings cannot grow the cache
        for stale in [k for k, (at, _) in _cache.items() if now - at >= CACHE_S]:
            del _cache[stale]
        _cache[key] = (now, result)
    return result


def _run(state, name: str, window: str, max_rows: int) -> dict:
    from ..exceptions import MLExpertError
    from ..monitoring.runner import run_monitor

    try:
        return run_monitor(state.settings.model_dir, store_url=state.store.url, name=name,
                           window=window, max_rows=max_rows)
    except MLExpertError as exc:
        raise RequestError(422, str(exc)) from None
