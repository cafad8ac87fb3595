"""Diagnosis verdicts on constructed cases, and on a real fit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mlexpert
from mlexpert.diagnosis import CurvePoint, diagnose_estimator, judge
from mlexpert.diagnosis.curve import null_loss, row_losses, subsample

from .conftest import load_shared


def test_deep_unregularised_tree_overfits():
    X, y = make_classification(3000, 20, n_informative=8, flip_y=0.15, random_state=0)
    found = diagnose_estimator(DecisionTreeClassifier(random_state=0), X, y)
    assert found["verdict"] == "overfitting"
    full = found["curve"][-1]
    assert full["train_error"] < 0.01 < 0.5 < full["valid_error"]


def test_deep_regression_tree_overfits():
    X, y = make_regression(2000, 10, noise=20, random_state=0)
    found = diagnose_estimator(DecisionTreeRegressor(random_state=0), X, y, classification=False)
    assert found["verdict"] == "overfitting"


def test_tiny_training_set_needs_more_data():
    X, y = make_regression(60, 10, noise=20, random_state=0)
    found = diagnose_estimator(Ridge(), X, y, classification=False)
    assert found["verdict"] == "more_data"
    errors = [p["valid_error"] for p in found["curve"]]
    assert errors[0] > errors[-1]  # the validation error fell as rows were added


def test_linear_model_on_circles_underfits():
    X, y = make_circles(2000, noise=0.1, factor=0.5, random_state=0)
    assert diagnose_estimator(LogisticRegression(), X, y)["verdict"] == "underfitting"


def test_right_model_with_enough_rows_is_fine():
    X, y = make_regression(3000, 10, noise=20, random_state=0)
    found = diagnose_estimator(Ridge(), X, y, classification=False)
    assert found["verdict"] == "fine"
    assert found["advice"] and all(isinstance(s, str) for s in found["evidence"])


def test_null_model_scores_one():
    y = np.array([0, 0, 0, 1] * 50)
    prior = np.tile([0.75, 0.25], (len(y), 1))
    assert row_losses(y, prior).mean() / null_loss(y, 2) == pytest.approx(1.0)
    values = np.arange(100.0)
    assert (row_losses(values, np.full(100, values.mean())).mean()
            / null_loss(values, 0)) == pytest.approx(1.0)


def test_subsample_keeps_every_class():
    y = np.array([0] * 95 + [1] * 5)
    rows = subsample(y, 20, 2, np.random.default_rng(0))
    assert set(y[rows]) == {0, 1} and len(np.unique(rows)) == len(rows)


def test_no_full_size_point_is_unknown():
    point = CurvePoint(10, 0.5, 0.1, 0.2, valid_row_loss=np.zeros(5))
    assert judge([point])["verdict"] == "unknown"
    assert judge([])["verdict"] == "unknown"


def test_fit_on_a_tiny_sample_says_more_data_would_help():
    df = load_shared("adult").sample(150, random_state=0)
    result = mlexpert.fit(df, target="class", time_limit=12, families=("linear", "lightgbm"),
                          max_trials=4, seed=0)
    diagnosis = result.manifest["diagnosis"]
    assert diagnosis["verdict"] == "more_data", diagnosis
    assert diagnosis["curve"][-1]["fraction"] == 1.0
    assert {"train", "valid", "n_train"} <= set(diagnosis["curve"][0])
