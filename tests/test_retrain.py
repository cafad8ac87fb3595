"""``mlexpert retrain``: a real registry in a temporary folder, real (tiny) fits, a real
prediction log, and a real process killed mid-fit.

Bike sharing counts grow a lot from 2011 to 2012, so a champion trained on 2011 is beaten
by a challenger trained on 2012; a champion trained on 2012 rows is not beaten by a
challenger trained on fewer rows of the same year. Every fit repeats the champion's
settings (one LightGBM trial, fixed seed), so the outcomes are deterministic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from sqlalchemy import insert
from typer.testing import CliRunner

import mlexpert
from mlexpert.evaluation.metrics import METRICS, get_metric
from mlexpert.exceptions import DataError, InvalidParameterError
from mlexpert.registry import Registry
from mlexpert.retrain import paired_bootstrap, promotion_rule, retrain
from mlexpert.retrain.compare import _resampled_scores, _safe_score
from mlexpert.retrain.data import assemble, unix_seconds
from mlexpert.retrain.resample import resample_counts
from mlexpert.store import feedback, prediction_log

from .conftest import load_shared

FIT = dict(target="cnt", time_limit=60, families=["lightgbm"], max_trials=1, review=False, n_folds=3,
           n_jobs=1, seed=0)
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def bikes() -> pd.DataFrame:
    return load_shared("bike_sharing_hourly")


@pytest.fixture(scope="module")
def by_year(bikes):
    return bikes[bikes.yr == 0].reset_index(drop=True), bikes[bikes.yr == 1].reset_index(drop=True)


@pytest.fixture(scope="module")
def champion_2011(by_year, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("champion") / "model"
    mlexpert.fit(by_year[0].iloc[::4], **FIT, out=out)
    return out


@pytest.fixture
def registry(tmp_path, champion_2011) -> Registry:
    reg = Registry(tmp_path / "registry")
    reg.register(champion_2011, "bikes")
    return reg


def _app() -> typer.Typer:
    from mlexpert.cli.retrain import retrain_command

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("retrain")(retrain_command)
    app.callback()(lambda: None)
    return app


# -- the decision -------------------------------------------------------------------------

def test_a_real_shift_promotes_the_challenger(registry, by_year):
    fresh = by_year[1].iloc[::3]
    decision = retrain(registry, "bikes", fresh, n_jobs=1)
    assert json.loads(json.dumps(decision)) == decision  # plain JSON values only
    assert decision["outcome"] == "promoted" and decision["promoted"]
    assert decision["p_value"] < 0.05 and decision["wilcoxon"]["p_value"] < 0.05
    assert decision["metric"] == "rmse" and not decision["greater_is_better"]
    champ, chall = decision["champion"], decision["challenger"]
    assert chall["score"] < champ["score"] - 20  # rmse: 2012 counts are far above 2011's
    assert decision["improvement"]["value"] == pytest.approx(champ["score"] - chall["score"])
    assert decision["improvement"]["ci95"][0] > 0
    assert champ["ci95"][0] < champ["score"] < champ["ci95"][1]
    ev = decision["evaluation"]
    assert ev["source"] == "holdout" and ev["rows"] == round(0.2 * len(fresh))
    assert decision["training"]["rows"] == len(fresh) - ev["rows"]
    assert chall["data_fingerprint"] == decision["training"]["fingerprint"] != champ["data_fingerprint"]

    new = registry.champion("bikes")
    assert (new.version, new.parent_version, new.note) == (2, 1, "retrain")
    assert registry.get("bikes", 1).stage == "archived"
    events = registry.events("bikes")
    assert [e["action"] for e in events[:3]] == ["retrain", "promote", "register"]
    assert events[0]["evidence"] == decision and events[0]["version"] == 2
    assert events[1]["evidence"]["retrain"]["p_value"] == decision["p_value"]


def test_no_shift_keeps_the_champion(tmp_path, by_year):
    """A champion trained on 3,000 rows of 2012; fresh data: 1,500 other rows of 2012."""
    rows = by_year[1].sample(frac=1.0, random_state=7).reset_index(drop=True)
    champion_rows, fresh = rows.iloc[:3000], rows.iloc[3000:4500]
    mlexpert.fit(champion_rows, **FIT, out=tmp_path / "champion")
    reg = Registry(tmp_path / "registry")
    reg.register(tmp_path / "champion", "bikes")
    decision = retrain(reg, "bikes", fresh, n_jobs=1)
    # the same model on fewer rows of the same distribution: not better
    assert decision["outcome"] == "champion_stays" and not decision["promoted"]
    assert decision["p_value"] > 0.5 and decision["improvement"]["value"] < 0
    assert decision["reason"].startswith("the challenger is not significantly better on rmse")
    assert reg.champion("bikes").version == 1
    assert reg.get("bikes", 2).stage == "candidate"
    assert [e["action"] for e in reg.events("bikes")[:2]] == ["retrain", "register"]


def _log(store, frame: pd.DataFrame, *, ts: float, prefix: str, shadow_rows: int = 0,
         unlabelled_every: int = 0) -> int:
    """Log ``frame``'s rows as served by version 1 at ``ts`` + i, with their outcomes as
    feedback (except every ``unlabelled_every``-th row), the first ``shadow_rows`` also as a
    shadow's copies; returns how many logged rows have an outcome."""
    records = json.loads(frame.drop(columns=["cnt"]).to_json(orient="records", date_format="iso"))
    log_rows, labels = [], []
    for i, record in enumerate(records):
        for shadow in (False, True) if i < shadow_rows else (False,):
            log_rows.append({"request_id": f"{prefix}{'-shadow' * shadow}-{i}", "row": 0,
                             "ts": ts + i, "model": "bikes", "version": "1",
                             "inputs": json.dumps(record), "prediction": "100", "shadow": shadow,
                             "source": "api"})
        if not unlabelled_every or i % unlabelled_every:
            labels.append({"request_id": f"{prefix}-{i}", "row": 0, "ts": ts + i + 1,
                           "actual": json.dumps(int(frame["cnt"].iloc[i])), "source": "api"})
    with store.write() as conn:
        conn.execute(insert(prediction_log), log_rows)
        conn.execute(insert(feedback), labels)
    return len(labels)


