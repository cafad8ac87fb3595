"""Writing tables safely, and shaping prediction outputs."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pandas as pd

from .exceptions import DataError, InvalidParameterError

WRITERS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


def predictions_frame(model, frame: pd.DataFrame, *, proba: bool = True,
                      keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Predictions (and class probabilities) with the ``keep`` input columns first."""
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise DataError(f"--keep names columns not in the data: {missing}. Check the names.")
    out = frame[list(keep)].reset_index(drop=True).copy()
    target = model.manifest.get("target", "prediction")
    pipeline = model.pipeline
    output = pipeline.predict_output(frame)  # once: labels and probabilities both come from it
    out[f"{target}_predicted"] = pipeline.decide(output)
    if proba and pipeline.task.is_classification:
        for j, label in enumerate(pipeline.task.classes):
            out[f"proba_{label}"] = output[:, j]
    return out


@contextlib.contextmanager
def _atomic(path: Path):
    """Yield a temporary sibling of ``path``; rename it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what a plain open() would
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write by extension to a temporary file, then rename: never a half-written file."""
    path = Path(path)
    kind = WRITERS.get(path.suffix.lower())
    if kind is None:
        raise InvalidParameterError(
            f"Cannot write {path.name!r}: use a .csv, .parquet or .jsonl file name."
        )
    with _atomic(path) as tmp:
        if kind == "csv":
            frame.to_csv(tmp, index=False)
        elif kind == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True)
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to a temporary sibling file, then rename it into place."""
    path = Path(path)
    with _atomic(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return path
