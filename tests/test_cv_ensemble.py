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


def test_pruning_drops_members_that_buy_less_than_the_tolerance():
    """A light near-copy of the best model goes; a member that helps stays; the drops cost
    at most the tolerance of the selected ensemble's loss together."""
    from mlexpert.ensemble.selection import blend_oof, prune_members
    from mlexpert.search.trial import TrialResult

    rng = np.random.default_rng(0)
    y = rng.normal(size=2000)
    metric = get_metric("rmse", "regression")
    noise_a, noise_b = rng.normal(scale=0.5, size=2000), rng.normal(scale=0.5, size=2000)
    specs = [("best", y + noise_a, 1000.0), ("helper", y + noise_b, 1000.0),
             ("slow_copy", y + noise_a + rng.normal(scale=0.01, size=2000), 10.0),
             ("unknown_speed", y + noise_b + rng.normal(scale=0.01, size=2000), float("nan"))]
    kept = []
    for i, ((name, oof, speed), weight) in enumerate(zip(specs, [0.48, 0.48, 0.02, 0.02])):
        r = TrialResult(i + 1, name, {}, "default")
        r.oof, r.predict_rows_per_s = oof, speed
        kept.append((r, weight))
    mask = np.arange(2000)
    full = metric.loss(y, blend_oof(kept, {r.name: w for r, w in kept}, mask))
    left, pruned = prune_members(kept, y, mask, metric, tolerance=0.001)
    names = {r.name for r, _ in left}
    assert "slow_copy#3" in pruned and "slow_copy#3" not in names  # least weight (tie: by name): tried first, dropped
    assert names == {"best#1", "helper#2"}  # averaging two independent errors helps a lot
    assert sum(w for _, w in left) == pytest.approx(1.0)
    after = metric.loss(y, blend_oof(left, {r.name: w for r, w in left}, mask))
    assert after - full <= 0.001 * full + 1e-12
    assert all(v <= 0.001 for v in pruned.values())
    same, none = prune_members(kept, y, mask, metric, tolerance=float("-inf"))
    assert none == {} and len(same) == 4
    for r, _ in kept:  # measured speeds vary run to run: they must not change the outcome
        r.predict_rows_per_s = float(rng.uniform(1, 1e4))
    again, pruned_again = prune_members(kept, y, mask, metric, tolerance=0.001)
    assert [r.name for r, _ in again] == [r.name for r, _ in left] and pruned_again == pruned


def _draw(rng, n, k, noise, mix):
    y = rng.normal(size=n)
    common, own = rng.normal(size=n), rng.normal(size=(k, n))
    own = own + 0.5 * (mix @ own)
    return y, [y + 0.6 * common + noise[i] * own[i] for i in range(k)]


def test_bagged_selection_generalises_better_on_small_tables():
    """Twelve models of near-equal quality, 150 out-of-fold rows: one greedy pass fits the
    sample's noise; bagged selection does better on fresh rows in most draws and on average."""
    from mlexpert.ensemble.greedy import bagged_selection

    metric = get_metric("rmse", "regression")
    losses = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        noise, mix = rng.uniform(0.9, 1.1, 12), rng.normal(size=(12, 12)) * 0.3
        y, outs = _draw(rng, 150, 12, noise, mix)
        y_new, outs_new = _draw(rng, 20_000, 12, noise, mix)
        fresh = [metric.loss(y_new, sum(w * o for w, o in zip(weights, outs_new)))
                 for weights in (greedy_selection(outs, y, metric)[0],
                                 bagged_selection(outs, y, metric, seed=seed)[0])]
        losses.append(fresh)
    greedy, bagged = np.array(losses).T
    assert (bagged < greedy).sum() >= 24
    assert bagged.mean() < greedy.mean()


def test_bagged_selection_skips_resamples_where_the_metric_is_undefined():
    """Two positives in 100 rows: many bootstrap resamples hold none, where ROC AUC is
    undefined; those are skipped, and the weights still sum to 1 and repeat with the seed."""
    import warnings

    from mlexpert.ensemble.greedy import bagged_selection

    rng = np.random.default_rng(0)
    y = np.zeros(100, dtype=int)
    y[[3, 50]] = 1
    outs = [np.column_stack([1 - p, p]) for p in (rng.uniform(size=100) * 0.5 + 0.5 * y for _ in range(4))]
    metric = get_metric("roc_auc", "binary")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights, loss = bagged_selection(outs, y, metric, seed=1)
    again, _ = bagged_selection(outs, y, metric, seed=1)
    assert weights.sum() == pytest.approx(1.0) and np.array_equal(weights, again)
    blended = sum(w * o for w, o in zip(weights, outs))
    assert loss == pytest.approx(metric.loss(y, blended))
