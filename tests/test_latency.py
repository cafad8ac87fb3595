"""Single-row latency: measured for every model, and capped with --max-latency-ms."""

import json
from unittest import mock

import numpy as np
import pytest
from typer.testing import CliRunner

import mlexpert
from mlexpert.cli import app
from mlexpert.ensemble.greedy import greedy_selection
from mlexpert.ensemble.latency import LatencyModel, enforce_cap, pipeline_latency_ms
from mlexpert.evaluation.metrics import get_metric
from mlexpert.exceptions import InvalidParameterError

from .conftest import EXAMPLE


def test_estimate_counts_a_shared_preprocessing_step_once():
    model = LatencyModel(base_ms=1.0, step_ms={("native", True): 2.0, ("dense", True): 3.0},
                         member_ms={"a": 10.0, "b": 20.0, "c": 5.0},
                         member_step={"a": ("native", True), "b": ("native", True),
                                      "c": ("dense", True)})
    assert model.estimate(["a"]) == 13.0
    assert model.estimate(["a", "b"]) == 1.0 + 2.0 + 30.0
    assert model.estimate(["a", "b", "c"]) == 1.0 + 5.0 + 35.0


def test_greedy_selection_only_builds_allowed_ensembles():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    outputs = [y + rng.normal(scale=s, size=500) for s in (0.5, 0.5, 0.5)]
    metric = get_metric("rmse", "regression")
    free, _ = greedy_selection(outputs, y, metric)
    assert (free > 0).sum() == 3  # independent errors: averaging all three helps
    capped, _ = greedy_selection(outputs, y, metric, allowed=lambda chosen, i: len(chosen) < 2)
    assert (capped > 0).sum() == 2
    alone, _ = greedy_selection(outputs, y, metric, allowed=lambda chosen, i: not chosen)
    assert (alone > 0).sum() == 1 and alone.sum() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def churn_fit():
    import pandas as pd

    df = pd.read_csv(EXAMPLE)
    with mock.patch("mlexpert.ensemble.selection.PRUNE_TOLERANCE", float("-inf")):  # >1 member
        return df, mlexpert.fit(df, target="churned", time_limit=60, max_trials=6, n_jobs=1,
                                seed=0, families=("lightgbm", "linear", "knn", "extra_trees"))


def test_every_fit_reports_latency_and_member_sizes(churn_fit):
    _, result = churn_fit
    latency = result.manifest["latency"]
    assert latency["latency_ms"] > 0
    board = result.leaderboard.set_index("model")
    assert board.loc["ensemble", "latency_ms"] == latency["latency_ms"]
    members = [m.name for m in result.pipeline.members]
    assert (board.loc[members, "size_mb"] > 0).all()
    assert board.loc["ensemble", "size_mb"] == pytest.approx(board.loc[members, "size_mb"].sum())
    assert result.manifest["model_size_mb"] == pytest.approx(board.loc["ensemble", "size_mb"], abs=1e-3)


def test_enforce_cap_drops_the_lightest_members_until_one_is_left(churn_fit):
    df, result = churn_fit
    pipeline = result.pipeline
    if len(pipeline.members) < 2:
        pytest.skip("the ensemble has a single member")
    heaviest = max(pipeline.members, key=lambda m: m.weight).name
    latency, dropped = enforce_cap(pipeline, df.head(1), cap_ms=1e-6)
    assert len(pipeline.members) == 1 and pipeline.members[0].name == heaviest
    assert pipeline.members[0].weight == pytest.approx(1.0)
    assert heaviest not in dropped and len(dropped) >= 1
    assert latency == pytest.approx(latency)  # measured, finite
    assert result.predict_proba(df.head(20)).sum(axis=1).round(6).eq(1).all()


def test_a_cap_no_model_meets_keeps_the_fastest_alone():
    import pandas as pd

    df = pd.read_csv(EXAMPLE)
    result = mlexpert.fit(df, target="churned", time_limit=60, max_trials=4, n_jobs=1, seed=0,
                          families=("lightgbm", "linear"), max_latency_ms=1e-6)
    assert len(result.pipeline.members) == 1
    assert any("No model meets --max-latency-ms" in n for n in result.notices)
    board = result.leaderboard.set_index("model")
    measured = board["latency_ms"].drop("ensemble").dropna()
    assert result.pipeline.members[0].name == measured.idxmin()
    assert result.manifest["latency"]["latency_cap_ms"] == 1e-6


