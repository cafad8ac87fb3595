"""The fitted model: schema checks, fold preprocessors, and a weighted ensemble of members.

Final-model policy: members are **not refit** on all rows. Each member keeps the models
trained on its k folds and averages them (k-fold bagging, as AutoGluon does): it costs no
extra time within the budget, every fold model saw (k-1)/k of the data, and averaging
reduces variance. With a holdout split, the single model trained on 80% is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data.schema import Schema
from .data.validate import prepare_prediction_table
from .exceptions import InvalidParameterError
from .models.registry import get_family
from .task import Task


@dataclass
class Member:
    """One trial kept in the ensemble: its family, fold models and weight."""

    name: str
    family: str
    weight: float
    models: list


@dataclass
class FittedPipeline:
    """Everything needed to predict: picklable, self-contained."""

    schema: Schema
    task: Task
    metric: str
    preprocessors: dict[str, list]  # profile -> one fitted TablePreprocessor per fold
    members: list[Member]
    info: dict = field(default_factory=dict)

    def predict_output(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, k) for classification, values (n,) for regression."""
        X = prepare_prediction_table(X, self.schema)
        encoded = {p: [pp.transform(X) for pp in pps] for p, pps in self.preprocessors.items()}
        total = None
        for member in self.members:
            family = get_family(member.family)
            folds = encoded[family.profile]
            out = sum(family.predict(m, folds[i], self.task.kind) for i, m in enumerate(member.models))
            out = member.weight * out / len(member.models)
            total = out if total is None else total + out
        return total

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        out = self.predict_output(X)
        if self.task.is_classification:
            return self.task.decode(np.argmax(out, axis=1))
        return out

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        if not self.task.is_classification:
            raise InvalidParameterError(
                "predict_proba is only defined for classification; this model does regression. "
                "Use predict instead."
            )
        out = self.predict_output(X)
        return pd.DataFrame(out, columns=[str(c) for c in self.task.classes])
