"""Regularised linear models: logistic regression (classification) and ridge (regression)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from ._base import FitContext, ModelFamily, align_classes, as_probabilities
from .registry import register


@register
class LinearFamily(ModelFamily):
    key = "linear"
    name = "Linear (logistic / ridge)"
    priority = 20
    profile = "linear"

    def default_configs(self, task, n_rows, n_features):
        if task == "regression":
            return [{"alpha": 1.0}, {"alpha": 10.0}, {"alpha": 0.1}]
        return [{"C": 1.0}, {"C": 0.1}, {"C": 10.0}]

    def search_space(self, trial, task, n_rows, n_features):
        if task == "regression":
            return {"alpha": trial.suggest_float("alpha", 1e-3, 1e4, log=True)}
        return {"C": trial.suggest_float("C", 1e-4, 1e2, log=True)}

    def fit(self, X, y, params, ctx: FitContext, X_val=None, y_val=None):
        if ctx.task == "regression":
            scale = float(np.std(y)) or 1.0
            center = float(np.mean(y))
            model = Ridge(alpha=params["alpha"], random_state=ctx.seed)
            model.fit(X, (y - center) / scale)
            return {"model": model, "center": center, "scale": scale}
        model = LogisticRegression(C=params["C"], max_iter=2000, random_state=ctx.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        return {"model": model, "n_classes": ctx.n_classes}

    def predict(self, model, X, task):
        est = model["model"]
        if task == "regression":
            return est.predict(X) * model["scale"] + model["center"]
        proba = align_classes(est.predict_proba(X), est.classes_, model["n_classes"])
        return as_probabilities(proba, model["n_classes"])