def test_selection_under_a_cap_leaves_out_the_slow_candidates():
    from types import SimpleNamespace

    from mlexpert.ensemble.selection import select_ensemble
    from mlexpert.search.trial import TrialResult

    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    metric = get_metric("rmse", "regression")
    results = []
    for i, (name, noise) in enumerate([("slow", 0.3), ("fast_a", 0.5), ("fast_b", 0.5)]):
        r = TrialResult(i + 1, name, {}, "default")
        r.oof = y + rng.normal(scale=noise, size=400)
        r.loss = metric.loss(y, r.oof)
        r.predict_rows_per_s = 1000.0
        results.append(r)
    ws = SimpleNamespace(folds=SimpleNamespace(validated=np.arange(400)), y=y)
    model = LatencyModel(base_ms=1.0, step_ms={("native", True): 2.0},
                         member_ms={"slow#1": 50.0, "fast_a#2": 4.0, "fast_b#3": 4.0},
                         member_step={n: ("native", True) for n in ("slow#1", "fast_a#2", "fast_b#3")})
    free, _, _ = select_ensemble(results, ws, metric, 0, deadline=1e18, latency=model)
    assert "slow#1" in {r.name for r, _ in free}  # the most accurate model, without a cap
    kept, ensemble, notices = select_ensemble(results, ws, metric, 0, deadline=1e18,
                                              latency=model, cap_ms=12.0)
    assert {r.name for r, _ in kept} == {"fast_a#2", "fast_b#3"}  # 1 + 2 + 4 + 4 = 11 ms
    assert ensemble["latency_estimate_ms"] == 11.0 and notices == []
    alone, _, notices = select_ensemble(results, ws, metric, 0, deadline=1e18, latency=model,
                                        cap_ms=8.0)
    assert len(alone) == 1 and alone[0][0].name.startswith("fast")  # 7 ms: one fast model


def test_a_capped_fit_keeps_only_members_under_the_cap():
    import pandas as pd

    df = pd.read_csv(EXAMPLE)
    families = ("lightgbm", "linear", "knn", "extra_trees")
    free = mlexpert.fit(df, target="churned", time_limit=60, max_trials=6, n_jobs=1, seed=0,
                        families=families, max_latency_ms=1e9)
    alone = free.leaderboard.set_index("model")["latency_ms"].drop("ensemble").dropna()
    assert len(alone) >= 4, "every candidate is timed under a cap"
    cap = 1.3 * float(alone.min())
    capped = mlexpert.fit(df, target="churned", time_limit=60, max_trials=6, n_jobs=1, seed=0,
                          families=families, max_latency_ms=cap)
    members = [m.name for m in capped.pipeline.members]
    board = capped.leaderboard.set_index("model")
    if any("No model meets" in n for n in capped.notices):  # this run timed every model slower
        assert len(members) == 1
    else:
        assert capped.manifest["latency"]["latency_estimate_ms"] <= cap
        assert (board.loc[members, "latency_ms"] <= cap).all()
    assert pipeline_latency_ms(capped.pipeline, df.head(1)) > 0


def test_invalid_cap_is_rejected(tmp_path):
    with pytest.raises(InvalidParameterError, match="max_latency_ms"):
        mlexpert.fit(EXAMPLE, target="churned", max_latency_ms=0)
    res = CliRunner().invoke(app, ["fit", str(EXAMPLE), "--target", "churned", "--max-latency-ms",
                                   "-1", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2
    assert "max_latency_ms" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m").exists()


def test_cli_prints_the_latency_and_saves_it(tmp_path):
    out = tmp_path / "model"
    res = CliRunner().invoke(app, ["fit", str(EXAMPLE), "--target", "churned", "--time", "30",
                                   "--max-trials", "3", "--families", "lightgbm,linear",
                                   "--max-latency-ms", "500", "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "ms per row (cap 500 ms)" in res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert 0 < manifest["latency"]["latency_ms"] <= 500
    assert "latency_ms" in (out / "leaderboard.csv").read_text().splitlines()[0]


def test_pickled_size_counts_out_of_band_buffers():
    import pickle

    from mlexpert.artifacts import pickled_size

    obj = {"weights": np.arange(50_000, dtype=float), "name": "x" * 10}
    assert pickled_size(obj) == len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) > 400_000