def test_a_reversed_relationship_promotes_a_classifier(tmp_path, churn):
    """Binary churn (roc_auc, greater is better): the fresh rows follow the opposite rule."""
    mlexpert.fit(churn.iloc[:1000], target="churned", time_limit=60, families=["linear"],
                 max_trials=1, review=False, n_folds=3, n_jobs=1, out=tmp_path / "champion")
    reg = Registry(tmp_path / "registry")
    reg.register(tmp_path / "champion", "churn")
    fresh = churn.iloc[1000:].assign(churned=churn["churned"].iloc[1000:].map({"yes": "no", "no": "yes"}))
    decision = retrain(reg, "churn", fresh, n_jobs=1)
    assert decision["metric"] == "roc_auc" and decision["greater_is_better"]
    assert decision["champion"]["score"] < 0.4 < 0.6 < decision["challenger"]["score"]
    assert decision["improvement"]["value"] == pytest.approx(
        decision["challenger"]["score"] - decision["champion"]["score"])
    assert decision["promoted"] and decision["p_value"] < 0.05
    assert decision["wilcoxon"]["loss"] == "log_loss" and decision["wilcoxon"]["p_value"] < 0.05

    with pytest.raises(DataError, match="single class"):  # the fit fails: nothing registered
        retrain(reg, "churn", churn.assign(churned="no"), n_jobs=1)
    assert [v.version for v in reg.versions("churn")] == [1, 2]
    assert [e["action"] for e in reg.events("churn")][0] == "retrain"


def test_eval_from_log_uses_labelled_rows_logged_since_the_champion(registry, by_year):
    now = time.time()
    served = by_year[1].iloc[1::10]  # odd rows of 2012, served by the champion
    expected = _log(registry.store, served, ts=now + 1, prefix="live", shadow_rows=30,
                    unlabelled_every=7)
    _log(registry.store, by_year[0].iloc[:40], ts=now - 86400, prefix="old")  # before it

    fresh = by_year[1].iloc[::4]  # even rows: none of them was served
    decision = retrain(registry, "bikes", fresh, eval_from_log=True, n_jobs=1)
    assert decision["evaluation"]["source"] == "log"
    assert decision["evaluation"]["rows"] == expected < len(served)
    assert decision["training"]["rows"] == len(fresh)  # nothing held out
    assert decision["promoted"] and decision["p_value"] < 0.05
    assert registry.champion("bikes").version == 2


