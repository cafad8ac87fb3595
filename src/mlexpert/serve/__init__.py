"""The model server: real-time and batch prediction over HTTP (``mlexpert serve``).

One FastAPI app per process serves a model directory, or a folder of model directories by
name and version (:mod:`.catalog`). Routes: the JSON and batch endpoints (:mod:`.predict`),
the Open Inference Protocol v2 (:mod:`.v2`), health and Prometheus metrics
(:mod:`.health`, :mod:`.metrics`) and a small web page (:mod:`.page`).
Needs the ``serve`` extra: ``pip install "mlexpert[serve]"``.
"""

from .settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def create_app(settings: ServeSettings):
    """The FastAPI app for ``settings`` (imported lazily: FastAPI is an optional extra)."""
    from .app import create_app as _create

    return _create(settings)
