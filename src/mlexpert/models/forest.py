"""Random forests and extra trees, grown in chunks of trees so that fit stops at the deadline."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)

from ._base import FitContext, ModelFamily, align_classes, as_probabilities
from .registry import register

MAX_TREES = 100  # per fold model: the k fold models are averaged, so k x 100 trees in all
CHUNK = 32  # trees added per warm-start round (at most)
MAX_LEAVES = 2048  # per tree: binds from ~3k rows, keeps 300 trees under ~100 MB (2 classes)
BIG_DATA = 100_000  # above this many rows, min_samples_leaf also grows with the data
MAX_FEATURES = ["sqrt", "log2", 0.3, 0.5, 0.7, 1.0]
MAX_DEPTH = [None, 8, 12, 16, 24, 32]


class _ForestFamily(ModelFamily):
    """Shared code of the bagged-tree families; subclasses pick the sklearn estimators."""

    profile = "ordinal"
    uses_threads = True
    classifier: ClassVar[type]
    regressor: ClassVar[type]

    def default_configs(self, task, n_rows, n_features):
        regression = task == "regression"
        return [
            {"max_features": 1.0 if regression else "sqrt", "min_samples_leaf": 1},
            {"max_features": 0.5, "min_samples_leaf": 2},
        ]

    def search_space(self, trial, task, n_rows, n_features):
        params = {
            "max_features": trial.suggest_categorical("max_features", MAX_FEATURES),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
            "max_depth": trial.suggest_categorical("max_depth", MAX_DEPTH),
        }
        if task != "regression":
            params["criterion"] = trial.suggest_categorical("criterion", ["gini", "entropy"])
        return params | self._extra_space(trial, task)

    def _extra_space(self, trial, task) -> dict:
        return {}

    def fit(self, X, y, params, ctx: FitContext, X_val=None, y_val=None):
        params = dict(params)
        n_trees = max(1, min(int(params.pop("n_estimators", MAX_TREES)), MAX_TREES))
        if isinstance(params.get("max_features"), (int, float)):
            params["max_features"] = float(params["max_features"])  # a fraction, never a count
        params["max_leaf_nodes"] = min(params.get("max_leaf_nodes") or MAX_LEAVES, MAX_LEAVES)
        if len(X) > BIG_DATA:
            params["min_samples_leaf"] = max(params.get("min_samples_leaf", 1), len(X) // 50_000)
        cls = self.classifier if ctx.is_classification else self.regressor
        model = cls(warm_start=True, n_jobs=ctx.n_threads, random_state=ctx.seed, **params)
        model = _grow(model, X, y, n_trees, ctx).set_params(n_jobs=1)  # see _by_row_blocks
        return {"model": model, "n_classes": ctx.n_classes, "n_threads": ctx.n_threads}

    def predict(self, model, X, task):
        est, n_classes = model["model"], model["n_classes"]
        if task == "regression":
            return np.asarray(_by_row_blocks(est.predict, X, model["n_threads"]), dtype=float)
        proba = _by_row_blocks(est.predict_proba, X, model["n_threads"])
        return as_probabilities(align_classes(proba, est.classes_, n_classes), n_classes)

    def describe(self, model):
        return {"trees": len(model["model"].estimators_)}

    def refit_params(self, params, fold_infos, data_ratio):
        return {**params, "n_estimators": max(info["trees"] for info in fold_infos)}


def _grow(model, X, y, n_trees: int, ctx: FitContext):
    """Add trees in chunks until ``n_trees`` or until the next chunk would pass the deadline.

    The first chunk is small (a few trees) so that even a tight deadline yields a model; later
    chunks are sized from the measured time per tree. Same trees as one fit of that size.
    """
    start = time.monotonic()
    step = min(max(ctx.n_threads, 4), n_trees)
    while True:
        model.set_params(n_estimators=len(getattr(model, "estimators_", [])) + step)
        model.fit(X, y)
        grown = len(model.estimators_)
        per_tree = (time.monotonic() - start) / grown
        affordable = int(ctx.seconds_left() / per_tree) if per_tree > 0 else CHUNK
        step = min(CHUNK, n_trees - grown, affordable)
        if step < 1:
            break
    return model


def _by_row_blocks(predict, X, n_threads: int) -> np.ndarray:
    """Predict row blocks in threads, each summing its trees in order: unlike sklearn's
    n_jobs (threads adding trees in any order), the result does not vary between calls."""
    if n_threads <= 1 or len(X) < 4096:
        return predict(X)
    with ThreadPoolExecutor(n_threads) as pool:
        return np.concatenate(list(pool.map(predict, np.array_split(X, 4 * n_threads))))


@register
class RandomForestFamily(_ForestFamily):
    key = "random_forest"
    name = "Random forest"
    priority = 40
    classifier = RandomForestClassifier
    regressor = RandomForestRegressor


@register
class ExtraTreesFamily(_ForestFamily):
    key = "extra_trees"
    name = "Extra trees"
    priority = 35
    classifier = ExtraTreesClassifier
    regressor = ExtraTreesRegressor

    def _extra_space(self, trial, task):
        return {"bootstrap": trial.suggest_categorical("bootstrap", [False, True])}
