"""The final model's assessment: metrics with bootstrap intervals, calibration, residuals,
and scoring on a labelled test table."""

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

import mlexpert
from mlexpert.cli import app
from mlexpert.evaluation.assessment import assess, fast_classification_metrics
from mlexpert.exceptions import DataError

from .conftest import EXAMPLE


def _probabilities(n, k, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n)
    p[np.arange(n), y] += 0.4
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [2, 4])
def test_fast_bootstrap_metrics_equal_scikit_learn(k):
    y, p = _probabilities(3000, k)
    fast = fast_classification_metrics(y, p)
    pred = p.argmax(axis=1)
    assert fast["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert fast["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert fast["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert fast["log_loss"] == pytest.approx(skm.log_loss(y, p))
    if k == 2:
        assert fast["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]))


def test_intervals_hold_the_value_and_narrow_with_more_rows():
    widths = []
    for n in (200, 20_000):
        y, p = _probabilities(n, 2, seed=n)
        auc = assess(y, p)["metrics"]["roc_auc"]
        assert auc["ci_low"] <= auc["value"] <= auc["ci_high"]
        widths.append(auc["ci_high"] - auc["ci_low"])
    assert widths[1] < widths[0] / 5  # ~ sqrt(100) = 10x narrower


def test_classification_details_and_regression_residuals():
    y, p = _probabilities(500, 3)
    out = assess(y, p, ("a", "b", "c"))
    matrix = np.array(out["confusion_matrix"]["matrix"])
    assert matrix.sum() == 500 and np.trace(matrix) == (p.argmax(axis=1) == y).sum()
    assert set(out["per_class"]) == {"a", "b", "c"}
    assert 0 <= out["calibration"]["expected_calibration_error"] <= 1
    truth = np.linspace(1, 10, 100)
    pred = truth.copy()
    pred[17] += 5
    res = assess(truth, pred)["residuals"]
    assert res["largest"][0] == {"row": 17, "actual": pytest.approx(truth[17]),
                                 "predicted": pytest.approx(truth[17] + 5)}


@pytest.fixture(scope="module")
def churn_split():
    df = pd.read_csv(EXAMPLE)
    return df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)


def test_fit_scores_the_test_table_exactly(churn_split):
    train, test = churn_split
    result = mlexpert.fit(train, target="churned", test=test, time_limit=30, max_trials=3,
                          n_jobs=1, families=("lightgbm", "linear"))
    evaluation = result.manifest["evaluation"]
    cv = evaluation["cross_validation"]["metrics"]["roc_auc"]["value"]
    assert cv == pytest.approx(result.manifest["cv_score"], abs=1e-6)
    scored = evaluation["test"]
    assert scored["n_rows"] == len(test)
    proba = result.predict_proba(test)
    expected = skm.roc_auc_score(test["churned"] == "yes", proba["yes"])
    assert scored["metrics"]["roc_auc"]["value"] == pytest.approx(expected, abs=1e-6)
    assert scored["confusion_matrix"]["labels"] == ["no", "yes"]
    assert "audit" in result.manifest and result.manifest["audit"]["n_rows"] == len(train)


def test_an_unusable_test_table_fails_before_training(churn_split):
    train, test = churn_split
    start = time.monotonic()
    with pytest.raises(DataError, match="no 'churned' column"):
        mlexpert.fit(train, target="churned", test=test.drop(columns=["churned"]), time_limit=60)
    with pytest.raises(DataError, match="tenure_months"):
        mlexpert.fit(train, target="churned", test=test.drop(columns=["tenure_months"]), time_limit=60)
    assert time.monotonic() - start < 20  # no search ran


def test_cli_fit_with_test_prints_the_interval(churn_split, tmp_path):
    train, test = churn_split
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    res = CliRunner().invoke(app, ["fit", str(tmp_path / "train.csv"), "--target", "churned",
                                   "--test", str(tmp_path / "test.csv"), "--time", "30",
                                   "--max-trials", "2", "--families", "lightgbm", "--jobs", "1",
                                   "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "Test: roc_auc" in res.output and "95% interval" in res.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["evaluation"]["test"]["n_rows"] == len(test)