def test_log_rows_from_a_postgresql_store(postgres_url, champion_2011, by_year, tmp_path):
    from .postgres import fresh_schema

    reg = Registry(tmp_path / "registry", fresh_schema(postgres_url))
    champion = reg.register(champion_2011, "bikes")
    now = time.time()
    expected = _log(reg.store, by_year[1].iloc[1::50], ts=now + 1, prefix="live", shadow_rows=5,
                    unlabelled_every=4)
    _log(reg.store, by_year[0].iloc[:30], ts=now - 86400, prefix="old")
    fresh = by_year[1].iloc[::4]
    got = assemble(fresh, target="cnt", eval_from_log=True, store=reg.store, name="bikes",
                   since=unix_seconds(champion.created_at))
    assert len(got.eval) == expected and len(got.train) == len(fresh)
    assert got.eval["cnt"].tolist() == [int(v) for i, v in enumerate(by_year[1].iloc[1::50]["cnt"]) if i % 4]
    logged = assemble(fresh, target="cnt", include_log=True, store=reg.store, name="bikes")
    assert logged.training["log_rows"] == expected + 30
    assert len(logged.train) == len(fresh) - len(logged.eval) + expected + 30


def test_a_champion_promoted_during_the_fit_is_not_replaced(registry, by_year, champion_2011):
    def promote_another(event):  # someone else promotes a version while the challenger fits
        if not registry.versions("bikes")[1:]:
            registry.register(champion_2011, "bikes", stage="champion", note="hotfix")

    decision = retrain(registry, "bikes", by_year[1].iloc[::4], n_jobs=1, on_event=promote_another)
    assert decision["outcome"] == "champion_changed" and not decision["promoted"], decision
    assert "the champion changed during the retrain (now version 2" in decision["reason"]
    assert decision["p_value"] < 0.05  # it did beat the champion it was compared with...
    assert (decision["champion"]["version"], decision["challenger"]["version"]) == (1, 3)
    assert registry.champion("bikes").version == 2  # ...which is no longer in production
    assert registry.get("bikes", 3).stage == "candidate"


def test_a_champion_promoted_between_the_check_and_the_promotion_is_not_replaced(
        registry, by_year, champion_2011, monkeypatch):
    """The last window: another process promotes right after retrain saw the old champion.
    The promotion is conditional (same transaction), so the hotfix stays champion."""
    from mlexpert.retrain import decide

    decided = decide._outcome

    def outcome_then_hotfix(*args, **kwargs):  # right after retrain compared the champions
        answer = decided(*args, **kwargs)
        if answer[0] == "promoted":
            Registry(registry.root).register(champion_2011, "bikes", stage="champion", note="hotfix")
        return answer

    monkeypatch.setattr(decide, "_outcome", outcome_then_hotfix)
    decision = retrain(registry, "bikes", by_year[1].iloc[::4], n_jobs=1)
    assert decision["outcome"] == "champion_changed" and not decision["promoted"], decision
    assert "(now version 3, compared with 1)" in decision["reason"]
    assert registry.get("bikes", 3).stage == "champion"  # the hotfix
    assert registry.get("bikes", 2).stage == "candidate"  # the challenger
    assert registry.events("bikes")[0]["action"] == "retrain"
    assert not any(e["action"] == "promote" and e.get("version") == 2 for e in registry.events("bikes"))


def test_conditional_promotion(registry, champion_2011):
    from mlexpert.exceptions import ChampionChangedError

    registry.register(champion_2011, "bikes", note="second")
    with pytest.raises(ChampionChangedError, match="champion is now version 1, not None") as info:
        registry.promote("bikes", 2, if_champion=None)
    assert info.value.current == 1 and registry.champion("bikes").version == 1
    assert registry.promote("bikes", 2, if_champion=1).stage == "champion"
    assert registry.get("bikes", 1).stage == "archived"


def test_cli_no_promote_writes_the_decision(tmp_path, registry, by_year):
    fresh = tmp_path / "fresh.parquet"
    more = tmp_path / "more.csv"
    by_year[1].iloc[::6].to_parquet(fresh)
    by_year[1].iloc[3::6].to_csv(more, index=False)
    out = tmp_path / "decision.json"
    result = CliRunner().invoke(_app(), [
        "retrain", "--registry", str(registry.root), "--name", "bikes", "--data", str(fresh),
        "--data", str(more), "--no-promote", "--json", "--out", str(out), "--jobs", "1",
        "--window", "2000"])
    assert result.exit_code == 0, result.output
    decision = json.loads(out.read_text())
    assert decision["outcome"] == "challenger_better_not_promoted" and not decision["promoted"]
    assert decision["training"]["sources"] == [str(fresh), str(more)]
    assert decision["training"]["rows"] == 2000 and decision["training"]["window"] == 2000
    assert registry.champion("bikes").version == 1
    assert registry.get("bikes", 2).stage == "candidate"
    assert registry.events("bikes")[0]["action"] == "retrain"


