"""The model directory behind each model version seen in the log, read for monitoring:
its manifest (task, metric, validation estimate), request schema and reference profile.

The pickled model is never loaded: monitoring needs only these small JSON files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import MLExpertError

CATEGORY_KINDS = ("categorical", "high_cardinality")


@dataclass
class ModelInfo:
    """What monitoring knows about one model version (``path`` None: not found)."""

    name: str
    version: str
    path: Path | None = None
    kind: str | None = None          # binary, multiclass, regression
    classes: list = field(default_factory=list)
    metric: str | None = None
    cv_score: float | None = None
    target: str | None = None
    profile: dict | None = None
    fields: dict = field(default_factory=dict)  # input field -> number | text
    notes: list[str] = field(default_factory=list)


def model_paths(root: Path) -> dict[tuple[str, str], Path]:
    """``{(name, version): directory}`` for the layouts a server serves (see
    :mod:`mlexpert.serve.catalog`): one model directory, ``NAME/`` or ``NAME/VERSION/``."""
    from ..serve.catalog import _model_dirs

    root = Path(root)
    if not root.is_dir():
        return {}
    return {(name, str(version)): path for name, version, path in _model_dirs(root)}


def load_info(name: str, version: str, paths: dict, root: Path) -> ModelInfo:
    """The :class:`ModelInfo` of a logged model version; problems become notes."""
    from .profile import read_profile

    info = ModelInfo(name, version, paths.get((name, version)))
    if info.path is None:
        info.notes.append(f"No model directory for {name} version {version} under {root}: drift "
                          "and performance need its manifest and reference profile. Point "
                          "ROOT at the folder the server serves (or the registry root).")
        return info
    try:
        manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        info.notes.append(f"Cannot read {info.path / 'manifest.json'}: {exc}.")
        return info
    task = manifest.get("task") or {}
    info.kind, info.classes = task.get("kind"), list(task.get("classes") or [])
    info.metric, info.cv_score = manifest.get("metric"), manifest.get("cv_score")
    info.target = manifest.get("target")
    info.fields = input_fields(info.path / "schema.json")
    try:
        info.profile = read_profile(info.path)
    except MLExpertError as exc:
        info.notes.append(f"Input drift not measured: {exc}")
    return info


def input_fields(path: Path) -> dict[str, str]:
    """The model's feature columns and how to read them from a logged record: ``number``
    (numbers, and categories whose training values were numbers) or ``text`` (strings,
    dates, booleans: read as their text; the drift counts canonicalise them)."""
    from ..data.schema import FEATURE_KINDS

    try:
        columns = json.loads(path.read_text(encoding="utf-8")).get("columns", [])
    except (OSError, ValueError):
        return {}
    out = {}
    for c in columns:
        kind, dtype = c.get("kind"), str(c.get("dtype", "")).lower()
        if kind not in FEATURE_KINDS:
            continue
        numeric_dtype = any(t in dtype for t in ("int", "float")) and "bool" not in dtype
        out[c["name"]] = "number" if kind == "numeric" or (kind in CATEGORY_KINDS and numeric_dtype) else "text"
    return out
