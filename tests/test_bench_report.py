"""benchmarks/report.py: head-to-head counts and the per-dataset memory and speed targets."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def report():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_report", BENCH / "report.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def _cell(value, peak=None, rate=None, higher=True, status="ok"):
    return {"status": status, "task": "binary", "peak_rss_mb": peak, "predict_rows_per_s": rate,
            "primary": {"name": "roc_auc", "value": value, "greater_is_better": higher},
            "fit_budget_ratio": 0.9}


def test_resources_count_memory_and_speed_only_where_the_score_is_as_good(report):
    main = {"a": _cell(0.90, 500, 9000), "b": _cell(0.80, 900, 9000), "c": _cell(0.7, 600, 100),
            "d": _cell(0.99, 700, 50_000), "e": _cell(0.5, 100, 1, status="error")}
    other = {"a": _cell(0.90, 600, 1000), "b": _cell(0.85, 400, 1000), "c": _cell(0.6, 650, 100),
             "d": _cell(0.98, 650, 20_000), "e": _cell(0.6, 300, 1)}
    r = report.resources_vs(main, other)
    assert (r["memory_compared"], r["memory_at_or_below"]) == (4, 2)  # e failed: not compared
    assert [ds for ds, _, _ in r["memory_above"]] == ["b", "d"]  # largest excess first
    assert r["as_good"] == 3 and r["fast"] == 1 and r["slow"] == ["c", "d"]  # a tie counts
    lines = report.resource_lines("mlexpert", "ag", r)
    assert "**2/4**" in lines[0] and "b 900 vs 400 MB" in lines[0]
    assert "**1/3**" in lines[1] and "not on: c, d" in lines[1]


def test_budget_block_reports_head_to_head_share_and_resource_lines(report):
    by_framework = {
        "mlexpert": {"a": _cell(0.9, 500, 9000), "b": _cell(0.8, 500, 9000)},
        "baseline": {"a": _cell(0.7, 300, 90_000), "b": _cell(0.7, 300, 90_000)},
        "autogluon_best": {"a": _cell(0.9, 600, 1000), "b": _cell(0.85, 600, 1000)},
    }
    text = report.budget_block("60", by_framework, "mlexpert", "baseline")
    assert "**mlexpert vs autogluon_best**: 0 wins / 1 ties / 1 losses" in text
    assert "wins + half the ties: 25%" in text
    assert "peak memory at or below autogluon_best's on **2/2**" in text
    assert "peak memory at or below baseline" not in text  # the baseline has no such target
