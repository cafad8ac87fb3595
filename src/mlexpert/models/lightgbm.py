"""LightGBM: gradient-boosted trees with native categorical support and early stopping."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..utils._optional import import_optional
from ._base import (
    MAX_ROUNDS, SMALL_BATCH, FitContext, ModelFamily, as_probabilities, early_stopping_rounds,
    scaled_count,
)
from .registry import register

_OBJECTIVE = {"binary": ("binary", "binary_logloss"), "multiclass": ("multiclass", "multi_logloss"),
              "regression": ("regression", "l2")}


@register
class LightGBMFamily(ModelFamily):
    key = "lightgbm"
    name = "LightGBM"
    priority = 10
    profile = "native"
    uses_threads = True
    requires = ("lightgbm",)

    def default_configs(self, task, n_rows, n_features):
        small = n_rows < 5000
        return [
            {"learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 10 if small else 20,
             "feature_fraction": 0.9, "bagging_fraction": 0.9, "lambda_l2": 1.0},
            {"learning_rate": 0.03, "num_leaves": 128, "min_child_samples": 5 if small else 20,
             "feature_fraction": 0.7, "bagging_fraction": 1.0, "lambda_l2": 0.1,
             "max_bin": 255},
            {"learning_rate": 0.05, "num_leaves": 64, "min_child_samples": 20, "extra_trees": True,
             "feature_fraction": 0.6, "bagging_fraction": 0.8, "lambda_l2": 2.0},
        ]

    def search_space(self, trial, task, n_rows, n_features):
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 2, 100, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
            "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 10.0, log=True),
            "extra_trees": trial.suggest_categorical("extra_trees", [False, True]),
        }

    def fit(self, X, y, params, ctx: FitContext, X_val=None, y_val=None):
        lgb = import_optional("lightgbm", caller="LightGBMFamily")
        objective, eval_metric = _OBJECTIVE[ctx.task]
        config = {
            "objective": objective, "metric": eval_metric, "verbosity": -1,
            "num_threads": ctx.n_threads, "seed": ctx.seed, "deterministic": True,
            "bagging_freq": 1 if params.get("bagging_fraction", 1.0) < 1.0 else 0,
            "min_data_per_group": 10, "cat_smooth": 10.0, **params,
        }
        if ctx.task == "multiclass":
            config["num_class"] = ctx.n_classes
        train = lgb.Dataset(X, label=y, free_raw_data=True)
        evals: dict = {}
        callbacks = [_deadline_callback(lgb, ctx.deadline, evals)]
        valid_sets = []
        if X_val is not None:
            valid_sets = [lgb.Dataset(X_val, label=y_val, reference=train)]
            patience = early_stopping_rounds(config["learning_rate"])
            callbacks += [lgb.early_stopping(patience, verbose=False), lgb.record_evaluation(evals)]
        rounds = MAX_ROUNDS if X_val is not None else params.get("n_estimators", 300)
        booster = lgb.train(config, train, num_boost_round=rounds, valid_sets=valid_sets,
                            callbacks=callbacks, keep_training_booster=True)
        return _lean(lgb, booster)

    def predict(self, model, X, task):
        # Few rows: one thread (threads cost more than they save, and a busy server has
        # its cores taken by other requests).
        threads = {"num_threads": 1} if X.shape[0] <= SMALL_BATCH else {}
        out = model.predict(as_matrix(X), num_iteration=_best(model) or None, **threads)
        if task == "regression":
            return np.asarray(out, dtype=float)
        n_classes = 2 if task == "binary" else out.shape[1]
        return as_probabilities(out, n_classes)

    encoding = "matrix"

    def encode(self, preprocessor, X):
        """The native profile's float matrix, built without the frame (see :func:`as_matrix`)."""
        return preprocessor.transform_matrix(X)

    def describe(self, model):
        return {"iterations": int(_best(model) or model.current_iteration())}

    def refit_params(self, params, fold_infos, data_ratio):
        return {**params, "n_estimators": scaled_count(fold_infos, "iterations", data_ratio)}


def as_matrix(X):
    """A native-profile frame as the float matrix LightGBM would build from it, built faster.

    LightGBM turns a pandas categorical column into its codes (-1, unseen, as missing)
    after aligning its categories to the training ones; the preprocessor that trained the
    model made the same categories, so the codes are the same. Converting here skips
    LightGBM's per-call pandas checks: ~2 ms for one row. Non-frames pass through.
    """
    if not isinstance(X, pd.DataFrame):
        return X
    out = np.empty(X.shape, dtype=np.float64)
    for j, (_, col) in enumerate(X.items()):
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _best(booster) -> int:
    """The early-stopping iteration; 0 when unknown (-1 on a booster loaded from text)."""
    return max(int(booster.best_iteration or 0), 0)


def _lean(lgb, booster):
    """A predict-only copy cut at the best iteration.

    A training booster keeps its binned data, scores and the rounds past the best one
    (about 3x the memory of the lean copy, which costs ~2.5% of the training time).
    """
    best = _best(booster) or booster.current_iteration()
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best))


def _deadline_callback(lgb, deadline: float, evals: dict):
    """Stop at the deadline, keeping the best iteration seen on validation so far."""

    def callback(env):
        if time.monotonic() < deadline:
            return
        best = env.iteration
        history = next(iter(next(iter(evals.values())).values()), None) if evals else None
        if history:
            best = int(np.argmin(history))
        raise lgb.callback.EarlyStopException(best, env.evaluation_result_list or [])

    callback.order = 40
    return callback
