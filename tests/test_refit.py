"""Final models refit on all rows: when, how many rounds, and the fallback to fold models."""

import json
import math
import time

import numpy as np
import pytest

import mlexpert
from mlexpert.models._base import scaled_count
from mlexpert.models.registry import get_family
from mlexpert.search.refit import MAX_REFIT_SHARE, estimate_seconds, refit_members, reserve_seconds
from mlexpert.search.trial import TrialResult

from .conftest import load_shared


@pytest.fixture(scope="module")
def penguins():
    return load_shared("penguins").dropna(subset=["species"])


def test_scaled_count_grows_rounds_by_half_the_extra_data():
    infos = [{"iterations": 100}, {"iterations": 200}]
    assert scaled_count(infos, "iterations", 1.25) == round(150 * 1.125)
    assert scaled_count(infos, "iterations", 1.0) == 150
    assert scaled_count([{"epochs": 0}], "epochs", 1.25) == 1


def test_members_are_refit_on_all_rows_with_the_rounds_early_stopping_found(penguins, tmp_path):
    result = mlexpert.fit(penguins, target="species", time_limit=60, families=("lightgbm", "linear"),
                          max_trials=3, n_jobs=1, seed=0)
    members = result.pipeline.members
    assert members and all(m.refit and len(m.models) == 1 for m in members)
    assert all(result.manifest["refit"].values())
    board = result.leaderboard.set_index("model")
    for m in members:
        assert board.loc[m.name, "final_model"] == "all rows"
        if m.family == "lightgbm":
            folds = json.loads(board.loc[m.name, "info"])["iterations"]
            ratio = len(penguins) / (len(penguins) * 4 / 5)
            expected = scaled_count([{"iterations": i} for i in folds], "iterations", ratio)
            assert abs(m.models[0].current_iteration() - expected) <= 1
    assert result.pipeline.preprocessors == {}  # no fold preprocessors are kept
    proba = result.predict_proba(penguins)
    assert (proba.to_numpy().argmax(axis=1) == result.pipeline.task.encode(penguins["species"])).mean() > 0.95
    loaded = mlexpert.load(result.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(penguins).to_numpy(), proba.to_numpy())
    assert result.manifest["budget"]["refit_s"] >= 0


def test_no_refit_keeps_and_averages_the_fold_models(penguins):
    result = mlexpert.fit(penguins, target="species", time_limit=60, families=("lightgbm",),
                          max_trials=1, n_jobs=1, refit=False)
    (member,) = result.pipeline.members
    assert not member.refit and len(member.models) == 5
    assert result.manifest["refit_skipped"] == {member.name: "refit disabled"}
    assert result.leaderboard.loc[1, "final_model"] == "fold average (refit disabled)"
    assert result.pipeline.full_preprocessors == {}


def test_refit_works_with_a_holdout_split(penguins):
    result = mlexpert.fit(penguins, target="species", time_limit=60, families=("lightgbm",),
                          max_trials=1, n_jobs=1, holdout_rows=100)
    assert "holdout" in result.manifest["cv_strategy"]
    assert result.pipeline.members[0].refit


def test_a_refit_that_cannot_finish_in_time_is_skipped(penguins):
    from mlexpert.data.schema import infer_schema
    from mlexpert.evaluation.metrics import get_metric
    from mlexpert.search.cv import make_folds
    from mlexpert.search.trial import run_trial
    from mlexpert.search.workspace import Workspace
    from mlexpert.task import infer_task

    schema = infer_schema(penguins, "species")
    task = infer_task(penguins["species"], None)
    y = task.encode(penguins["species"])
    columns = {k: schema.names(k) for k in ("numeric", "boolean", "categorical", "high_cardinality", "datetime", "text")}
    folds = make_folds(y, classification=True, n_folds=3, seed=0, n_features=len(schema.features))
    ws = Workspace(penguins[schema.features], y, task.kind, task.n_classes, columns, folds)
    trial = run_trial(1, get_family("lightgbm"), {"learning_rate": 0.1}, "default", ws,
                      get_metric(None, task.kind), n_threads=1, seed=0, deadline=time.monotonic() + 30)
    assert trial.status == "ok" and math.isfinite(estimate_seconds(trial, ws))
    assert refit_members([trial], ws, n_threads=1, seed=0, deadline=time.monotonic()) == (
        {}, {trial.name: "not enough time left"})
    done, skipped = refit_members([trial], ws, n_threads=1, seed=0, deadline=time.monotonic() + 30)
    assert list(done) == [trial.name] and skipped == {}
    # the search holds time back only when the refit fits within its share of the budget
    need = estimate_seconds(trial, ws)
    assert reserve_seconds(trial, ws, budget=need / MAX_REFIT_SHARE * 2) == pytest.approx(need)
    assert reserve_seconds(trial, ws, budget=need / MAX_REFIT_SHARE / 2) == 0.0
    assert reserve_seconds(None, ws, budget=60) == 0.0
    assert reserve_seconds(TrialResult(2, "lightgbm", {}, "default"), ws, budget=60) == 0.0


