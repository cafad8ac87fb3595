"""CatBoost: ordered boosting on symmetric trees with native string categoricals."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..features._frame import MISSING_TOKEN
from ..utils._optional import import_optional
from ._base import (
    MAX_ROUNDS, SMALL_BATCH, FitContext, ModelFamily, align_classes, as_probabilities, scaled_count,
)
from .registry import register

_LOSS = {"binary": "Logloss", "multiclass": "MultiClass", "regression": "RMSE"}


@register
class CatBoostFamily(ModelFamily):
    key = "catboost"
    name = "CatBoost"
    priority = 15
    profile = "catboost"
    uses_threads = True
    requires = ("catboost",)

    def default_configs(self, task, n_rows, n_features):
        return [
            {"learning_rate": 0.06, "depth": 6, "l2_leaf_reg": 3.0},
            {"learning_rate": 0.04, "depth": 8, "l2_leaf_reg": 3.0, "random_strength": 1.0,
             "bootstrap_type": "Bernoulli", "subsample": 0.8},
            {"learning_rate": 0.08, "depth": 4, "l2_leaf_reg": 10.0, "random_strength": 2.0,
             "bootstrap_type": "Bayesian", "bagging_temperature": 1.0},
        ]

    def search_space(self, trial, task, n_rows, n_features):
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "depth": trial.suggest_int("depth", 4, 10 if n_rows >= 10_000 else 8),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 30.0, log=True),
            "random_strength": trial.suggest_float("random_strength", 1e-3, 10.0, log=True),
            "bootstrap_type": "Bernoulli",
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "border_count": trial.suggest_categorical("border_count", [64, 128, 254]),
            "one_hot_max_size": trial.suggest_int("one_hot_max_size", 2, 10),
        }

    def fit(self, X, y, params, ctx: FitContext, X_val=None, y_val=None):
        cb = import_optional("catboost", caller="CatBoostFamily")
        params = dict(params)
        budget = [params.pop(k) for k in ("iterations", "n_estimators") if k in params]
        rounds = MAX_ROUNDS if X_val is not None else int(budget[0] if budget else 500)
        X, cats = _clean(X)
        config = {
            "loss_function": _LOSS[ctx.task], "iterations": rounds, "thread_count": ctx.n_threads,
            "random_seed": ctx.seed, "allow_writing_files": False, "logging_level": "Silent",
            "cat_features": cats, **params,
        }
        if ctx.is_classification:
            config["class_names"] = list(range(ctx.n_classes))  # classes absent from the fold
            model = cb.CatBoostClassifier(**config)
        else:
            model = cb.CatBoostRegressor(**config)
        fit_args = {}
        if X_val is not None:
            fit_args = {"eval_set": (_clean(X_val)[0], y_val), "use_best_model": True,
                        "early_stopping_rounds": _patience(config.get("learning_rate"))}
        # No custom log streams: CatBoost refuses them when folds are fitted in parallel threads.
        model.fit(X, y, callbacks=[_Deadline(ctx.deadline)], **fit_args)
        return model

    def predict(self, model, X, task):
        X, _ = _clean(X)
        threads = {"thread_count": 1} if len(X) <= SMALL_BATCH else {}  # threads cost more on few rows
        if task == "regression":
            return np.asarray(model.predict(X, **threads), dtype=float)
        proba = model.predict_proba(X, **threads)
        n_classes = len(model.get_param("class_names") or model.classes_)
        return as_probabilities(align_classes(proba, model.classes_, n_classes), n_classes)

    def describe(self, model):
        best = model.get_best_iteration()
        return {"iterations": int(best) + 1 if best is not None else int(model.tree_count_)}

    def refit_params(self, params, fold_infos, data_ratio):
        return {**params, "iterations": scaled_count(fold_infos, "iterations", data_ratio)}


def _patience(learning_rate: float | None) -> int:
    """Overfitting-detector wait (od_type Iter): 50 to 100 rounds, longer at small rates."""
    return int(min(100, max(50, 2.5 / (learning_rate or 0.05))))


def _clean(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Non-numeric columns as strings with no missing value (CatBoost rejects NaN there)."""
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if cats:
        X = X.copy()
        for c in cats:
            X[c] = X[c].astype(object).where(X[c].notna(), MISSING_TOKEN).astype(str)
    return X, cats


class _Deadline:
    """CatBoost callback: keep training while the deadline is ahead."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def after_iteration(self, info) -> bool:
        return time.monotonic() < self.deadline
