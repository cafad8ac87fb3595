"""Benchmark worker: FLAML AutoML (anchor; runs in its own venv, see anchors/setup.sh).

FLAML's default learner list; CatBoost is not installed in its venv (its CatBoost trials
ignore the time budget, see ../shared/ANCHORS.md). ``retrain_full`` is FLAML's default.
Datetime columns are passed as they are (FLAML expands them itself).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from frameworks._common import Adapter, Spec, load_pickle, run_worker, save_pickle  # noqa: E402

from flaml import AutoML  # noqa: E402  (imported before timing starts)

TASKS = {"binary": "classification", "multiclass": "classification", "regression": "regression"}


def fit(train, spec: Spec):
    y = train[spec.target]
    X = train.drop(columns=[spec.target])
    if spec.task != "regression":
        y = y.astype(str)  # one label type, whatever the file stored
    automl = AutoML()
    automl.fit(X, y, task=TASKS[spec.task], metric=spec.metric, time_budget=spec.budget,
               n_jobs=spec.n_jobs, seed=spec.seed, verbose=0)
    return automl


def predict(automl, X, spec: Spec):
    if spec.task == "regression":
        return automl.predict(X)
    return automl.predict_proba(X), [str(c) for c in automl.classes_]


def reload(directory: Path, X, spec: Spec):
    return predict(load_pickle(directory), X, spec)


def info(automl) -> dict:
    return {"best_estimator": automl.best_estimator, "best_config": automl.best_config,
            "best_loss": automl.best_loss}


ADAPTER = Adapter(name="flaml", fit=fit, predict=predict, save=save_pickle, info=info, reload=reload,
                  packages=("flaml", "lightgbm", "xgboost"))

if __name__ == "__main__":
    sys.exit(run_worker(ADAPTER))
