"""One registered model version as Python sees it, and what a row holds of a manifest."""

from __future__ import annotations

import getpass
import json
import math
import re
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..exceptions import InvalidParameterError
from ..store import STAGES

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


@dataclass(frozen=True)
class VersionInfo:
    """A row of the registry: where the model lives, its stage and its lineage."""

    name: str
    version: int
    stage: str  # candidate | champion | archived
    path: Path  # absolute: ROOT/NAME/VERSION
    created_at: str
    created_by: str
    data_fingerprint: str | None
    parent_version: int | None
    task: str | None
    metric: str | None
    cv_score: float | None
    metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    checksum: str | None = None
    shadow: bool = False
    note: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON values (the path as a string)."""
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def version_from_row(root: Path, row) -> VersionInfo:
    """A :class:`VersionInfo` from a ``model_versions`` row."""
    m = row._mapping
    return VersionInfo(
        name=m["name"], version=int(m["version"]), stage=m["stage"],
        path=(root / m["path"]).resolve(), created_at=m["created_at"],
        created_by=m["created_by"], data_fingerprint=m["data_fingerprint"],
        parent_version=m["parent_version"], task=m["task"], metric=m["metric"],
        cv_score=m["cv_score"], metrics=_loads(m["metrics"]), settings=_loads(m["settings"]),
        checksum=m["checksum"], shadow=bool(m["shadow"]), note=m["note"],
    )


def manifest_fields(manifest: dict) -> dict:
    """The columns a version takes from its model's manifest.json."""
    task = manifest.get("task")
    score = manifest.get("cv_score")
    return {
        "task": task.get("kind") if isinstance(task, dict) else task,
        "metric": manifest.get("metric"),
        "cv_score": float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None,
        "data_fingerprint": manifest.get("data_fingerprint"),
        "metrics": dumps(evaluation_summary(manifest.get("evaluation") or {})),
        "settings": dumps(manifest.get("settings") or {}),
    }


def evaluation_summary(evaluation: dict) -> dict:
    """Each evaluated set's row count and metric values, without curves or intervals."""
    summary = {}
    for section in ("cross_validation", "test"):
        part = evaluation.get(section)
        if not isinstance(part, dict):
            continue
        values = {name: entry.get("value") for name, entry in (part.get("metrics") or {}).items()
                  if isinstance(entry, dict)}
        summary[section] = {"n_rows": part.get("n_rows"), "metrics": values}
    return summary


def check_name(name: str) -> str:
    """A model name usable as a folder and in URLs, or a clear error."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidParameterError(
            f"Invalid model name {name!r}: use 1 to 100 letters, digits, '-' or '_', starting "
            "with a letter or digit (it becomes a folder and part of the serving URL)."
        )
    return name


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InvalidParameterError(f"Unknown stage {stage!r}; use one of {', '.join(STAGES)}.")
    return stage


def check_version(version) -> int:
    """A version number (an int, or its digits as text), or a clear error."""
    text = str(version).strip()
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidParameterError(f"Invalid version {version!r}: versions are whole numbers "
                                    "from 1 (see `mlexpert registry list NAME`).")
    return int(text)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_actor() -> str:
    """``user@host``: who made a change, when the caller does not say."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def dumps(value) -> str | None:
    """Compact JSON text; NaN and infinities become null (JSON has no such numbers)."""
    return None if value is None else json.dumps(_finite(value), sort_keys=True, default=str)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _loads(text):
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}
