"""k-nearest neighbours on standardized dense features (small and medium data only)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from ._base import FitContext, ModelFamily, align_classes, as_probabilities
from .registry import register


@register
class KNeighborsFamily(ModelFamily):
    key = "knn"
    name = "k-nearest neighbours"
    priority = 70
    profile = "dense"
    max_rows = 50_000  # prediction cost grows with the training size

    def default_configs(self, task, n_rows, n_features):
        return [{"n_neighbors": 10, "weights": "distance", "p": 2},
                {"n_neighbors": 30, "weights": "uniform", "p": 2}]

    def search_space(self, trial, task, n_rows, n_features):
        return {
            "n_neighbors": trial.suggest_int("n_neighbors", 1, 100, log=True),
            "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
            "p": trial.suggest_categorical("p", [1, 2]),
        }

    def fit(self, X, y, params, ctx: FitContext, X_val=None, y_val=None):
        params = {**params, "n_neighbors": max(1, min(int(params.get("n_neighbors", 10)), len(X)))}
        cls = KNeighborsClassifier if ctx.is_classification else KNeighborsRegressor
        model = cls(n_jobs=ctx.n_threads, **params).fit(X, y)
        return {"model": model, "n_classes": ctx.n_classes}

    def predict(self, model, X, task):
        est, n_classes = model["model"], model["n_classes"]
        if task == "regression":
            return np.asarray(est.predict(X), dtype=float)
        proba = align_classes(est.predict_proba(X), est.classes_, n_classes)
        return as_probabilities(proba, n_classes)
