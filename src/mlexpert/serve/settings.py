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
}
RUNTIMES = ("python", "onnx")


@dataclass(frozen=True)
class ServeSettings:
    """What one server process needs to know.

    ``max_body_mb`` limits JSON request bodies, ``max_upload_mb`` batch uploads and
    ``max_rows`` the rows of one JSON or v2 request (a batch upload has no row limit:
    it is scored in chunks). ``runtime`` "onnx" predicts with each model directory's
    ``model.onnx`` (from ``mlexpert export``) in onnxruntime instead of the Python model.
    """

    model_dir: Path
    api_key: str | None = None
    max_body_mb: float = 10.0
    max_upload_mb: float = 2048.0
    max_rows: int = 10_000
    runtime: str = "python"

    def __post_init__(self):
        if self.runtime not in RUNTIMES:
            raise InvalidParameterError(f"The runtime must be one of {', '.join(RUNTIMES)}, got "
                                        f"{self.runtime!r}.")
        for name in ("max_body_mb", "max_upload_mb", "max_rows"):
            if not getattr(self, name) > 0:
                raise InvalidParameterError(f"The {name!r} setting must be positive, got "
                                            f"{getattr(self, name)!r}.")
        if self.api_key is not None and len(self.api_key) < 16:
            raise InvalidParameterError("The API key is too short: use at least 16 characters, "
                                        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`.")

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 2**20)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

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
                          ("max_rows", int), ("runtime", str)):
            raw = environ.get(ENV[key])
            if raw:
                try:
                    values[key] = cast(raw)
                except ValueError:
                    raise InvalidParameterError(f"{ENV[key]}={raw!r} is not a valid "
                                                f"{cast.__name__}.") from None
        return cls(**values)
