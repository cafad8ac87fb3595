"""scikit-learn compatibility of AutoClassifier and AutoRegressor.

Every check of ``parametrize_with_checks`` runs. Expected to fail (``EXPECTED_FAILED``):

- AutoRegressor ``check_methods_sample_order_invariance``: features are float32 after
  preprocessing, so a linear member's predictions can differ by ~1e-7 (relative) with the
  row order; the check demands rtol=1e-7.

``check_array_api_input`` is skipped by scikit-learn itself unless SCIPY_ARRAY_API is set.

The estimators are fitted tiny (2 trials, 3 folds, 5 s budget) to keep the checks fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlexpert import AutoClassifier, AutoRegressor
from mlexpert.exceptions import DataError

PENGUINS = Path("/work/shared/datasets/penguins.parquet")
TINY = dict(time_limit=5, max_trials=2, families=("linear", "lightgbm"), n_folds=3, n_jobs=1)
EXPECTED_FAILED = {
    "AutoClassifier": {},
    "AutoRegressor": {
        "check_methods_sample_order_invariance":
            "float32 features: predictions agree to ~1e-7 relative, the check wants rtol=1e-7",
    },
}

pytestmark = pytest.mark.filterwarnings("ignore::mlexpert.exceptions.MLExpertWarning")


@parametrize_with_checks([AutoClassifier(**TINY), AutoRegressor(**TINY)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", [AutoClassifier, AutoRegressor])
def test_clone_and_get_params_round_trip(cls):
    params = {"time_limit": "2m", "metric": "mae", "families": ("linear",), "max_trials": 3,
              "n_folds": 4, "random_state": 7, "n_jobs": 2}
    est = cls(**params)
    assert est.get_params() == params
    copy = clone(est)
    assert copy is not est and copy.get_params() == params
    assert cls(**copy.get_params()).get_params() == params
    assert clone(cls()).get_params() == cls().get_params()


def _penguins():
    if not PENGUINS.exists():
        pytest.skip(f"{PENGUINS} is not available")
    df = pd.read_parquet(PENGUINS).dropna(subset=["species"])
    X, y = df.drop(columns="species"), df["species"]
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_classifier_on_penguins_dataframe():
    X_train, X_test, y_train, y_test = _penguins()
    clf = AutoClassifier(time_limit=20, max_trials=3, families=("linear", "lightgbm"), n_jobs=1)
    clf.fit(X_train, y_train)
    assert list(clf.feature_names_in_) == list(X_train.columns)
    assert set(clf.classes_) == set(y_train)
    pred = clf.predict(X_test)
    assert pred.dtype == np.asarray(y_train).dtype and set(pred) <= set(clf.classes_)
    assert clf.score(X_test, y_test) > 0.9
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    assert len(clf.leaderboard_) >= 1


def test_inside_a_pipeline():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    pipe = make_pipeline(StandardScaler(), AutoClassifier(time_limit=5, max_trials=1,
                                                          families=("linear",), n_jobs=1))
    pipe.fit(X[:80], y[:80])
    assert pipe.score(X[80:], y[80:]) > 0.8
    assert pipe.predict(X[80:]).dtype == y.dtype
    reg = make_pipeline(StandardScaler(), AutoRegressor(time_limit=5, max_trials=1,
                                                        families=("linear",), n_jobs=1))
    target = X @ np.array([1.0, -2.0, 0.5, 0.0])
    assert reg.fit(X[:80], target[:80]).score(X[80:], target[80:]) > 0.9


def test_single_class_message():
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(DataError, match=r"AutoClassifier needs at least 2 classes in y; got 1 "
                                         r"class \('a'\)\. Check the target"):
        AutoClassifier(**TINY).fit(X, ["a"] * 10)


def test_complex_dataframe_message():
    X = pd.DataFrame({"a": np.arange(10) + 1j, "b": np.arange(10.0)})
    with pytest.raises(DataError, match=r"Complex data not supported; convert the complex "
                                         r"columns of X to real numbers"):
        AutoRegressor(**TINY).fit(X, np.arange(10.0))


def test_leaderboard_needs_fit():
    with pytest.raises(NotFittedError):
        AutoRegressor().leaderboard_


def test_feature_named_like_the_internal_target():
    X = pd.DataFrame({"__target__": np.arange(40.0) % 7, "b": np.arange(40.0) % 5})
    y = 2 * X["__target__"] - X["b"]
    reg = AutoRegressor(time_limit=5, max_trials=1, families=("linear",), n_jobs=1).fit(X, y)
    assert list(reg.feature_names_in_) == ["__target__", "b"]
    assert reg.score(X, y) > 0.9
