"""The report as a person sees it: a real dataset's model, rendered in headless Chromium."""

from __future__ import annotations

import re

import pytest

import mlexpert

from .browser import open_page, render_page
from .conftest import load_shared

SECTIONS = ["summary", "audit", "leaderboard", "metrics", "diagnosis", "importance", "fairness",
            "model-card", "budget"]
CHARTS = ["confusion-matrix", "roc", "pr", "calibration", "learning-curve",
          "permutation-importance", "shap-importance", "partial-dependence", "fairness-groups"]


@pytest.fixture(scope="module")
def credit_report(tmp_path_factory):
    df = load_shared("credit_g").sample(frac=1.0, random_state=0)
    train, test = df.iloc[:800], df.iloc[800:]
    out = tmp_path_factory.mktemp("models") / "credit"
    # max_trials ends the search early; the review may then take 10% of the budget (6 s)
    result = mlexpert.fit(train, target="class", time_limit=60, families=("lightgbm", "linear"),
                          max_trials=6, test=test, sensitive=("age", "personal_status"),
                          optimize_threshold="f1", out=out, seed=0)
    return result, out / "report.html"


def test_report_opens_in_chromium_with_every_section_and_chart(credit_report, tmp_path):
    result, html = credit_report
    selectors = [f'figure.chart[data-chart="{name}"]' for name in CHARTS] + ["figure.chart svg"]
    page = render_page(html, tmp_path / "report.png", selectors=selectors)
    assert page.console_errors == [] and page.external_requests == []
    assert [s for s in page.section_ids if s] == SECTIONS
    for name in CHARTS:
        assert page.counts[f'figure.chart[data-chart="{name}"]'] >= 1, name
    assert page.counts["figure.chart svg"] >= len(CHARTS)
    assert "not available for this model" not in page.text
    assert page.screenshot.stat().st_size > 200_000


def test_summary_reads_in_plain_words(credit_report, tmp_path):
    result, html = credit_report
    with open_page(html) as watch:
        summary = watch.page.inner_text("section#summary")
        assert watch.console_errors == []
    assert re.search(r'predicts whether class is "(good|bad)" or "(good|bad)"', summary)
    assert re.search(r"learned from 800 examples", summary)
    assert re.search(r"about \d+ really are", summary) and "of every 100" in summary
    drivers = [f["feature"] for f in result.manifest["importance"]["permutation"]["features"][:3]]
    assert drivers[0] in summary
    for jargon in ("roc_auc", "log_loss", "out-of-fold", "SHAP"):
        assert jargon not in summary
