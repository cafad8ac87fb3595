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
    reference: dict | None = None  # the reference profile for monitoring (reference.json)

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

    def explain(self, X: pd.DataFrame, *, top: int = 10) -> list[dict]:
        """Per-row SHAP explanations from the ensemble's tree members (LightGBM, XGBoost,
        CatBoost): each row's prediction, base value, largest contributions and the rest.
        See :mod:`mlexpert.explain.tree_shap` for the space the values are in."""
        from .explain.tree_shap import shap_values
        from .exceptions import InvalidParameterError

        found = shap_values(self.pipeline, X)
        if found is None:
            raise InvalidParameterError(
                "This model has no tree member (LightGBM, XGBoost or CatBoost), so it has no "
                "SHAP values. Refit with --families including lightgbm, or read the report's "
                "permutation importance."
            )
        output = self.pipeline.predict_output(X)
        predicted = self.pipeline.decide(output)
        rows = []
        for i in range(len(X)):
            row = found.explain_row(i, top=top)
            row["prediction"] = predicted[i].item() if hasattr(predicted[i], "item") else predicted[i]
            if output.ndim == 2:  # of the predicted class (a tuned threshold may not pick the max)
                labels = [str(c) for c in self.pipeline.task.classes]
                row["probability"] = float(output[i, labels.index(str(row["prediction"]))])
            row["coverage"] = float(found.coverage)
            rows.append(row)
        return rows

    def save(self, directory: str | os.PathLike, *, report: bool = True) -> Path:
        """Write the model directory atomically (see :mod:`mlexpert.artifacts.bundle`), then
        the report (report.html, report.md, report.json; derived files, not checksummed)."""
        extra = {}
        if self.reference is not None:
            import json

            from .monitoring.profile import PROFILE_FILE

            extra[PROFILE_FILE] = json.dumps(self.reference, separators=(",", ":"))
        self.path = save_bundle(directory, self.pipeline, self.manifest, self.leaderboard, extra=extra)
        if report:
            from .artifacts.bundle import saved_manifest
            from .report import ReportSource, write_report

            # from memory: what was just written, without re-reading and re-hashing it
            source = ReportSource(saved_manifest(self.manifest), self.leaderboard,
                                  self.pipeline.schema.to_dict(), self.path)
            try:
                write_report(source, format="all")
            except Exception as exc:  # the model is saved; `mlexpert report DIR` can retry
                self.notices.append(f"The report could not be written ({type(exc).__name__}: "
                                    f"{exc}); the model is saved. Retry with `mlexpert report "
                                    f"{self.path}`.")
        return self.path
