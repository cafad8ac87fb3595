"""Assess the final model: on its out-of-fold outputs, and on a labelled test table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validate import prepare_prediction_table
from ..ensemble.selection import blend_oof
from ..exceptions import DataError
from ..task import Task, _normalise
from .assessment import assess
from .threshold import tune_threshold


def evaluate_final(pipeline, kept: list, ws, task: Task, *, target: str,
                   test: pd.DataFrame | None = None, seed: int = 0,
                   optimize_threshold: str | None = None) -> tuple[dict, list[str], dict]:
    """The ``evaluation`` section of the manifest, notices for the user, and the outputs.

    Out of fold: the ensemble's members' fold outputs blended with the final weights (the
    same estimate the leaderboard's ensemble score uses). Test: the saved model's outputs on
    ``test``, whose rows with a missing or unknown target are left out (with a notice).
    With ``optimize_threshold`` (binary), the decision threshold is tuned on the out-of-fold
    outputs, set on ``pipeline`` and used by every label metric; the section then has a
    ``threshold`` entry. The outputs: ``{"cross_validation": (y, output, row positions),
    "test": (y, output, test rows)}``, for fairness checks.
    """
    weights = {m.name: m.weight for m in pipeline.members}
    mask = ws.folds.validated
    blend = blend_oof(kept, weights, mask)
    out: dict = {}
    if optimize_threshold is not None:
        out["threshold"] = tune_threshold(ws.y[mask] == 1, blend[:, 1], optimize_threshold)
        pipeline.threshold = out["threshold"]["threshold"]
    out["cross_validation"] = assess(ws.y[mask], blend, task.classes, seed=seed,
                                     threshold=pipeline.threshold)
    evaluated = {"cross_validation": (ws.y[mask], blend, mask)}
    notices: list[str] = []
    if test is not None:
        out["test"], notices, evaluated["test"] = _assess_test(pipeline, task, target, test, seed)
    return out, notices, evaluated


def fairness_section(df: pd.DataFrame, columns, evaluated: dict, task: Task,
                     threshold: float | None, test: pd.DataFrame | None = None) -> dict:
    """Fairness by group on the out-of-fold outputs (and, under ``test``, on the test rows)."""
    from ..fairness import assess_fairness

    y, output, rows = evaluated["cross_validation"]
    # without a tuned threshold, predict takes the argmax: class 1 only above 0.5
    common = {"task": task.kind, "classes": task.classes,
              "threshold": float(np.nextafter(0.5, 1.0)) if threshold is None else threshold}
    section = assess_fairness(y, output, df[list(columns)].iloc[rows].reset_index(drop=True),
                              on="out-of-fold predictions", **common)
    if "test" in evaluated:
        y_test, out_test, test_rows = evaluated["test"]
        present = [c for c in columns if c in test_rows.columns]
        if present:
            section["test"] = assess_fairness(y_test, out_test, test_rows[present].reset_index(drop=True),
                                              on="test rows", **common)
    return section


def check_test_table(test: pd.DataFrame, schema) -> None:
    """Fail before training, not after, when the test table cannot be scored."""
    if schema.target not in test.columns:
        raise DataError(f"The test table has no {schema.target!r} column to score against. Add "
                        "the target column, or use `mlexpert predict` for unlabelled rows.")
    prepare_prediction_table(test.head(1), schema)  # names any missing feature column


def _assess_test(pipeline, task: Task, target: str, test: pd.DataFrame, seed: int):
    y = test[target]
    usable = y.notna().to_numpy().copy()
    if task.is_classification:
        known = set(task.classes)
        usable &= np.array([v in known for v in _normalise(y)])
    dropped = int((~usable).sum())
    if not usable.any():
        raise DataError(f"No test row has a known {target!r} value; cannot score the test table.")
    rows = test.loc[usable].reset_index(drop=True)
    encoded = task.encode(rows[target])
    output = pipeline.predict_output(rows)
    notices = [f"Test scoring left out {dropped} rows whose {target!r} is missing or a class "
               "unseen in training."] if dropped else []
    scored = assess(encoded, output, task.classes, seed=seed, threshold=pipeline.threshold)
    return scored, notices, (encoded, output, rows)
