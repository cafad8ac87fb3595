"""Server settings: from the command line, or from environment variables in each worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import InvalidParameterError

ENV = {
    "model_dir": "MLEXPERT_MODEL_DIR",
    "api_key": "MLEXPERT_API_KEY",
    "max_body_mb": "MLEXPERT_MAX_BODY_MB",
    "max_upload_mb": "MLEXPERT_MAX_UPLOAD_MB",
    "max_rows": "MLEXPERT_MAX_ROWS",
    "runtime": "MLEXPERT_RUNTIME",
    "store": "MLEXPERT_STORE",
    "log_sample": "MLEXPERT_LOG_SAMPLE",
    "log_max_rows": "MLEXPERT_LOG_MAX_ROWS",
    "log_max_days": "MLEXPERT_LOG_MAX_DAYS",
    "reload_s": "MLEXPERT_RELOAD_S",
}
RUNTIMES = ("python", "onnx")


@dataclass(frozen=True)
class ServeSettings:
    """What one server process needs to know.

    ``max_body_mb`` limits JSON request bodies, ``max_upload_mb`` batch uploads and
    ``max_rows`` the rows of one JSON or v2 request (a batch upload has no row limit:
    it is scored in chunks). ``runtime`` "onnx" predicts with each model directory's
    ``model.onnx`` (from ``mlexpert export``) in onnxruntime instead of the Python model.

    ``store`` (a SQLAlchemy URL or a SQLite file) holds the registry, the prediction log
    and feedback; by default a folder of models keeps it in ``DIR/mlexpert.db`` and a single
    model directory has none (no log). ``log_sample`` is the share of requests logged
    (0 turns the log off), ``log_max_rows``/``log_max_days`` its retention. ``reload_s``
    is how often the registry is polled for a new champion (0: never).
    """

    model_dir: Path
    api_key: str | None = None
    max_body_mb: float = 10.0
    max_upload_mb: float = 2048.0
    max_rows: int = 10_000
    runtime: str = "python"
    store: str | None = None
    log_sample: float = 1.0
    log_max_rows: int | None = None
    log_max_days: float | None = None
    reload_s: float = 2.0

    def __post_init__(self):
        if self.runtime not in RUNTIMES:
            raise InvalidParameterError(f"The runtime must be one of {', '.join(RUNTIMES)}, got "
                                        f"{self.runtime!r}.")
        for name in ("max_body_mb", "max_upload_mb", "max_rows"):
            if not getattr(self, name) > 0:
                raise InvalidParameterError(f"The {name!r} setting must be positive, got "
                                            f"{getattr(self, name)!r}.")
        if not 0.0 <= self.log_sample <= 1.0:
            raise InvalidParameterError(f"The log sampling rate must be between 0 and 1, got "
                                        f"{self.log_sample!r}.")
        for name in ("log_max_rows", "log_max_days"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise InvalidParameterError(f"The {name!r} setting must be positive, got "
                                            f"{getattr(self, name)!r}.")
        if self.reload_s < 0:
            raise InvalidParameterError(f"The reload interval must be >= 0 seconds, got {self.reload_s!r}.")
        if self.api_key is not None and len(self.api_key) < 16:
            raise InvalidParameterError("The API key is too short: use at least 16 characters, "
                                        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`.")

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 2**20)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    def store_url(self) -> str | None:
        """The store this server logs to (and reads its registry from), or None."""
        from ..artifacts.bundle import MANIFEST
        from ..store import store_url

        if self.store:
            return store_url(url=self.store)
        if (Path(self.model_dir) / MANIFEST).exists():
            return None  # a single model directory: no default store inside it
        return store_url(self.model_dir)

    def to_env(self) -> dict[str, str]:
        """Environment variables that :meth:`from_env` reads back (for worker processes)."""
        env = {ENV[k]: str(getattr(self, k)) for k in ENV if getattr(self, k) is not None}
        env[ENV["model_dir"]] = str(Path(self.model_dir).resolve())
        return env

    @classmethod
    def from_env(cls, environ=os.environ) -> "ServeSettings":
        if ENV["model_dir"] not in environ:
            raise InvalidParameterError(f"Set {ENV['model_dir']} to the model directory to serve.")
        values: dict = {"model_dir": Path(environ[ENV["model_dir"]])}
        for key, cast in (("api_key", str), ("max_body_mb", float), ("max_upload_mb", float),
                          ("max_rows", int), ("runtime", str), ("store", str), ("log_sample", float),
                          ("log_max_rows", int), ("log_max_days", float), ("reload_s", float)):
            raw = environ.get(ENV[key])
            if raw:
                try:
                    values[key] = cast(raw)
                except ValueError:
                    raise InvalidParameterError(f"{ENV[key]}={raw!r} is not a valid "
                                                f"{cast.__name__}.") from None
        return cls(**values)
