"""The reference profile: a compact JSON summary of the training data (and of the model's
out-of-fold predictions on it), saved in the model directory as ``reference.json`` so
that drift can be measured without the training data.

Per feature: row count, missing count and, by kind,

- numeric (and datetime, as UNIX seconds, marked ``"time": true``; and text, as its length
  in characters): mean, std, min, max, ~10 equal-frequency bins (``bins``) and a grid of
  up to 99 percentiles (``grid``), each with the exact reference count per cell;
- boolean, categorical, high-cardinality: counts of the 50 most frequent categories, of
  all the others together (``other``) and of missing values.

The prediction distribution is profiled the same way: the predicted value (regression),
or the argmax label plus the positive-class (binary) or highest (multiclass) probability.
See ``docs/drift.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ArtifactError, DataError, IncompatibleArtifactError
from ..io import write_text
from ._coerce import CATEGORY_KINDS, MEASURE, NUMERIC_KINDS, numeric_values, prediction_parts
from ._counts import category_reference, numeric_reference

PROFILE_FILE = "reference.json"
FORMAT = 1


def build_profile(frame: pd.DataFrame, schema, task, *, output: np.ndarray | None = None) -> dict:
    """Reference profile of ``frame``'s feature columns (``schema.features``), and of the
    model ``output`` on these rows when given ((n, k) probabilities in ``task.classes``
    order, or (n,) predicted values for regression)."""
    features = list(schema.features)
    absent = [c for c in features if c not in frame.columns]
    if absent:
        raise DataError(
            f"Cannot profile the training data: feature columns {absent[:10]} are not in the "
            "frame. Pass the frame the model was fitted on."
        )
    columns = [column_profile(frame[name], name, schema.kind_of(name)) for name in features]
    prediction = None
    if output is not None:
        prediction = prediction_profile(prediction_parts(output, task.kind, task.classes,
                                                          len(frame)))
    return {"format": FORMAT, "n_rows": int(len(frame)), "task": task.kind,
            "classes": [_plain(c) for c in task.classes], "columns": columns,
            "prediction": prediction}


def column_profile(col: pd.Series, name: str, kind: str) -> dict:
    """Reference summary of one feature column of the given schema kind."""
    head = {"column": str(name), "kind": kind, "time": kind == "datetime"}
    if kind in NUMERIC_KINDS:
        return {**head, "measure": MEASURE[kind], **numeric_reference(numeric_values(col, kind))}
    if kind in CATEGORY_KINDS:
        return {**head, **category_reference(col, kind)}
    raise DataError(f"Column {name!r} has kind {kind!r}, which drift monitoring cannot profile.")


def prediction_profile(parts: dict) -> dict:
    """Reference summaries of the prediction distribution (see ``prediction_parts``)."""
    out = {}
    if "value" in parts:
        out["value"] = {"column": "prediction", "kind": "numeric", "time": False,
                        "measure": "value", **numeric_reference(parts["value"])}
    else:
        out["labels"] = {"column": "prediction", "kind": "categorical", "time": False,
                         **category_reference(parts["labels"], "categorical")}
        out["score"] = {"column": "probability", "kind": "numeric", "time": False,
                        "measure": "value", **numeric_reference(parts["score"])}
    return out


def write_profile(profile: dict, path: str | Path) -> Path:
    """Write ``profile`` atomically to ``path`` (a model directory or a file name)."""
    path = Path(path)
    if path.is_dir():
        path = path / PROFILE_FILE
    return write_text(json.dumps(profile, separators=(",", ":"), allow_nan=False), path)


def read_profile(path: str | Path) -> dict:
    """Read a reference profile from a model directory or a ``reference.json`` file."""
    path = Path(path)
    if path.is_dir():
        path = path / PROFILE_FILE
    if not path.exists():
        raise ArtifactError(
            f"No reference profile at {path}: the model was saved without one (older "
            "mlexpert). Refit the model to enable drift monitoring."
        )
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Cannot read the reference profile {path}: {exc}. "
                            "Refit the model to rewrite it.") from exc
    check_profile(profile, str(path))
    return profile


def check_profile(profile: dict, where: str = "the profile") -> None:
    """Raise unless ``profile`` is a reference profile this version can read."""
    if not isinstance(profile, dict) or "columns" not in profile:
        raise ArtifactError(f"{where} is not a reference profile (no 'columns'). "
                            "Refit the model to rewrite it.")
    if profile.get("format") != FORMAT:
        raise IncompatibleArtifactError(
            f"{where} has profile format {profile.get('format')!r}; this mlexpert reads "
            f"format {FORMAT}. Upgrade mlexpert or refit the model."
        )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
