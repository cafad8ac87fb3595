"""Assemble the FastAPI app: routes, error handling, request ids and metrics, the OpenAPI schema."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..monitoring.log import PredictionLogger
from ..store import open_store
from . import batch, feedback, health, monitor_page, page, v2
from .catalog import discover
from .errors import RequestError
from .metrics import ServerMetrics
from .predict import predict_router, schema_name
from .reload import RegistryWatcher
from .settings import ServeSettings

log = logging.getLogger("mlexpert.serve")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def create_app(settings: ServeSettings) -> FastAPI:
    """Load the models under ``settings.model_dir`` (verifying checksums) and build the app.

    With a store (see :meth:`ServeSettings.store_url`), predictions are logged to it and
    ``POST /feedback`` records outcomes; when the folder is a registry, each name serves
    its champion, a shadow version predicts beside it, and a new champion is picked up
    without a restart (:mod:`.reload`).
    """
    url = settings.store_url()
    store = open_store(url) if url else None
    registry = _registry(settings.model_dir, url) if store is not None else None
    catalog = discover(settings.model_dir, settings.runtime, registry)
    default = catalog.get()
    logger = (PredictionLogger(store, sample_rate=settings.log_sample, max_rows=settings.log_max_rows,
                               max_days=settings.log_max_days)
              if store is not None and settings.log_sample > 0 else None)
    watcher = (RegistryWatcher(None, registry, settings.reload_s)
               if registry is not None and settings.reload_s > 0 else None)
    app = FastAPI(title=f"mlexpert: {default.name}", version=__version__,
                  description=f"Predicts {default.manifest.get('target')!r} ({default.task}). "
                              "Served by mlexpert.", lifespan=_lifespan(watcher, logger))
    app.state.settings, app.state.catalog = settings, catalog
    app.state.store, app.state.registry, app.state.prediction_log = store, registry, logger
    app.state.watcher = watcher
    if watcher is not None:
        watcher.app = app
    app.state.metrics = ServerMetrics(catalog)
    for router in (batch.router, predict_router(catalog), v2.router, v2.infer_router, health.router,
                   page.router, page.report_router, feedback.router, monitor_page.router,
                   monitor_page.data_router):
        app.include_router(router)
    _add_error_handlers(app)
    app.add_middleware(_Observe, metrics=app.state.metrics)
    app.openapi = lambda: _openapi(app, catalog)
    return app


def _registry(root, url: str):
    """The registry of ``root`` when its store has registered models, else None."""
    from ..registry import Registry

    registry = Registry(root, store_url=url)
    return registry if registry.names() else None


def _lifespan(watcher, logger):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with anyio.create_task_group() as tasks:
            if watcher is not None:
                tasks.start_soon(watcher.run)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
        if logger is not None:  # write what is queued before the process ends
            await anyio.to_thread.run_sync(logger.close)

    return lifespan


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers: settings come from MLEXPERT_* environment variables."""
    return create_app(ServeSettings.from_env())


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError):
        _count_error(request, exc.status)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        _count_error(request, 422)
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = details[0] if details else {"field": "request", "message": "invalid"}
        return JSONResponse({"error": f"Invalid {first['field']}: {first['message']}.",
                             "details": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        _count_error(request, exc.status_code)
        message = "Not found: see /docs for the endpoints." if exc.status_code == 404 else str(exc.detail)
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        request_id = request.scope.get("state", {}).get("request_id", "?")
        log.exception("request %s failed", request_id)
        _count_error(request, 500)
        return JSONResponse({"error": f"Internal error while predicting (request id {request_id}); "
                                      "the server log has the details."}, status_code=500)


def _count_error(request: Request, status: int) -> None:
    route = request.scope.get("route")
    reason = {401: "auth", 404: "not_found", 413: "too_large", 422: "invalid", 400: "invalid"}.get(
        status, "internal" if status >= 500 else "other")
    request.app.state.metrics.errors.labels(getattr(route, "path", "unmatched"), reason).inc()


class _Observe:
    """ASGI middleware: a request id on every response, and request count and latency metrics."""

    def __init__(self, app, metrics: ServerMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = list(message.get("headers", [])) + [
                    (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe_request(route, scope["method"], status[0], time.perf_counter() - start)


def _openapi(app: FastAPI, catalog) -> dict:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    default = catalog.get()
    for model in catalog.all():
        components[schema_name(model, model is default)] = model.records.json_schema()
    components["Feedback"] = feedback.FEEDBACK_SCHEMA
    names = sorted(catalog.models)
    versions = sorted({v for vs in catalog.models.values() for v in vs})
    for methods in schema["paths"].values():
        for op in methods.values():
            for param in op.get("parameters", []):
                if param.get("in") == "path" and param["name"] in ("name", "version"):
                    param["schema"]["examples"] = names if param["name"] == "name" else versions
    if app.state.settings.api_key is not None:
        schema["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        for path, methods in schema["paths"].items():
            if ("predict" in path or path.endswith("/infer") or path.endswith("/report")
                    or path in ("/feedback", "/monitor/data")):
                for op in methods.values():
                    op["security"] = [{"ApiKey": []}]
    app.openapi_schema = schema
    return schema
