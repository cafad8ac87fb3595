import numpy as np
import pytest

from mlexpert.ensemble.greedy import greedy_selection
from mlexpert.evaluation.metrics import get_metric
from mlexpert.search.cv import make_folds


def test_stratified_folds_cover_every_row_once():
    y = np.array([0] * 90 + [1] * 10)
    folds = make_folds(y, classification=True, n_folds=5, seed=0)
    assert folds.strategy == "stratified 5-fold"
    valid = np.concatenate([va for _, va in folds.splits])
    assert sorted(valid.tolist()) == list(range(100))
    for tr, va in folds.splits:
        assert set(tr).isdisjoint(va)
        assert y[va].sum() == 2  # positives spread evenly


def test_holdout_on_large_tables():
    y = np.random.default_rng(0).normal(size=1000)
    folds = make_folds(y, classification=False, n_folds=5, seed=0, holdout_rows=500)
    assert len(folds) == 1 and folds.strategy.startswith("holdout")
    assert len(folds.splits[0][1]) == 200


def test_group_folds_keep_groups_together():
    y = np.tile([0, 1], 50)
    groups = np.repeat(np.arange(20), 5)
    folds = make_folds(y, classification=True, n_folds=5, seed=0, groups=groups)
    for tr, va in folds.splits:
        assert set(groups[tr]).isdisjoint(groups[va])


def test_time_folds_validate_on_later_rows():
    times = np.arange(100)[::-1]  # rows stored newest first
    folds = make_folds(np.zeros(100), classification=False, n_folds=3, seed=0, times=times)
    assert folds.strategy.startswith("time-ordered")
    for tr, va in folds.splits:
        assert times[tr].max() < times[va].min()


def test_greedy_selection_prefers_complementary_models():
    rng = np.random.default_rng(0)
    y = rng.normal(size=2000)
    a = y + rng.normal(scale=1.0, size=2000)
    b = y + rng.normal(scale=1.0, size=2000)
    bad = np.full(2000, 3.0)  # constant and biased: never helps
    metric = get_metric("rmse", "regression")
    weights, loss = greedy_selection([a, b, bad], y, metric)
    assert weights[2] <= 0.05
    assert weights[0] > 0.3 and weights[1] > 0.3
    assert loss < min(metric.loss(y, a), metric.loss(y, b)) - 0.1
    assert weights.sum() == pytest.approx(1.0)
