"""Fairness assessment: per-group metrics checked against pandas and fairlearn on real data
(adult), flags on known gaps and none on a fair synthetic case, and the edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlexpert.fairness import assess_fairness

from .conftest import load_shared

CLASSES = ("<=50K", ">50K")


@pytest.fixture(scope="module")
def adult():
    """A logistic regression trained on 5,000 adult rows, scored on 5,000 other rows."""
    df = load_shared("adult").sample(10_000, random_state=0).reset_index(drop=True)
    y = (df["class"] == ">50K").to_numpy(dtype=int)
    X = pd.get_dummies(df.drop(columns=["class"]), dummy_na=True).astype(float)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    model.fit(X.iloc[:5000], y[:5000])
    test = df.iloc[5000:].reset_index(drop=True)
    proba = model.predict_proba(X.iloc[5000:])
    result = assess_fairness(y[5000:], proba, test[["sex", "age", "workclass"]], task="binary",
                             classes=CLASSES, on="test rows")
    return test, y[5000:], proba, result


def test_adult_sex_matches_pandas_and_fairlearn(adult):
    test, y, proba, result = adult
    pred = (proba[:, 1] >= 0.5).astype(int)
    frame = pd.DataFrame({"sex": test["sex"], "y": y, "pred": pred})
    groups = result["columns"]["sex"]["groups"]
    for sex, part in frame.groupby("sex"):
        assert groups[sex]["n"] == len(part)
        assert groups[sex]["selection_rate"] == pytest.approx(part["pred"].mean(), abs=1e-6)
        assert groups[sex]["base_rate"] == pytest.approx(part["y"].mean(), abs=1e-6)
        assert groups[sex]["true_positive_rate"] == pytest.approx(part.loc[part.y == 1, "pred"].mean(), abs=1e-6)
        assert groups[sex]["false_positive_rate"] == pytest.approx(part.loc[part.y == 0, "pred"].mean(), abs=1e-6)
        assert groups[sex]["error_rate"] == pytest.approx((part["pred"] != part["y"]).mean(), abs=1e-6)
    diffs = result["columns"]["sex"]["differences"]
    rates = frame.groupby("sex")["pred"].mean()
    assert diffs["demographic_parity_difference"] == pytest.approx(rates.max() - rates.min(), abs=1e-6)
    assert diffs["demographic_parity_ratio"] == pytest.approx(rates.min() / rates.max(), abs=1e-6)
    assert diffs["equalized_odds_difference"] == pytest.approx(
        fm.equalized_odds_difference(y, pred, sensitive_features=test["sex"]), abs=1e-6)


def test_adult_sex_flagged_for_demographic_parity(adult):
    result = adult[3]
    sex = result["columns"]["sex"]
    assert sex["differences"]["demographic_parity_difference"] > 0.1  # the known income gap
    assert sex["flagged"] and "sex" in result["flagged"] and not sex["uncertain"]
    parity = next(f for f in sex["findings"] if "demographic parity difference" in f)
    assert "sex=Male" in parity and "sex=Female" in parity
    assert "reflects the outcomes in the data" in parity  # actual shares differ about as much
    assert any("ThresholdOptimizer" in m for m in result["mitigation"])
    assert any("proxies" in m for m in result["mitigation"])
    assert result["on"] == "test rows" and result["decision_threshold"] == 0.5
    json.dumps(result, allow_nan=False)  # JSON-ready: plain numbers, no NaN


def test_adult_age_is_binned_into_quartiles(adult):
    test, y, proba, result = adult
    age = result["columns"]["age"]
    assert age["kind"] == "binned numeric"
    labels = list(age["groups"])
    assert len(labels) == 4 and all("–" in label for label in labels)
    assert labels[0].startswith(str(test["age"].min())) and labels[-1].endswith(str(test["age"].max()))
    assert sum(g["n"] for g in age["groups"].values()) == len(test)
    low, high = (int(v) for v in labels[0].split("–"))
    first = (test["age"] >= low) & (test["age"] <= high)
    assert age["groups"][labels[0]]["n"] == first.sum()
    assert age["groups"][labels[0]]["selection_rate"] == pytest.approx(
        (proba[first.to_numpy(), 1] >= 0.5).mean(), abs=1e-6)


def test_adult_missing_values_and_small_groups(adult):
    test, y, proba, result = adult
    work = result["columns"]["workclass"]
    assert work["groups"]["(missing)"]["n"] == test["workclass"].isna().sum() > 0
    counts = test["workclass"].fillna("(missing)").value_counts()
    assert set(work["small_groups"]) == set(counts[counts < 30].index) != set()
    big = counts[counts >= 30].index
    rates = pd.Series(proba[:, 1] >= 0.5).groupby(test["workclass"].fillna("(missing)").to_numpy()).mean()[big]
    assert work["differences"]["demographic_parity_difference"] == pytest.approx(rates.max() - rates.min(), abs=1e-6)
    assert any("fewer than 30 rows" in m for m in result["mitigation"])


def test_fair_random_predictions_are_not_flagged():
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    group = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n)})
    result = assess_fairness(y, np.c_[1 - p, p], group, task="binary", classes=(0, 1))
    assert not result["columns"]["g"]["flagged"] and result["flagged"] == []
    assert result["columns"]["g"]["differences"]["demographic_parity_difference"] < 0.06
    assert result["mitigation"] == []


def test_gap_on_small_groups_is_flagged_but_uncertain():
    y = np.tile([0, 1], 40)
    decision = np.r_[np.ones(24), np.zeros(16), np.ones(18), np.zeros(22)]  # rates 0.60 and 0.45
    sensitive = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 40})
    col = assess_fairness(y, np.c_[1 - decision, decision], sensitive, task="binary",
                          classes=(0, 1))["columns"]["g"]
    assert col["differences"]["demographic_parity_difference"] == pytest.approx(0.15)
    assert col["flagged"] and col["uncertain"]
    assert "With 40 and 40 rows" in col["findings"][0] and "confirm it on more data" in col["findings"][0]


def test_regression_error_gap_flagged():
    rng = np.random.default_rng(1)
    n = 2000
    group = rng.choice(["north", "south"], n)
    y = rng.normal(10, 3, n)
    pred = y + rng.normal(0, np.where(group == "south", 3.0, 1.0))
    result = assess_fairness(y, pred, pd.DataFrame({"region": group}), task="regression")
    col = result["columns"]["region"]
    south = group == "south"
    assert col["groups"]["south"]["mae"] == pytest.approx(np.abs(y - pred)[south].mean(), abs=1e-6)
    assert col["groups"]["north"]["mean_prediction"] == pytest.approx(pred[~south].mean(), abs=1e-6)
    assert col["differences"]["mae_ratio"] < 0.5 and col["flagged"] and not col["uncertain"]
    assert set(col["groups"]["south"]) == {"n", "share", "mean_prediction", "mean_actual",
                                           "std_actual", "mae", "rmse"}
    assert "Mean absolute error" in col["findings"][0] and "region=south" in col["findings"][0]
    assert any("BoundedGroupLoss" in m for m in result["mitigation"])
    same = assess_fairness(y, y + rng.normal(0, 1, n), pd.DataFrame({"region": group}), task="regression")
    assert not same["columns"]["region"]["flagged"]


def test_multiclass_accuracy_gap_flagged():
    rng = np.random.default_rng(2)
    n = 1500
    group = rng.choice(["x", "y"], n)
    y = rng.integers(0, 3, n)
    noisy = np.where((group == "y") & (rng.random(n) < 0.5), rng.integers(0, 3, n), y)
    proba = np.eye(3)[noisy] * 0.8 + 0.2 / 3
    result = assess_fairness(y, proba, pd.DataFrame({"grp": group}), task="multiclass",
                             classes=("low", "mid", "high"))
    col = result["columns"]["grp"]
    assert col["groups"]["x"]["accuracy"] == 1.0
    assert col["differences"]["accuracy_gap"] == pytest.approx(1 - (noisy == y)[group == "y"].mean(), abs=1e-6)
    assert col["flagged"] and "Accuracy is 1.00 for grp=x" in col["findings"][0]
    shares = [col["groups"]["y"][f"selection_rate[{c}]"] for c in ("low", "mid", "high")]
    assert sum(shares) == pytest.approx(1.0)


def test_single_group_and_too_few_rows_give_notes():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 100)
    proba = np.c_[np.full(100, 0.4), np.full(100, 0.6)]
    sensitive = pd.DataFrame({"one": ["a"] * 100, "tiny": ["a"] * 90 + ["b"] * 10})
    result = assess_fairness(y, proba, sensitive, task="binary", classes=(0, 1), min_group_rows=20)
    assert "single group" in result["columns"]["one"]["notes"][0]
    assert result["columns"]["tiny"]["small_groups"] == ["b"]
    assert "Fewer than two groups" in result["columns"]["tiny"]["notes"][0]
    assert result["flagged"] == [] and result["columns"]["one"]["differences"] == {}


def test_group_without_positives_has_no_true_positive_rate():
    y = np.r_[np.tile([0, 1], 50), np.zeros(100, dtype=int)]
    p = np.r_[np.tile([0.3, 0.7], 50), np.full(100, 0.2)]
    sensitive = pd.DataFrame({"g": ["a"] * 100 + ["b"] * 100})
    col = assess_fairness(y, np.c_[1 - p, p], sensitive, task="binary", classes=(0, 1))["columns"]["g"]
    assert col["groups"]["b"]["true_positive_rate"] is None
    assert col["differences"]["equalized_odds_difference"] is None
    assert "Left out of the equalized odds difference" in col["notes"][0]


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="one row per prediction"):
        assess_fairness(np.zeros(10), np.zeros((9, 2)), pd.DataFrame({"g": ["a"] * 10}),
                        task="binary", classes=(0, 1))
    with pytest.raises(ValueError, match="'task' parameter"):
        assess_fairness(np.zeros(3), np.zeros(3), pd.DataFrame({"g": ["a"] * 3}), task="ranking")


def test_many_categories_keep_the_largest_groups_and_merge_the_rest():
    from mlexpert.fairness.groups import MAX_GROUPS, OTHER, group_column

    column = pd.Series([f"zip{i % 300:03d}" for i in range(3000)] + ["zip000"] * 500)
    grouping = group_column(column)
    assert len(grouping.order) == MAX_GROUPS and grouping.order[-1] == OTHER
    assert grouping.order[0] == "zip000"
    assert set(grouping.labels) == set(grouping.order)
