"""What a report is made from: a model directory's manifest, leaderboard and schema (the
pickled model itself is never loaded)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..exceptions import ArtifactError, InvalidParameterError


@dataclass
class ReportSource:
    """The saved facts about one model."""

    manifest: dict
    leaderboard: pd.DataFrame | None = None
    schema: dict | None = None
    path: Path | None = None
    notes: list[str] = field(default_factory=list)


def read_source(source, leaderboard: pd.DataFrame | None = None,
                schema: dict | None = None) -> ReportSource:
    """A :class:`ReportSource` from a model directory, a manifest dict, or a ``FitResult``."""
    if isinstance(source, ReportSource):
        return source
    if isinstance(source, dict):
        return ReportSource(source, leaderboard, schema)
    if hasattr(source, "manifest") and isinstance(source.manifest, dict):  # a FitResult
        lb = leaderboard if leaderboard is not None else getattr(source, "leaderboard", None)
        pipe_schema = getattr(getattr(source, "pipeline", None), "schema", None)
        if schema is None and hasattr(pipe_schema, "to_dict"):
            schema = pipe_schema.to_dict()
        return ReportSource(source.manifest, lb, schema, getattr(source, "path", None))
    if isinstance(source, (str, os.PathLike)):
        return read_model_dir(source)
    raise InvalidParameterError(
        f"A report is made from a model directory, a manifest dict or a FitResult; got "
        f"{type(source).__name__}.")


def read_model_dir(directory: str | os.PathLike) -> ReportSource:
    """Verify the directory's checksums and read its manifest, leaderboard and schema."""
    from ..artifacts.bundle import read_manifest

    root = Path(directory)
    if root.is_dir() and not (root / "manifest.json").exists():
        raise ArtifactError(
            f"{str(directory)!r} is not an mlexpert model directory (no manifest.json). Give the "
            "--out folder of `mlexpert fit`.")
    manifest = read_manifest(root)
    notes = []
    leaderboard = None
    if (root / "leaderboard.csv").exists():
        try:
            leaderboard = pd.read_csv(root / "leaderboard.csv")
        except (OSError, ValueError) as exc:
            notes.append(f"leaderboard.csv could not be read ({exc}).")
    schema = None
    if (root / "schema.json").exists():
        try:
            schema = json.loads((root / "schema.json").read_text())
        except (OSError, ValueError) as exc:
            notes.append(f"schema.json could not be read ({exc}).")
    return ReportSource(manifest, leaderboard, schema, root, notes)