# -- errors -------------------------------------------------------------------------------

def test_errors_name_the_problem_and_change_nothing(registry, by_year, tmp_path):
    fresh = by_year[1].iloc[::3]
    with pytest.raises(InvalidParameterError, match="No model named 'bykes'.*known names: bikes"):
        retrain(registry, "bykes", fresh)
    with pytest.raises(DataError, match="no target column 'cnt'"):
        retrain(registry, "bikes", fresh.drop(columns=["cnt"]))
    with pytest.raises(DataError, match="no target column 'cnt'"):
        retrain(registry, "bikes", fresh, eval_data=fresh.drop(columns=["cnt"]))
    with pytest.raises(InvalidParameterError, match="not both"):
        retrain(registry, "bikes", fresh, eval_data=fresh, eval_from_log=True)
    with pytest.raises(InvalidParameterError, match="--include-log and --eval-from-log"):
        retrain(registry, "bikes", fresh, include_log=True, eval_from_log=True)
    with pytest.raises(DataError, match="no row of 'bikes' with an outcome"):
        retrain(registry, "bikes", fresh, eval_from_log=True)  # nothing logged yet
    with pytest.raises(InvalidParameterError, match="alpha"):
        retrain(registry, "bikes", fresh, alpha=1.5)
    other = tmp_path / "other.csv"
    fresh.drop(columns=["hum"]).to_csv(other, index=False)
    with pytest.raises(DataError, match="other columns.*lacks \\['hum'\\]"):
        retrain(registry, "bikes", [fresh, other])
    assert [v.version for v in registry.versions("bikes")] == [1]
    assert [e["action"] for e in registry.events("bikes")] == ["register"]

    runner, app = CliRunner(), _app()
    path = tmp_path / "no_target.csv"
    fresh.drop(columns=["cnt"]).to_csv(path, index=False)
    result = runner.invoke(app, ["retrain", "-r", str(registry.root), "--name", "bikes",
                                 "--data", str(path)])
    assert result.exit_code == 3 and "no target column 'cnt'" in result.output
    result = runner.invoke(app, ["retrain", "-r", str(tmp_path / "nowhere"), "--name", "bikes",
                                 "--data", str(path)])
    assert result.exit_code == 2 and "No registry at" in result.output
    assert not (tmp_path / "nowhere").exists()


