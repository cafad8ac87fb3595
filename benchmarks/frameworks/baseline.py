"""Benchmark worker for the baseline: scikit-learn HistGradientBoosting with defaults.

Preprocessing (the only thing added to the defaults, so HGB can read every table):
- object / string / boolean-object columns -> pandas ``category`` (text columns too), read
  by ``categorical_features="from_dtype"``. The categories are learned on the train split
  and applied unchanged to the test split (unseen values become missing).
  HGB accepts at most ``max_bins`` (255) categories per feature: a column with more
  keeps its 255 most frequent train values; the others become missing.
- datetime columns -> seconds since the Unix epoch (float; NaT stays missing).
- bool columns -> 0/1.
``random_state`` is set to the seed (HGB's only randomness: its early-stopping split).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where this very file would shadow
# the real package of the same name ("import mlexpert"): drop it, import via benchmarks/.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from frameworks._common import Adapter, Spec, load_pickle, run_worker, save_pickle  # noqa: E402

# imported here so that import time is not counted as fit time
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402

MAX_CATEGORIES = 255  # HistGradientBoosting's default max_bins


class Baseline:
    """A fitted HGB model plus the column conversions learned on the train split."""

    def __init__(self, model, categories: dict, datetimes: list, bools: list, capped: list):
        self.model, self.categories, self.datetimes, self.bools = model, categories, datetimes, bools
        self.capped = capped  # categorical columns with more than MAX_CATEGORIES train values

    def transform(self, X):
        X = X.copy()
        for col in self.datetimes:
            X[col] = _epoch_seconds(X[col])
        for col in self.bools:
            X[col] = X[col].astype(float)
        for col, cats in self.categories.items():
            values = X[col].astype(object).map(str, na_action="ignore")
            values = values.where(values.isin(cats))  # unseen or capped-away -> missing
            X[col] = pd.Categorical(values, categories=cats)
        return X


def _epoch_seconds(col):
    col = pd.to_datetime(col, errors="coerce")
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    return (col - pd.Timestamp("1970-01-01")).dt.total_seconds()


def _learn_columns(X):
    categories, datetimes, bools, capped = {}, [], [], []
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            datetimes.append(col)
        elif pd.api.types.is_bool_dtype(s):
            bools.append(col)
        elif not pd.api.types.is_numeric_dtype(s):
            counts = s.dropna().astype(object).map(str).value_counts()
            if len(counts) > MAX_CATEGORIES:
                capped.append(col)
            # most frequent first, ties broken by value: deterministic
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
            categories[col] = sorted(k for k, _ in ordered)
    return categories, datetimes, bools, capped


def fit(train, spec: Spec):
    y = train[spec.target]
    X = train.drop(columns=[spec.target])
    base = Baseline(None, *_learn_columns(X))
    Xt = base.transform(X)
    if spec.task == "regression":
        est = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=spec.seed)
        y = y.astype(float)
    else:
        est = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=spec.seed)
        if not pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
            y = y.astype(str)  # pandas string dtypes -> plain str labels
    base.model = est.fit(Xt, y)
    return base


def predict(base: Baseline, X, spec: Spec):
    Xt = base.transform(X)
    if spec.task == "regression":
        return base.model.predict(Xt)
    return base.model.predict_proba(Xt), list(base.model.classes_)


def reload(directory: Path, X, spec: Spec):
    return predict(load_pickle(directory), X, spec)


def info(base: Baseline) -> dict:
    return {"n_iter": int(base.model.n_iter_), "categorical_columns": sorted(base.categories),
            "datetime_columns": base.datetimes,
            "capped_categories": base.capped}


ADAPTER = Adapter(name="baseline", fit=fit, predict=predict, save=save_pickle, info=info, reload=reload)

if __name__ == "__main__":
    sys.exit(run_worker(ADAPTER))
