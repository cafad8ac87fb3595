"""Which models a server serves, found on disk and loaded once at start-up.

``DIR`` is either one model directory (served under its folder name, version ``1``), or a
folder holding model directories ``NAME/`` or ``NAME/VERSION/``. The latest version
(natural order: ``2`` < ``10``) is the default of its name. Every directory is verified
against its checksums when loaded: a modified model refuses to load and the server does
not start.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..artifacts.bundle import MANIFEST
from ..exceptions import ArtifactError
from .errors import RequestError
from .onnx_runtime import open_session, predict_onnx
from .records import RecordSchema


@dataclass
class Prediction:
    """Outputs for a batch of rows, as plain Python values."""

    labels: list
    probabilities: np.ndarray | None  # (n, k) for classification
    classes: list


@dataclass
class ServedModel:
    """A loaded model with its request schema and a lock around its predictions."""

    name: str
    version: str
    path: Path
    result: object  # mlexpert.result.FitResult
    runtime: str = "python"  # or "onnx": predict with DIR/model.onnx in onnxruntime
    records: RecordSchema = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self.records = RecordSchema(self.result.pipeline.schema)
        self._limiter = None
        self.session = open_session(self.path) if self.runtime == "onnx" else None

    async def predict_async(self, rows: list[dict] | pd.DataFrame) -> Prediction:
        """:meth:`predict` in a worker thread, one at a time per model: waiting requests
        queue here instead of parking threads of the shared pool (which would stall the
        synchronous endpoints, and the health checks with them)."""
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self.predict, rows, limiter=self._limiter)

    @property
    def manifest(self) -> dict:
        return self.result.manifest

    @property
    def task(self) -> str:
        return self.result.pipeline.task.kind

    @property
    def classes(self) -> list:
        return [_plain(c) for c in self.result.pipeline.task.classes] if self.task != "regression" else []

    def predict(self, rows: list[dict] | pd.DataFrame) -> Prediction:
        """Labels (at the saved threshold) and probabilities for validated records (see
        :class:`RecordSchema`) or a frame of them. One record on the Python runtime takes
        :meth:`FittedPipeline.predict_record` (no one-row DataFrame)."""
        pipeline = self.result.pipeline
        if isinstance(rows, list) and (len(rows) > 1 or self.session is not None):
            rows = self.records.frame(rows)
        if self.session is not None:
            with self.lock:
                labels, probs = predict_onnx(self.session, rows, pipeline.schema, self.task)
            if probs is None:
                return Prediction(labels, None, [])
            by_text = {str(c): c for c in self.classes}  # string labels back to class values
            return Prediction([by_text.get(str(_plain(v)), _plain(v)) for v in labels], probs,
                              self.classes)
        with self.lock:
            out = (pipeline.predict_record(rows[0]) if isinstance(rows, list)
                   else pipeline.predict_output(rows))
        labels = [_plain(v) for v in pipeline.decide(out)]
        probs = np.asarray(out, dtype=float) if self.task != "regression" else None
        return Prediction(labels, probs, self.classes)

    def batch_blocks(self, source, fmt: str, out_fmt: str, proba: bool, keep: tuple[str, ...],
                     chunk_rows: int, metrics, on_chunk=None):
        """Encoded prediction blocks for a whole file (Python model), counted in ``metrics``
        (and logged through ``on_chunk``)."""
        from ..batch import iter_prediction_chunks

        counted = [0]

        def progress(p):
            metrics.rows.labels(self.name, self.version).inc(p.rows - counted[0])
            counted[0] = p.rows

        return iter_prediction_chunks(self.result, source, fmt=fmt, out_fmt=out_fmt,
                                      chunk_rows=chunk_rows, proba=proba, keep=keep,
                                      progress=progress, on_chunk=on_chunk)

    def card(self) -> dict:
        """What a client (or the web page) needs to know about this model."""
        m = self.manifest
        return {
            "name": self.name, "version": self.version, "task": self.task,
            "target": m.get("target"), "metric": m.get("metric"), "cv_score": m.get("cv_score"),
            "cv_strategy": m.get("cv_strategy"), "created_at": m.get("created_at"),
            "n_rows": m.get("n_rows"), "classes": self.classes,
            "threshold": self.result.pipeline.threshold,
            "data_fingerprint": m.get("data_fingerprint"),
            "mlexpert_version": m.get("mlexpert_version"),
            "inputs": self.records.describe(),
            "has_report": (self.path / "report.html").exists(),
            "runtime": self.runtime,
        }


class Catalog:
    """Served models by name, then version; one of them is the default.

    Each name's default version is its registry champion when the folder is a registry,
    else its latest version. :meth:`replace` swaps in a new set of models at once (a hot
    reload): a request reads one consistent snapshot, so it never sees half a change.
    """

    def __init__(self, models: list[ServedModel], defaults: dict[str, str] | None = None,
                 shadows: dict[str, str] | None = None):
        self.replace(models, defaults, shadows)

    def replace(self, models: list[ServedModel], defaults: dict[str, str] | None = None,
                shadows: dict[str, str] | None = None) -> None:
        by_name: dict[str, dict[str, ServedModel]] = {}
        for m in models:
            by_name.setdefault(m.name, {})[m.version] = m
        defaults = defaults or {}
        latest = {name: defaults.get(name) if defaults.get(name) in versions
                  else max(versions, key=_natural) for name, versions in by_name.items()}
        shadows = {n: v for n, v in (shadows or {}).items() if v in by_name.get(n, {})}
        if not by_name:
            raise ArtifactError("No model left to serve: every version is archived or deleted. "
                                "Promote one with `mlexpert registry promote NAME VERSION`.")
        self._state = (by_name, latest, shadows, next(iter(by_name)))

    @property
    def models(self) -> dict[str, dict[str, ServedModel]]:
        return self._state[0]

    @property
    def latest(self) -> dict[str, str]:
        """Each name's default version: the champion, or the latest."""
        return self._state[1]

    @property
    def default(self) -> str:
        return self._state[3]

    def get(self, name: str | None = None, version: str | None = None) -> ServedModel:
        models, latest, _, default = self._state
        name = name or default
        if name not in models:
            raise RequestError(404, f"No model named {name!r}; served models: "
                                    f"{', '.join(sorted(models))}.")
        versions = models[name]
        version = version or latest[name]
        if version not in versions:
            raise RequestError(404, f"Model {name!r} has no served version {version!r}; versions: "
                                    f"{', '.join(sorted(versions, key=_natural))}.")
        return versions[version]

    def shadow_of(self, model: ServedModel) -> ServedModel | None:
        """The version shadow-tested beside ``model``, when ``model`` is its name's default."""
        models, latest, shadows, _ = self._state
        if latest.get(model.name) != model.version or model.name not in shadows:
            return None
        return models[model.name].get(shadows[model.name])

    def all(self) -> list[ServedModel]:
        return [m for versions in self.models.values() for m in versions.values()]


