"""The fitted model: schema checks, preprocessors, and a weighted ensemble of members.

Final-model policy: every ensemble member is **refit on all rows** when the budget allows
(see :mod:`mlexpert.search.refit`): one model, trained on every row, with the number of
iterations early stopping chose in the folds. A member whose refit would not finish in
time keeps the models trained on its k folds and averages them (k-fold bagging); with a
holdout split, that is the single model trained on 80% of the rows. ``Member.refit`` says
which; ``fit(..., refit=False)`` always keeps the fold models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data.record import record_columns
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
    models: list  # one model per fold, or a single model when refit
    refit: bool = False  # True: models[0] was trained on all rows

    def __setstate__(self, state):  # models saved before refits existed
        self.__dict__.update({"refit": False, **state})


@dataclass
class FittedPipeline:
    """Everything needed to predict: picklable, self-contained."""

    schema: Schema
    task: Task
    metric: str
    preprocessors: dict[str, list]  # profile -> one fitted TablePreprocessor per fold
    members: list[Member]
    info: dict = field(default_factory=dict)
    full_preprocessors: dict = field(default_factory=dict)  # profile -> fitted on all rows
    threshold: float | None = None  # binary: P(second class) at or above it predicts that class

    def __setstate__(self, state):  # models saved before refits or thresholds existed
        self.__dict__.update({"full_preprocessors": {}, "threshold": None, **state})

    def predict_output(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, k) for classification, values (n,) for regression."""
        return self._blend(prepare_prediction_table(X, self.schema))

    def predict_record(self, record: Mapping) -> np.ndarray:
        """:meth:`predict_output` for one record (column name -> value), shape (1, k) or (1,).

        When every member reads the native matrix (LightGBM), the record goes to the
        preprocessors as numpy columns (:mod:`mlexpert.data.record`), skipping the
        one-row DataFrame and its ~1 ms of pandas overhead; otherwise, or when the record
        holds dates, text or values only the DataFrame path reads, it takes that path.
        The outputs are the same either way.
        """
        X = record_columns(record, self.schema) if self._reads_records() else None
        if X is not None:
            return self._blend(X)
        features = self.schema.features
        if all(c in record for c in features):  # in order: no column selection later
            return self.predict_output(pd.DataFrame.from_records([record], columns=features))
        return self.predict_output(pd.DataFrame([dict(record)]))  # names what is missing

    def _reads_records(self) -> bool:
        return all(get_family(m.family).encoding == "matrix" for m in self.members)

    def _blend(self, X) -> np.ndarray:
        encoded: dict[tuple[str, bool, str], list] = {}
        total = None
        for member in self.members:
            family = get_family(member.family)
            key = (family.profile, member.refit, family.encoding)
            if key not in encoded:
                pps = ([self.full_preprocessors[family.profile]] if member.refit
                       else self.preprocessors[family.profile])
                encoded[key] = [family.encode(pp, X) for pp in pps]
            inputs = encoded[key]
            out = sum(family.predict(m, inputs[i], self.task.kind) for i, m in enumerate(member.models))
            out = member.weight * out / len(member.models)
            total = out if total is None else total + out
        return total

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.decide(self.predict_output(X))

    def decide(self, out: np.ndarray) -> np.ndarray:
        """Labels (classification, at the threshold when one is set) or values from outputs."""
        if self.task.kind == "binary" and self.threshold is not None:
            return self.task.decode((out[:, 1] >= self.threshold).astype(int))
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
