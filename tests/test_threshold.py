"""Decision-threshold tuning: exact against brute force, and used by the saved model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, matthews_corrcoef

import mlexpert
from mlexpert.evaluation.threshold import tune_threshold
from mlexpert.exceptions import InvalidParameterError


@pytest.mark.parametrize("name,func", [("f1", f1_score), ("mcc", matthews_corrcoef),
                                       ("balanced_accuracy", balanced_accuracy_score)])
def test_tuned_threshold_is_the_brute_force_optimum(name, func):
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.2
    p = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.2, len(y)), 0, 1)  # ties at 0 and 1
    found = tune_threshold(y, p, name)
    brute = max(func(y, p >= c) for c in np.unique(p))
    assert found["tuned"][name] == pytest.approx(brute, abs=1e-6)
    assert func(y, p >= found["threshold"]) == pytest.approx(brute, abs=1e-9)
    assert found["default"][name] == pytest.approx(func(y, p >= 0.5), abs=1e-6)


def test_fit_tunes_the_threshold_and_predict_uses_it(churn):
    result = mlexpert.fit(churn, target="churned", time_limit=10, families=("linear",),
                          max_trials=2, optimize_threshold="f1", review=False)
    tuned = result.manifest["threshold"]
    assert tuned["positive_class"] == "yes" and 0 < tuned["threshold"] < 1
    assert tuned["tuned"]["f1"] >= tuned["default"]["f1"]
    proba = result.predict_proba(churn)["yes"].to_numpy()
    expected = np.where(proba >= tuned["threshold"], "yes", "no")
    assert (result.predict(churn) == expected).all()
    cv = result.manifest["evaluation"]["cross_validation"]
    assert cv["decision_threshold"] == pytest.approx(tuned["threshold"])
    assert cv["metrics"]["f1"]["value"] == pytest.approx(tuned["tuned"]["f1"], abs=1e-6)


def test_threshold_option_is_checked_before_training(churn):
    with pytest.raises(InvalidParameterError, match="binary"):
        mlexpert.fit(churn, target="plan", time_limit=5, optimize_threshold="f1")
    with pytest.raises(InvalidParameterError, match="one of"):
        mlexpert.fit(churn, target="churned", time_limit=5, optimize_threshold="precision")


def test_a_flag_everything_optimum_never_gives_threshold_zero():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.9  # F1 is best when every row is flagged
    p = np.where(rng.random(500) < 0.3, 0.0, rng.random(500))  # outputs reach exactly 0
    found = tune_threshold(y, p, "f1")
    assert 0 < found["threshold"] < 1
    assert found["tuned"]["f1"] == pytest.approx(f1_score(y, p >= found["threshold"]), abs=1e-6)
