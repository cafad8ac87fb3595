"""``mlexpert serve``: a production model server (FastAPI on uvicorn)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import console
from ._errors import err_console, handle_errors


def serve_command(
    model_dir: Annotated[Path, typer.Argument(help="A model directory, or a folder of them (NAME/ or NAME/VERSION/).")],
    host: Annotated[str, typer.Option(help="Address to bind. The default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the models).")] = 1,
    api_key: Annotated[Optional[str], typer.Option(envvar="MLEXPERT_API_KEY", show_envvar=True,
                       help="Require this key on prediction endpoints (prefer the environment variable).")] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest JSON request body.")] = 10.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest file for POST /predict/batch.")] = 2048.0,
    max_rows: Annotated[int, typer.Option(help="Most records in one JSON or v2 request.")] = 10_000,
    runtime: Annotated[str, typer.Option(envvar="MLEXPERT_RUNTIME", show_envvar=True, help="python (the saved model) or onnx (DIR/model.onnx from "
                                               "`mlexpert export`, in onnxruntime: faster).")] = "python",
    store: Annotated[Optional[str], typer.Option(envvar="MLEXPERT_STORE", show_envvar=True,
                     help="Store for the prediction log, feedback and registry: a SQLAlchemy URL "
                          "(postgresql://...) or a SQLite file. Default: DIR/mlexpert.db for a folder "
                          "of models; none (no log) for a single model directory.")] = None,
    log_sample: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of requests logged (0: no log).")] = 1.0,
    log_max_rows: Annotated[Optional[int], typer.Option(min=1, help="Keep at most this many logged rows.")] = None,
    log_max_days: Annotated[Optional[float], typer.Option(help="Delete logged rows older than this.")] = None,
    reload_s: Annotated[float, typer.Option(min=0.0, help="Poll the registry for a new champion every "
                                                          "this many seconds (0: never).")] = 2.0,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Serve MODEL_DIR over HTTP: JSON and batch prediction, Open Inference Protocol v2,
    /health, /metrics, a web page at / and monitoring at /monitor.

    A folder of models (or a registry) logs predictions to its store and accepts outcomes
    at POST /feedback; on a registry each name serves its champion, shadow-tests its shadow
    version and picks up a newly promoted champion without a restart.

    Security: a model directory contains pickles; serve only models you trust. Checksums are
    verified before loading, and the server binds to 127.0.0.1 unless --host says otherwise.
    """
    with handle_errors(verbose):
        import uvicorn

        from ..serve import ServeSettings
        from ..serve.catalog import verify_all

        settings = ServeSettings(model_dir=model_dir, api_key=api_key, max_body_mb=max_body_mb,
                                 max_upload_mb=max_upload_mb, max_rows=max_rows,
                                 runtime=runtime, store=store, log_sample=log_sample,
                                 log_max_rows=log_max_rows, log_max_days=log_max_days,
                                 reload_s=reload_s)
        _warn_if_exposed(host, api_key)
        options = dict(host=host, port=port, log_level="info", access_log=access_log,
                       timeout_graceful_shutdown=10)
        if workers == 1:
            from ..serve import create_app

            app = create_app(settings)
            console.print(f"Serving {model_dir} on http://{host}:{port}/ (Ctrl+C to stop).")
            uvicorn.run(app, **options)
            return
        verify_all(model_dir)  # fail here, once, rather than in every worker
        metrics_dir = tempfile.mkdtemp(prefix="mlexpert-metrics-")
        os.environ.update(settings.to_env())
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            console.print(f"Serving {model_dir} on http://{host}:{port}/ with {workers} workers.")
            uvicorn.run("mlexpert.serve.app:app_from_env", factory=True, workers=workers, **options)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _warn_if_exposed(host: str, api_key: str | None) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and api_key is None:
        err_console.print(f"[yellow]warning:[/] serving on {host} without an API key: anyone who can "
                          "reach this address can call the model. Set MLEXPERT_API_KEY.")