def test_the_first_trial_leaves_room_for_its_own_refit():
    from mlexpert.search.cv import make_folds
    from mlexpert.search.refit import SAFETY, THREAD_GAIN, first_trial_share
    from mlexpert.search.workspace import Workspace

    y = np.arange(1000) % 2
    ws = Workspace(None, y, "binary", 2, {"numeric": ["a", "b"]},
                   make_folds(y, classification=True, n_folds=5, seed=0, n_features=2))
    # 5 folds on 2 threads run as 3 batches of 2 one-thread fits; the refit uses both
    # threads: ~SAFETY * 1.25 / (1 + THREAD_GAIN) batches
    assert first_trial_share(ws, 2, 0.8) == pytest.approx(0.8 * 3 / (3 + SAFETY * 1.25 / (1 + THREAD_GAIN)))
    assert first_trial_share(ws, 1, 0.8) == pytest.approx(0.8 * 5 / (5 + SAFETY * 1.25))
    # a holdout (one batch): the refit would need half the time, so none is planned
    holdout = make_folds(y, classification=True, n_folds=5, seed=0, n_features=2, holdout_rows=500)
    assert len(holdout) == 1
    ws = Workspace(None, y, "binary", 2, {"numeric": ["a", "b"]}, holdout)
    assert first_trial_share(ws, 2, 0.8) == 0.8


def test_refit_estimates_count_the_threads_a_refit_gains():
    """Fold batches of one-thread fits vs a refit on every thread: boosting and forests are
    expected to gain from the second thread, linear models not; both pay a fixed overhead."""
    from mlexpert.search.cv import make_folds
    from mlexpert.search.refit import (ENCODE_SECONDS_PER_CELL, REFIT_OVERHEAD, SAFETY,
                                       THREAD_GAIN)
    from mlexpert.search.workspace import Workspace

    y = np.arange(1000) % 2
    ws = Workspace(None, y, "binary", 2, {"numeric": ["a", "b"]},
                   make_folds(y, classification=True, n_folds=5, seed=0, n_features=2))
    encode = ENCODE_SECONDS_PER_CELL * 1000 * 2
    trial = {f: TrialResult(1, f, {}, "default", fold_seconds=4.0) for f in ("lightgbm", "linear")}
    assert estimate_seconds(trial["lightgbm"], ws, 2) == pytest.approx(
        SAFETY * (4.0 * 1.25 / (1 + THREAD_GAIN) + encode + REFIT_OVERHEAD))
    assert estimate_seconds(trial["linear"], ws, 2) == pytest.approx(
        SAFETY * (4.0 * 1.25 + encode + REFIT_OVERHEAD))
    assert estimate_seconds(trial["lightgbm"], ws, 1) == estimate_seconds(trial["linear"], ws, 1)
    assert reserve_seconds(trial["lightgbm"], ws, 60, 2) < reserve_seconds(trial["lightgbm"], ws, 60, 1)


def test_networks_keep_their_fold_models(penguins):
    pytest.importorskip("torch")
    result = mlexpert.fit(penguins, target="species", time_limit=60, families=("mlp",),
                          max_trials=1, n_jobs=1)
    (member,) = result.pipeline.members
    assert not member.refit and len(member.models) == 5
    assert result.manifest["refit_skipped"] == {member.name: "MLP (PyTorch) keeps its fold models"}