def test_a_process_killed_mid_fit_leaves_the_registry_as_it_was(registry, by_year, tmp_path):
    fresh = tmp_path / "fresh.parquet"
    by_year[1].to_parquet(fresh)
    before = (registry.versions("bikes"), registry.events("bikes"))
    work = tmp_path / "tmp"
    work.mkdir()
    code = ("import sys, typer; from mlexpert.cli.retrain import retrain_command; "
            "app = typer.Typer(); app.command('retrain')(retrain_command); app.callback()(lambda: None); "
            "app(sys.argv[1:])")
    env = {**os.environ, "TMPDIR": str(work), "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-c", code, "retrain", "-r", str(registry.root),
                             "--name", "bikes", "--data", str(fresh), "--jobs", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not list(work.glob("mlexpert-retrain-*")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        time.sleep(0.5)  # inside the fit (one trial takes seconds on 7,000 rows)
        assert proc.poll() is None, "the retrain ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)  # reaps it and closes the pipes
    assert proc.returncode == -signal.SIGKILL
    [folder] = work.glob("mlexpert-retrain-*")  # the fit was under way...
    assert not (folder / "model" / "manifest.json").exists()  # ...and had saved nothing yet
    assert registry.check() == []  # nothing reached the registry
    assert (registry.versions("bikes"), registry.events("bikes")) == before
    assert mlexpert.load(registry.champion("bikes").path).manifest["target"] == "cnt"


# -- the rows used --------------------------------------------------------------------------

def test_holdout_window_and_log_rows(registry, by_year):
    fresh = by_year[1].iloc[:1000].sample(frac=1.0, random_state=0)  # shuffled in time
    got = assemble(fresh, target="cnt", time_column="dteday")
    assert len(got.eval) == 200 and len(got.train) == 800
    assert got.train["dteday"].max() <= got.eval["dteday"].min()  # the most recent 20% held out
    assert got.train["dteday"].is_monotonic_increasing

    windowed = assemble(fresh, target="cnt", window=300)
    assert len(windowed.train) == 300 and windowed.training["window"] == 300
    pd.testing.assert_frame_equal(windowed.train, fresh.iloc[500:800].reset_index(drop=True))

    record = json.loads(by_year[1].iloc[[5000]].to_json(orient="records", date_format="iso"))[0]
    with registry.store.write() as conn:
        conn.execute(insert(prediction_log), [{
            "request_id": "r1", "row": 0, "ts": time.time(), "model": "bikes", "version": "1",
            "inputs": json.dumps({k: v for k, v in record.items() if k != "cnt"}),
            "prediction": "1", "shadow": False, "source": "api"}])
        conn.execute(insert(feedback), [{"request_id": "r1", "row": 0, "ts": time.time(),
                                         "actual": "321", "source": "api"}])
    logged = assemble(fresh, target="cnt", include_log=True, store=registry.store, name="bikes")
    assert len(logged.train) == 801 and logged.training["log_rows"] == 1
    last = logged.train.iloc[-1]
    assert last["cnt"] == 321 and last["dteday"] == by_year[1].loc[5000, "dteday"]
    assert logged.train["dteday"].dtype == fresh["dteday"].dtype  # logged JSON read like the files


# -- the test statistic ---------------------------------------------------------------------

CASES = [(name, task) for name, m in sorted(METRICS.items()) for task in m.tasks
         if task != "multiclass" or name != "roc_auc"] + [("roc_auc", "multiclass")]


@pytest.mark.parametrize("name,task", sorted(set(CASES)))
def test_vectorised_resamples_match_the_metric(name, task):
    rng = np.random.default_rng(3)
    n = 120
    if task == "regression":
        y = rng.normal(10, 3, n)
        a, b = np.round(y + rng.normal(0, 2, n)), y + rng.normal(0, 1.5, n)
    else:  # rounded probabilities: ties, as real models give
        k = 2 if task == "binary" else 3
        y = rng.integers(0, k, n)
        a, b = np.round(rng.dirichlet(np.ones(k), n), 1), rng.dirichlet(np.ones(k), n)
        a = a / a.sum(axis=1, keepdims=True)
    metric = get_metric(name, task)
    fast = _resampled_scores(metric, y, a, b, 40, seed=5)
    counts = resample_counts(np.random.default_rng(5), n, 40)
    for j, c in enumerate(counts):
        rows = np.repeat(np.arange(n), c.astype(int))
        assert fast[0][j] == pytest.approx(_safe_score(metric, y[rows], a[rows]), abs=1e-9)
        assert fast[1][j] == pytest.approx(_safe_score(metric, y[rows], b[rows]), abs=1e-9)


def test_the_bootstrap_test_follows_the_metric_direction():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.column_stack([1 - (0.2 + 0.6 * y), 0.2 + 0.6 * y])
    noise = rng.dirichlet([1, 1], 400)
    for name in ("roc_auc", "log_loss", "accuracy"):  # greater and smaller is better
        metric = get_metric(name, "binary")
        better = paired_bootstrap(metric, y, noise, good)
        worse = paired_bootstrap(metric, y, good, noise)
        assert better["bootstrap"]["p_value"] < 0.01 < 0.99 < worse["bootstrap"]["p_value"]
        assert better["improvement"]["value"] > 0 > worse["improvement"]["value"]
    same = paired_bootstrap(get_metric("rmse", "regression"), y * 1.0, y + 0.5, y + 0.5)
    assert same["bootstrap"]["p_value"] == 1.0 and same["wilcoxon"]["p_value"] == 1.0


def test_the_promotion_rule_needs_significance_and_the_minimum_improvement():
    test = {"metric": "rmse", "bootstrap": {"p_value": 0.01}, "improvement": {"value": 3.0}}
    assert promotion_rule(test, alpha=0.05, min_improvement=0.0)[0]
    assert promotion_rule(test, alpha=0.05, min_improvement=3.0)[0]
    wins, reason = promotion_rule(test, alpha=0.05, min_improvement=5.0)
    assert not wins and "under the required improvement 5" in reason
    wins, reason = promotion_rule(test, alpha=0.01, min_improvement=0.0)
    assert not wins and "p = 0.01 >= alpha 0.01" in reason
