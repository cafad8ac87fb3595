"""Shared AutoGluon worker code; ``autogluon_medium.py`` and ``autogluon_best.py`` pick a preset.

Runs in AutoGluon's own virtual environment (``benchmarks/anchors/setup.sh``), started by
``run.py --python autogluon_medium=benchmarks/.venvs/autogluon/bin/python``. AutoGluon
writes its models under a temporary folder while it fits; ``save`` copies that folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from frameworks._common import Adapter, Spec

METRICS = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "root_mean_squared_error"}


def make_adapter(name: str, preset: str) -> Adapter:
    from autogluon.tabular import TabularPredictor  # imported before timing starts

    def fit(train, spec: Spec):
        path = tempfile.mkdtemp(prefix=f"bench-{name}-")
        predictor = TabularPredictor(label=spec.target, problem_type=spec.task,
                                     eval_metric=METRICS[spec.metric], path=path, verbosity=0)
        return predictor.fit(train, time_limit=spec.budget, presets=preset,
                             num_cpus=spec.n_jobs, num_gpus=0)

    def predict(predictor, X, spec: Spec):
        if spec.task == "regression":
            return predictor.predict(X).to_numpy(dtype=float)
        proba = predictor.predict_proba(X)
        return proba.to_numpy(dtype=float), list(proba.columns)

    def save(predictor, directory: Path) -> None:
        shutil.copytree(predictor.path, directory)

    def reload(directory: Path, X, spec: Spec):
        return predict(TabularPredictor.load(str(directory), require_py_version_match=False), X, spec)

    def info(predictor) -> dict:
        board = predictor.leaderboard(silent=True)
        return {"preset": preset, "best_model": predictor.model_best,
                "models_trained": int(len(board)),
                "top": board.head(5)[["model", "score_val", "fit_time"]].to_dict("records")}

    return Adapter(name=name, fit=fit, predict=predict, save=save, info=info, reload=reload,
                   packages=("autogluon.tabular", "lightgbm", "catboost", "xgboost-cpu", "torch"))
