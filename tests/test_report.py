"""The model report: plain-language summary sentences, every section and chart on real model
directories, old manifests without the new sections, the command line, and the curves and
residual samples that ``assess`` records for the charts."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mlexpert
from mlexpert.evaluation.assessment import MAX_CURVE_POINTS, MAX_RESIDUAL_SAMPLE, assess
from mlexpert.exceptions import ArtifactError, InvalidParameterError
from mlexpert.report import build_report, write_report
from mlexpert.report import summary as S

from .conftest import EXAMPLE, load_shared

SECTION_IDS = ("summary", "audit", "leaderboard", "metrics", "diagnosis", "importance",
               "fairness", "model-card", "budget")
TINY = {"time_limit": 5, "families": ("linear",), "max_trials": 2, "n_jobs": 1, "review": False}


# ---------------------------------------------------------------- summary sentences

def test_binary_sentences_count_out_of_100():
    out = S.binary_sentences(0.7195, 0.3914, 0.3245, "churned", "yes")
    assert out == ['Of every 100 cases it flags as "churned = yes", about 72 really are.',
                   'It catches about 39 of every 100 real "churned = yes" cases.',
                   'For comparison, 32 of every 100 cases are "churned = yes" overall.']
    auc = S.auc_sentence(0.873, "churned", "yes", "no")
    assert "higher score 87% of the time" in auc and '"churned = no"' in auc


def test_a_model_that_never_flags_is_not_said_to_be_right_0_times_in_100():
    out = S.binary_sentences(0.0, 0.0, 0.03, "churned", "yes")
    assert out[0].startswith('At this cut-off it never flags a case as "churned = yes"')
    assert not any("really are" in s for s in out)


def test_a_plateau_with_one_bump_is_not_a_trend():
    flat = {"feature": "x", "kind": "numeric", "grid": list(range(16)),
            "average": [0.5] * 8 + [0.7] + [0.5] * 7, "output": "P(y = 1)"}
    assert S.trend_sentence(flat) == ""
    rising = {**flat, "average": [0.1 + 0.05 * i for i in range(16)]}
    assert S.trend_sentence(rising).startswith("Higher x goes with higher")


def test_regression_and_multiclass_sentences():
    out = S.regression_sentences(2.345, 1.51, 0.873, "price", mape=0.081)
    assert out[0] == ("Its predictions of price are typically off by about 2.3 (half of them are "
                      "within 1.5 of the true value).")
    assert out[1] == "On average that is about 8% of the true value."
    assert out[2].startswith("It explains about 87% of the variation in price")
    assert S.regression_sentences(15234.0, 9876.0, -0.2, "price")[:2] == [
        "Its predictions of price are typically off by about 15,000 (half of them are within "
        "9,900 of the true value).", "It does no better than always guessing the average price."]
    out = S.multiclass_sentences(0.91, "species", {"a": 0.95, "b": 0.93, "c": 0.70}, 0.5)
    assert out == ["It picks the right species about 91 times out of 100.",
                   "Always guessing the most common species would be right 50 times out of 100.",
                   'The hardest to recognise is "c": it finds about 70 of every 100 such cases.']


def test_operating_point_reads_the_tuned_threshold_off_the_pr_curve():
    ev = {"per_class": {"yes": {"precision": 0.7, "recall": 0.4}},
          "curves": {"pr": {"precision": [0.3, 0.5, 0.6, 0.8, 1.0], "recall": [1.0, 0.9, 0.7, 0.3, 0.0],
                            "threshold": [0.05, 0.2, 0.35, 0.6, None]}}}
    assert S.binary_operating_point(ev, None, "yes") == (0.7, 0.4)
    assert S.binary_operating_point(ev, {"threshold": 0.3}, "yes") == (0.6, 0.7)
    ev["decision_threshold"] = 0.3  # the per-class report was computed at the tuned threshold
    assert S.binary_operating_point(ev, {"threshold": 0.3}, "yes") == (0.7, 0.4)


def test_drivers_and_their_direction():
    importance = {"permutation": {"features": [{"feature": "tenure", "mean": 0.1},
                                               {"feature": "plan", "mean": 0.05},
                                               {"feature": "calls", "mean": 0.01},
                                               {"feature": "noise", "mean": -0.001}]},
                  "partial_dependence": [
                      {"feature": "tenure", "kind": "numeric", "grid": [1, 2, 3, 4],
                       "average": [0.5, 0.4, 0.3, 0.1], "output": "P(churned = yes)"},
                      {"feature": "calls", "kind": "numeric", "grid": [1, 2, 3, 4],
                       "average": [0.2, 0.5, 0.1, 0.4], "output": "P(churned = yes)"}]}
    assert S.driver_sentences(importance) == [
        "The predictions depend most on tenure, plan and calls.",
        "Higher tenure goes with lower chance of churned = yes."]
    shap_only = {"permutation": {"features": []},
                 "shap": {"features": [{"feature": "age", "mean_abs": 0.3}]}}
    assert S.top_features(shap_only) == ["age"]
    assert "not measured" in S.driver_sentences(None)[0]


def test_caveats_cover_audit_diagnosis_fairness_size_and_uncertainty():
    manifest = {
        "task": {"kind": "binary", "classes": ["no", "yes"]}, "target": "y", "n_rows": 300,
        "audit": {"findings": [
            {"severity": "critical", "message": "Column 'leak' copies the target.",
             "action": "Dropped from training."},
            {"severity": "warning", "message": "Column 'id' looks like an identifier."}]},
        "diagnosis": {"verdict": "overfitting", "headline": "It memorises the training rows."},
        "fairness": {"columns": {"sex": {"flagged": True}, "age": {"flagged": False}}},
        "evaluation": {"cross_validation": {
            "n_rows": 300, "metrics": {"roc_auc": {"value": 0.8, "ci_low": 0.7, "ci_high": 0.86}},
            "per_class": {"no": {"support": 280}, "yes": {"support": 20}},
            "calibration": {"expected_calibration_error": 0.12}}}}
    text = " ".join(S.caveat_sentences(manifest))
    for expected in ("one serious problem: Column 'leak' copies the target. It was left out of training.",
                     "a warning: Column 'id'", "It memorises the training rows.",
                     "groups of sex;", "only 300 examples", 'very few examples of "y = yes"',
                     "off by about 12 percentage points", "anywhere from 70% to 86%, a wide range"):
        assert expected in text, expected
    assert "groups of sex and age" not in text


# ---------------------------------------------------------------- real model directories

@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    mlexpert.fit(EXAMPLE, target="churned", optimize_threshold="f1", sensitive=["plan"],
                 out=root / "binary", **TINY)
    mlexpert.fit(load_shared("auto_mpg"), target="mpg", out=root / "regression", **TINY)
    mlexpert.fit(load_shared("penguins"), target="species", out=root / "multiclass", **TINY)
    return root


EXPECTED_CHARTS = {"binary": {"confusion-matrix", "roc", "pr", "calibration", "fairness-groups"},
                   "regression": {"residuals", "residual-histogram"},
                   "multiclass": {"confusion-matrix", "roc", "pr", "calibration"}}


def charts_in(html: str) -> list[str]:
    return re.findall(r'<figure class="chart[^"]*" data-chart="([^"]+)"', html)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<?xml" not in html and "@import" not in html
    assert html.count("<figure") == html.count("<figcaption>") == html.count("<svg")


@pytest.mark.parametrize("kind", ["binary", "regression", "multiclass"])
def test_real_model_reports_have_every_section_and_chart(model_dirs, kind):
    html = build_report(model_dirs / kind)
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in html
    assert EXPECTED_CHARTS[kind] <= set(charts_in(html))
    assert_self_contained(html)
    assert "could not be drawn" not in html
    markdown = build_report(model_dirs / kind, "md")
    assert markdown.startswith("# Model report: predicting") and "## Model card" in markdown
    data = json.loads(build_report(model_dirs / kind, "json"))
    assert set(data["sections"]) == set(SECTION_IDS) - {"summary"}
    assert data["summary"]["quality"] and data["summary"]["what"].startswith("This model predicts")


def test_binary_summary_reads_the_tuned_threshold(model_dirs):
    manifest = json.loads((model_dirs / "binary" / "manifest.json").read_text())
    summary = json.loads(build_report(model_dirs / "binary", "json"))["summary"]
    t = manifest["threshold"]["threshold"]
    assert any(f"at least {round(t * 100)}%" in s for s in summary["quality"])
    stats = manifest["evaluation"]["cross_validation"]["per_class"]["yes"]
    assert f"about {round(stats['precision'] * 100)} really are" in " ".join(summary["quality"])


def test_new_sections_render_with_their_charts(model_dirs):
    manifest = json.loads((model_dirs / "binary" / "manifest.json").read_text())
    manifest["diagnosis"] = {
        "model": "lightgbm#3", "metric": "roc_auc", "greater_is_better": True,
        "curve": [{"n_train": n, "fraction": n / 1600, "train": 0.99, "valid": v}
                  for n, v in ((160, 0.70), (400, 0.74), (800, 0.77), (1600, 0.78))],
        "verdict": "overfitting", "headline": "The model memorises its training rows.",
        "evidence": ["Training ROC AUC 0.99 against 0.78 on new rows."],
        "advice": ["Regularise more."]}
    manifest["importance"] = {
        "permutation": {"on": "held-out rows of fold 1 (400 rows)", "metric": "roc_auc", "n_repeats": 3,
                        "features": [{"feature": "tenure_months", "mean": 0.08, "std": 0.01},
                                     {"feature": "contract", "mean": 0.05, "std": 0.01},
                                     {"feature": "support_calls", "mean": 0.02, "std": 0.005}],
                        "not_computed": []},
        "shap": {"space": "log-odds", "coverage": 0.8, "members": ["lightgbm#3"],
                 "features": [{"feature": "tenure_months", "mean_abs": 0.4}]},
        "partial_dependence": [
            {"feature": "tenure_months", "kind": "numeric", "grid": [1, 12, 24, 48],
             "average": [0.5, 0.35, 0.25, 0.1], "output": "P(churned = yes)"},
            {"feature": "contract", "kind": "categorical", "grid": ["monthly", "one_year"],
             "average": [0.45, 0.2], "output": "P(churned = yes)"}]}
    html = build_report(manifest)
    assert {"learning-curve", "permutation-importance", "shap-importance",
            "partial-dependence"} <= set(charts_in(html))
    assert "Verdict: Overfitting." in html and "Regularise more." in html
    assert "depend most on tenure_months, contract and support_calls" in html
    assert "Higher tenure_months goes with lower chance of churned = yes." in html
    assert "The model memorises its training rows." in html  # a caveat in the summary
    assert_self_contained(html)


def test_old_or_minimal_manifests_still_render(model_dirs):
    manifest = json.loads((model_dirs / "regression" / "manifest.json").read_text())
    old = {k: v for k, v in manifest.items()
           if k not in ("audit", "threshold", "diagnosis", "importance", "fairness")}
    old["evaluation"] = copy.deepcopy(old["evaluation"])
    old["evaluation"]["cross_validation"]["residuals"].pop("sample")
    html = build_report(old, leaderboard=pd.read_csv(model_dirs / "regression" / "leaderboard.csv"))
    assert html.count("is not available for this model.") == 4  # audit, diagnosis, importance, fairness
    assert "The leaderboard is not available" in build_report(old)
    assert "residuals" not in charts_in(html)
    for fmt in ("html", "md", "json"):
        text = build_report({"target": "y", "task": {"kind": "binary"}}, fmt)
        assert "not available for this model" in text
    assert all(f'<section id="{s}">' in build_report({}) for s in SECTION_IDS)


def test_write_report_is_atomic_and_defaults_into_the_model_directory(model_dirs, tmp_path):
    paths = write_report(model_dirs / "multiclass")
    assert paths == [model_dirs / "multiclass" / "report.html"]
    assert mlexpert.load(model_dirs / "multiclass").manifest["target"] == "species"  # still loads
    paths = write_report(model_dirs / "multiclass", tmp_path / "r.html", format="all")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md"]
    with pytest.raises(InvalidParameterError, match="'format' parameter must be one of"):
        write_report(model_dirs / "multiclass", format="pdf")
    with pytest.raises(InvalidParameterError, match="needs an output path"):
        write_report({"target": "y"})
    with pytest.raises(ArtifactError, match="not an mlexpert model directory"):
        write_report(tmp_path)


def test_cli_writes_every_format_and_fails_in_one_line(model_dirs, tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "mlexpert", "report", *map(str, a)],  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    proc = run(model_dirs / "binary", "--out", tmp_path / "churn.html", "--format", "all")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn.html", "churn.json", "churn.md"]
    assert "Wrote" in proc.stdout
    proc = run(tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "not an mlexpert model" in lines[0]


# ---------------------------------------------------------------- assess: chart data

def test_assess_records_downsampled_curves_and_a_residual_sample():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    p1 = np.clip(0.3 * y + rng.random(3000) * 0.7, 0, 1)
    curves = assess(y, np.c_[1 - p1, p1], ("no", "yes"), n_bootstrap=0)["curves"]
    roc, pr = curves["roc"], curves["pr"]
    assert 10 < len(roc["fpr"]) == len(roc["tpr"]) <= MAX_CURVE_POINTS
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    assert len(pr["recall"]) == len(pr["precision"]) == len(pr["threshold"]) <= MAX_CURVE_POINTS
    assert pr["threshold"][-1] is None and pr["recall"][-1] == 0
    y3 = rng.integers(0, 3, 600)
    p3 = rng.dirichlet(np.ones(3), 600)
    ovr = assess(y3, p3, ("a", "b", "c"), n_bootstrap=0)["curves"]["one_vs_rest"]
    assert set(ovr) == {"a", "b", "c"} and set(ovr["a"]) == {"roc", "pr"}
    truth = rng.normal(size=2000)
    first = assess(truth, truth + rng.normal(size=2000), n_bootstrap=0)["residuals"]["sample"]
    again = assess(truth, truth + rng.normal(size=2000) * 0, n_bootstrap=0)["residuals"]["sample"]
    assert len(first["predicted"]) == len(first["actual"]) == MAX_RESIDUAL_SAMPLE
    assert first["actual"] == again["actual"]  # the same seeded rows
