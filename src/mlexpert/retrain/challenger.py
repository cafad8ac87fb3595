"""Fit the challenger with the champion's settings, and score both models on the same rows."""

from __future__ import annotations

import inspect
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..result import FitResult

# fit parameters a retrain supplies itself rather than repeating from the champion
_NOT_REPEATED = ("data", "sql", "db", "test", "out", "on_event", "n_jobs")


def fit_settings(manifest: dict, *, time_limit=None, seed: int | None = None) -> dict:
    """The keyword arguments of :func:`mlexpert.fit` that repeat the champion's fit.

    Taken from the manifest's ``settings`` (older models without them: target, task, metric,
    seed and budget from the manifest itself). The task and metric are pinned to the
    champion's so that both models are scored alike; ``time_limit`` and ``seed`` override.
    """
    from .. import api

    accepted = set(inspect.signature(api.fit).parameters) - set(_NOT_REPEATED)
    settings = dict(manifest.get("settings") or {})
    settings.setdefault("target", manifest.get("target"))
    settings.setdefault("seed", manifest.get("seed", 0))
    settings.setdefault("time_limit", manifest.get("time_limit_s", 60))
    task = manifest.get("task")
    settings["task"] = task.get("kind") if isinstance(task, dict) else (task or settings.get("task"))
    settings["metric"] = manifest.get("metric") or settings.get("metric")
    if time_limit is not None:
        settings["time_limit"] = time_limit
    if seed is not None:
        settings["seed"] = seed
    if not settings.get("target"):
        raise InvalidParameterError("The champion's manifest names no target column, so its fit "
                                    "cannot be repeated. Register a model saved by mlexpert fit.")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items() if k in accepted}


def fit_challenger(train: pd.DataFrame, settings: dict, out: str | os.PathLike, *,
                   n_jobs: int = -1, on_event=None) -> FitResult:
    """Fit on ``train`` with ``settings`` and save the model directory to ``out``."""
    from .. import api

    return api.fit(train, **settings, n_jobs=n_jobs, out=Path(out), on_event=on_event)


def paired_outputs(champion: FitResult, challenger: FitResult, frame: pd.DataFrame,
                   target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Encoded truth and both models' outputs on ``frame``, on one shared class order.

    Classification outputs are laid out on the union of both models' classes and the
    labels seen in ``frame`` (a class a model does not know gets probability 0 from it).
    """
    outputs = [_outputs(model, frame, who) for model, who in
               ((champion, "champion"), (challenger, "challenger"))]
    task = champion.pipeline.task
    if not task.is_classification:
        truth = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(truth)):
            raise DataError(f"The evaluation target {target!r} has values that are not finite "
                            "numbers; a regression model is scored on numbers.")
        return truth, outputs[0], outputs[1], []
    classes = list(task.classes)
    keys = {_key(c): i for i, c in enumerate(classes)}
    for extra in list(challenger.pipeline.task.classes) + frame[target].tolist():
        if _key(extra) not in keys:
            keys[_key(extra)] = len(classes)
            classes.append(_plain(extra))
    truth = np.array([keys[_key(v)] for v in frame[target].tolist()], dtype=np.int64)
    aligned = []
    for model, out in zip((champion, challenger), outputs):
        full = np.zeros((len(frame), len(classes)))
        full[:, [keys[_key(c)] for c in model.pipeline.task.classes]] = out
        aligned.append(full)
    return truth, aligned[0], aligned[1], classes


def _outputs(model: FitResult, frame: pd.DataFrame, who: str) -> np.ndarray:
    try:
        out = model.pipeline.predict_output(frame)
    except DataError as exc:
        raise DataError(f"The {who} cannot score the evaluation rows: {exc}") from None
    return np.asarray(out, dtype=float)


def _plain(value):
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _key(value) -> str:
    """Labels compared as the task compares them, and as JSON feedback carries them
    (1, 1.0 and "1" are one class)."""
    return str(_plain(value))
