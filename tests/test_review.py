"""The expert review inside fit: held-out permutation importance, SHAP, partial dependence,
diagnosis and fairness, on data where the answer is known."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

import mlexpert
from mlexpert.search.cv import make_folds
from mlexpert.ensemble.selection import blend_oof
from mlexpert.explain.permutation import permutation_importance
from mlexpert.evaluation.metrics import get_metric


def _planted(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """``signal`` drives the target; ``weak`` a little; the rest is noise; ``group`` is a
    sensitive attribute that the model's decisions depend on through ``signal``."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    weak = rng.normal(size=n)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    signal += np.where(group == "a", 0.8, 0.0)
    logit = 3 * signal + 0.5 * weak - 1.0
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame({"signal": signal, "weak": weak, "noise1": rng.normal(size=n),
                         "noise2": rng.choice(["p", "q", "r"], n), "group": group, "target": y})


@pytest.fixture(scope="module")
def reviewed():
    df = _planted()
    # max_trials ends the search early; the review may then take 10% of the budget (4 s)
    return df, mlexpert.fit(df, target="target", time_limit=40, families=("lightgbm",),
                            max_trials=3, sensitive=("group",), seed=0)


def test_importance_finds_the_planted_signal(reviewed):
    _, result = reviewed
    importance = result.manifest["importance"]
    permutation = importance["permutation"]
    assert permutation["features"][0]["feature"] == "signal"
    assert permutation["features"][0]["mean"] > 0.1  # roc_auc falls a lot without it
    means = {f["feature"]: f["mean"] for f in permutation["features"]}
    assert abs(means["noise1"]) < 0.02 and not permutation["not_computed"]
    assert "held-out" in permutation["on"]
    shap = importance["shap"]
    assert shap["features"][0]["feature"] == "signal" and 0 < shap["coverage"] <= 1


def test_partial_dependence_of_the_signal_rises(reviewed):
    _, result = reviewed
    curves = {c["feature"]: c for c in result.manifest["importance"]["partial_dependence"]}
    curve = curves["signal"]
    assert curve["kind"] == "numeric" and curve["output"] == "P(target = yes)"
    assert curve["average"][-1] - curve["average"][0] > 0.5
    assert np.corrcoef(curve["grid"], curve["average"])[0, 1] > 0.9


def test_fairness_flags_the_group_gap(reviewed):
    df, result = reviewed
    fairness = result.manifest["fairness"]
    assert fairness["flagged"] == ["group"]
    groups = fairness["columns"]["group"]["groups"]
    assert groups["a"]["selection_rate"] > groups["b"]["selection_rate"] + 0.1
    assert groups["a"]["n"] + groups["b"]["n"] == len(df)
    assert fairness["mitigation"]


def test_review_sections_are_json_and_within_budget(reviewed):
    _, result = reviewed
    json.dumps({k: result.manifest[k] for k in ("diagnosis", "importance", "fairness")},
               allow_nan=False)
    assert result.manifest["diagnosis"]["verdict"] in {"fine", "more_data", "overfitting",
                                                       "underfitting"}
    assert result.manifest["budget"]["total_s"] <= 40 * 1.05


def test_held_out_fold_pipeline_reproduces_the_out_of_fold_blend():
    """The permutation baseline is truly held out: the fold-1 ensemble gives the same outputs
    on fold 1's validation rows as the out-of-fold blend the ensemble was scored with."""
    from mlexpert import api
    from mlexpert.review import fold_pipeline

    df = _planted(600)
    seen = {}
    original = api.review_fit

    def spy(pipeline, kept, results, ws, metric, **kwargs):
        seen["ok"] = (pipeline, kept, ws)
        va = ws.folds.splits[0][1]
        held_out = fold_pipeline(pipeline, kept, ws)
        weights = {m.name: m.weight for m in pipeline.members}
        seen["pair"] = (held_out.predict_output(ws.X.iloc[va]), blend_oof(kept, weights, va))
        return {}

    api.review_fit = spy
    try:
        mlexpert.fit(df, target="target", time_limit=10, families=("lightgbm", "linear"),
                     max_trials=3, refit=True)
    finally:
        api.review_fit = original
    ours, blended = seen["pair"]
    np.testing.assert_allclose(ours, blended, rtol=1e-6, atol=1e-8)


def test_permutation_importance_respects_the_deadline():
    df = _planted(300)
    metric = get_metric("rmse", "regression")
    X, y = df[["signal", "weak", "noise1"]], df["signal"].to_numpy() * 2
    found = permutation_importance(lambda frame: frame["signal"].to_numpy() * 2, X, y, metric,
                                   deadline=0.0)  # past: only the leading column still runs
    assert [f["feature"] for f in found["features"]] == ["signal"]
    assert found["not_computed"] == ["weak", "noise1"]
    found = permutation_importance(lambda frame: frame["signal"].to_numpy() * 2, X, y, metric)
    assert [f["feature"] for f in found["features"]][0] == "signal"
    assert found["features"][1]["mean"] == 0.0
    assert found["not_computed"] == []


def test_permutation_batches_are_sized_by_the_measured_prediction_speed():
    """A slow model (1 ms a row: 0.1 s per permuted copy of 100 rows) with 0.45 s to go:
    the baseline (0.1 s) and the leading column's three copies (0.3 s) fit, the next column
    would not, so it stops near the deadline instead of scoring all 9 copies (~1 s)."""
    df = _planted(100)
    metric = get_metric("rmse", "regression")

    def slow(frame):
        time.sleep(1e-3 * len(frame))
        return frame["signal"].to_numpy() * 2

    start = time.monotonic()
    found = permutation_importance(slow, df[["signal", "weak", "noise1"]],
                                   df["signal"].to_numpy() * 2, metric, deadline=start + 0.45)
    assert time.monotonic() - start < 0.7
    assert [f["feature"] for f in found["features"]] == ["signal"]
    assert found["not_computed"] == ["weak", "noise1"]


def test_undefined_metric_on_the_held_out_rows_is_reported_not_raised():
    df = _planted(200)
    metric = get_metric("roc_auc", "binary")
    y = np.zeros(len(df), dtype=int)  # one class: AUC undefined
    found = permutation_importance(lambda frame: np.tile([0.5, 0.5], (len(frame), 1)),
                                   df[["signal", "weak"]], y, metric)
    assert found["features"] == [] and found["not_computed"] == ["signal", "weak"]


def test_a_failing_review_step_costs_its_section_not_the_model():
    from mlexpert import api

    original = api.review_fit

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    api.review_fit = broken
    try:
        result = mlexpert.fit(_planted(300), target="target", time_limit=10,
                              families=("linear",), max_trials=2)
    finally:
        api.review_fit = original
    assert "diagnosis" not in result.manifest and len(result.predict(_planted(5))) == 5
    assert any("review step failed" in n and "boom" in n for n in result.notices)


def test_partial_dependence_past_its_deadline_still_draws_the_leading_feature(reviewed):
    from types import SimpleNamespace

    from mlexpert.review import _partial_dependence

    df, result = reviewed
    ws = SimpleNamespace(X=df.drop(columns="target"))
    curves = _partial_dependence(result.pipeline, ws, ["noise2", "signal", "weak"],
                                 np.random.default_rng(0), deadline=0.0)
    assert [c["feature"] for c in curves] == ["noise2"]
    curves = _partial_dependence(result.pipeline, ws, ["noise2", "signal", "weak"],
                                 np.random.default_rng(0), deadline=float("inf"))
    assert [c["feature"] for c in curves] == ["noise2", "signal", "weak"]