def discover(root: str | Path, runtime: str = "python", registry=None) -> Catalog:
    """Load every model directory under ``root`` (see the module docstring); with a
    ``registry``, its names serve their champion, candidates and shadow (not archived ones)."""
    root = Path(root)
    if not root.is_dir():
        raise ArtifactError(f"Model directory {str(root)!r} does not exist. Train one with "
                            "`mlexpert fit DATA --target COL --out DIR`.")
    found = _model_dirs(root)
    if not found:
        raise ArtifactError(f"{str(root)!r} holds no mlexpert model directory ({MANIFEST} not "
                            "found in it, its subfolders or theirs). Point at a model folder.")
    wanted, defaults, shadows = _registry_view(found, registry)
    catalog = Catalog([_load(name, version, path, runtime) for name, version, path in wanted],
                      defaults, shadows)
    return catalog


def refresh(catalog: Catalog, root: str | Path, runtime: str, registry) -> bool:
    """Reload ``catalog`` from the registry (new champion, new or deleted versions); models
    already loaded are kept. Returns whether anything changed."""
    found = _model_dirs(Path(root))
    wanted, defaults, shadows = _registry_view(found, registry)
    loaded = {(m.name, m.version): m for m in catalog.all()}
    models = [loaded.get((n, v)) or _load(n, v, p, runtime) for n, v, p in wanted]
    before = ({k for k in loaded}, dict(catalog.latest), dict(catalog._state[2]))
    catalog.replace(models, defaults, shadows)
    return before != ({(m.name, m.version) for m in models}, dict(catalog.latest), dict(catalog._state[2]))


def _registry_view(found, registry):
    """Which of ``found`` to serve, each name's default version and its shadow version."""
    if registry is None:
        return found, {}, {}
    served: dict[str, set[str]] = {}
    defaults, shadows = {}, {}
    for name in registry.names():
        versions = registry.versions(name)
        served[name] = {str(v.version) for v in versions if v.stage != "archived" or v.shadow}
        defaults.update({name: str(v.version) for v in versions if v.stage == "champion"})
        shadows.update({name: str(v.version) for v in versions if v.shadow})
    wanted = [(n, v, p) for n, v, p in found if n not in served or v in served[n]]
    return wanted, defaults, shadows


def _load(name: str, version: str, path: Path, runtime: str) -> ServedModel:
    from ..api import load

    return ServedModel(name, version, path, load(path), runtime)


def verify_all(root: str | Path) -> int:
    """Check the checksums of every model directory under ``root`` without loading them."""
    from ..artifacts.bundle import read_manifest

    root = Path(root)
    if not root.is_dir():
        raise ArtifactError(f"Model directory {str(root)!r} does not exist.")
    found = _model_dirs(root)
    if not found:
        raise ArtifactError(f"{str(root)!r} holds no mlexpert model directory.")
    for _, _, path in found:
        read_manifest(path)
    return len(found)


def _model_dirs(root: Path) -> list[tuple[str, str, Path]]:
    if (root / MANIFEST).exists():
        return [(root.resolve().name, "1", root)]
    found = []
    for child in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (child / MANIFEST).exists():
            found.append((child.name, "1", child))
            continue
        for sub in sorted((p for p in child.iterdir() if (p / MANIFEST).exists()
                           and not p.name.startswith(".")), key=lambda p: _natural(p.name)):
            found.append((child.name, sub.name, sub))
    return found


def _natural(text: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", text))


def _plain(value):
    """A numpy scalar as the Python value JSON can carry."""
    return value.item() if isinstance(value, np.generic) else value
