"""FitResult: what :func:`mlexpert.fit` returns and :func:`mlexpert.load` gives back."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .artifacts import save_bundle
from .predictor import FittedPipeline


@dataclass
class FitResult:
    """A trained model with its leaderboard and manifest.

    Attributes
    ----------
    pipeline : FittedPipeline
        The model that predicts (the ensemble, or the best single model).
    leaderboard : pandas.DataFrame
        Every trial: family, parameters, CV score and std, fit time, prediction speed.
    manifest : dict
        Task, metric, CV score, seed, versions, data fingerprint, budget accounting.
    notices : list of str
        What mlexpert decided on the user's behalf (dropped columns, skipped families...).
    """

    pipeline: FittedPipeline
    leaderboard: pd.DataFrame
    manifest: dict
    notices: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def task(self) -> str:
        return self.pipeline.task.kind

    @property
    def metric(self) -> str:
        return self.pipeline.metric

    @property
    def score(self) -> float:
        """Validation score of the final model (out-of-fold)."""
        return float(self.manifest["cv_score"])

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.pipeline.task.classes, dtype=object)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        return self.pipeline.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities, one column per class label."""
        return self.pipeline.predict_proba(X)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the model directory atomically (see :mod:`mlexpert.artifacts.bundle`)."""
        self.path = save_bundle(directory, self.pipeline, self.manifest, self.leaderboard)
        return self.path
