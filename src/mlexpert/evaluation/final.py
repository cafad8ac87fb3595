"""Assess the final model: on its out-of-fold outputs, and on a labelled test table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validate import prepare_prediction_table
from ..ensemble.selection import blend_oof
from ..exceptions import DataError
from ..task import Task, _normalise
from .assessment import assess


def evaluate_final(pipeline, kept: list, ws, task: Task, *, target: str,
                   test: pd.DataFrame | None = None, seed: int = 0) -> tuple[dict, list[str]]:
    """The ``evaluation`` section of the manifest, and notices for the user.

    Out of fold: the ensemble's members' fold outputs blended with the final weights (the
    same estimate the leaderboard's ensemble score uses). Test: the saved model's outputs on
    ``test``, whose rows with a missing or unknown target are left out (with a notice).
    """
    weights = {m.name: m.weight for m in pipeline.members}
    mask = ws.folds.validated
    blend = blend_oof(kept, weights, mask)
    out = {"cross_validation": assess(ws.y[mask], blend, task.classes, seed=seed)}
    notices: list[str] = []
    if test is not None:
        out["test"], notices = _assess_test(pipeline, task, target, test, seed)
    return out, notices


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
    return assess(encoded, output, task.classes, seed=seed), notices
