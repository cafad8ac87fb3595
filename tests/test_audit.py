"""The data audit: planted leaks and IDs are found, clean real data is not flagged, skew and
duplicates are measured, and fit acts on critical leaks."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mlexpert
from mlexpert.audit import audit
from mlexpert.cli import app

from .conftest import DATASETS, load_shared


@pytest.fixture(scope="module")
def titanic():
    return load_shared("titanic")


def _planted(df: pd.DataFrame, target: str, positive) -> pd.DataFrame:
    """Add a noisy copy of the target, two post-outcome dates and a shuffled record ID."""
    rng = np.random.default_rng(0)
    out = df.copy()
    y = (out[target] == positive).to_numpy()
    out["risk_score"] = y + rng.normal(0, 0.2, len(out))
    base = pd.Timestamp("2024-01-01")
    closed = base + pd.to_timedelta(rng.integers(0, 365, len(out)), unit="D")
    out["closed_at"] = pd.Series(closed).where(y).dt.strftime("%Y-%m-%d")
    days = np.where(y, rng.integers(200, 400, len(out)), rng.integers(0, 180, len(out)))
    out["last_update"] = (base + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    out["record_id"] = rng.permutation(len(out)) + 10_000
    return out


def _leaks(report) -> dict:
    return {f.columns[0]: f for f in report.by_check("target_leakage")}


def test_clean_titanic_has_no_leak_and_names_its_id(titanic):
    report = audit(titanic, target="Survived")
    assert report.by_check("target_leakage") == []
    assert [f.columns for f in report.by_check("identifier")] == [("PassengerId",)]
    cabin = [f for f in report.by_check("missing_values") if f.columns == ("Cabin",)][0]
    assert cabin.severity == "warning" and cabin.evidence["missing_rows"] == 687


def test_planted_leaks_and_id_are_found(titanic):
    report = audit(_planted(titanic, "Survived", 1), target="Survived")
    leaks = _leaks(report)
    assert leaks["risk_score"].severity == "critical"
    assert leaks["risk_score"].evidence["score"] > 0.99
    assert leaks["closed_at"].severity == "critical"
    assert "filled in at all" in leaks["closed_at"].message
    assert leaks["closed_at"].evidence["missingness_score"] == pytest.approx(1.0)
    assert leaks["last_update"].severity == "critical" and "after the outcome" in leaks["last_update"].message
    assert set(leaks) == {"risk_score", "closed_at", "last_update"}
    assert ("record_id",) in [f.columns for f in report.by_check("identifier")]
    assert sorted(report.leaking_columns()) == ["closed_at", "last_update", "risk_score"]


def test_regression_near_copy_of_the_target_is_found():
    df = load_shared("auto_mpg").dropna(subset=["mpg"])
    rng = np.random.default_rng(1)
    df["km_per_litre"] = df["mpg"] * 0.425 + rng.normal(0, 0.02 * df["mpg"].std(), len(df))
    report = audit(df, target="mpg")
    leaks = _leaks(report)
    assert set(leaks) == {"km_per_litre"} and leaks["km_per_litre"].severity == "critical"
    assert leaks["km_per_litre"].evidence["metric"] == "r2"


def test_no_critical_leak_anywhere_in_the_shared_corpus(manifest):
    flagged = {}
    for entry in manifest:
        if entry["task"] not in ("binary", "multiclass", "regression"):
            continue
        df = pd.read_parquet(DATASETS / entry["file"])
        report = audit(df, target=entry["target"], task=entry["task"], time_limit=20)
        flagged.update({(entry["name"], c): f.evidence["score"]
                        for c, f in _leaks(report).items() if f.severity == "critical"})
    assert flagged == {}


def test_duplicates_and_conflicting_labels_are_counted():
    df = pd.DataFrame({"a": [1, 1, 2, 3, 4, 5] * 5, "b": list("xxyzzw") * 5,
                       "y": [0, 1, 0, 1, 0, 1] * 5})
    report = audit(df, target="y")
    dup = report.by_check("duplicate_rows")[0]
    assert dup.evidence["duplicate_rows"] == 30 - 6  # six distinct full rows
    conflict = report.by_check("conflicting_duplicates")[0]
    assert conflict.evidence["groups"] == 1 and conflict.evidence["rows"] == 10  # (1, x): 0 and 1


def test_class_imbalance_is_a_warning_from_ten_to_one():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=1100), "y": ["a"] * 1000 + ["b"] * 100})
    finding = audit(df, target="y").by_check("class_imbalance")[0]
    assert finding.severity == "warning" and finding.evidence["imbalance_ratio"] == 10.0
    balanced = pd.DataFrame({"x": rng.normal(size=1000), "y": list("abcd") * 250})
    assert audit(balanced, target="y").by_check("class_imbalance") == []


def test_train_serve_skew_shared_rows_and_missing_columns(titanic):
    train, new = titanic.iloc[:600], titanic.iloc[600:].copy()
    new["Fare"] = new["Fare"] * 3 + 50
    new["Embarked"] = np.where(np.arange(len(new)) % 2 == 0, "Z", new["Embarked"])
    new = pd.concat([new, titanic.iloc[:100]]).drop(columns=["Cabin"])  # 100 training rows again
    report = audit(train, target="Survived", test=new)
    skew = {f.columns[0]: f for f in report.by_check("train_serve_skew")}
    assert skew["Fare"].severity == "warning" and skew["Fare"].evidence["psi"] > 0.25
    assert skew["Embarked"].evidence["unseen_share"] == pytest.approx(146 / 391, abs=0.01)
    assert "Age" not in skew  # same distribution: not flagged
    shared = report.by_check("shared_rows")[0]
    assert shared.evidence["shared_rows"] == 100
    assert report.by_check("missing_columns")[0].columns == ("Cabin",)


def test_fit_drops_critical_leaks_unless_kept(titanic):
    df = _planted(titanic, "Survived", 1).drop(columns=["closed_at", "last_update"])
    result = mlexpert.fit(df, target="Survived", time_limit=30, max_trials=1, n_jobs=1,
                          families=("lightgbm",))
    schema = result.pipeline.schema
    assert schema.kind_of("risk_score") == "leakage" and "risk_score" not in schema.features
    assert any("risk_score" in n and "Dropped from training" in n for n in result.notices)
    assert result.manifest["audit"]["counts"]["critical"] == 1
    assert result.manifest["cv_score"] < 0.95  # the model did not use the leak
    kept = mlexpert.fit(df, target="Survived", time_limit=30, max_trials=1, n_jobs=1,
                        families=("lightgbm",), keep=("risk_score",))
    assert "risk_score" in kept.pipeline.schema.features
    assert kept.manifest["cv_score"] > 0.99


def test_cli_audit_writes_json_and_fails_on_request(titanic, tmp_path):
    data = tmp_path / "leaky.csv"
    _planted(titanic, "Survived", 1).to_csv(data, index=False)
    out = tmp_path / "audit.json"
    res = CliRunner().invoke(app, ["audit", str(data), "--target", "Survived", "--json", str(out),
                                   "--fail-on", "critical", "--markdown", str(tmp_path / "a.md")])
    assert res.exit_code == 1, res.output
    assert "target_leakage" in res.output and "critical" in res.output
    saved = json.loads(out.read_text())
    assert saved["counts"]["critical"] == 3
    assert "**critical** `target_leakage` (risk_score)" in (tmp_path / "a.md").read_text()
    ok = CliRunner().invoke(app, ["audit", str(data), "--target", "Survived"])
    assert ok.exit_code == 0
    bad = CliRunner().invoke(app, ["audit", str(data), "--target", "Survived", "--fail-on", "x"])
    assert bad.exit_code == 2 and "--fail-on" in bad.output
    missing = CliRunner().invoke(app, ["audit", str(tmp_path / "nope.csv"), "--target", "y"])
    assert missing.exit_code == 3


def test_fit_keeps_columns_when_most_of_them_look_like_leaks():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    df = pd.DataFrame({"a": y * 10 + rng.normal(0, 0.1, 200), "b": y * -5 + rng.normal(0, 0.1, 200),
                       "c": rng.normal(size=200), "y": y})
    result = mlexpert.fit(df, target="y", time_limit=20, max_trials=1, n_jobs=1, families=("linear",))
    assert result.pipeline.schema.features == ["a", "b", "c"]
    assert any("easy (or deterministic) problem" in n for n in result.notices)
    assert result.manifest["audit"]["counts"]["critical"] == 2


def test_rows_without_a_target_are_counted():
    df = pd.DataFrame({"x": np.arange(100.0) % 7, "y": ["a", "b"] * 50})
    df.loc[:4, "y"] = None
    report = audit(df, target="y")
    assert report.by_check("missing_target")[0].evidence == {"rows": 5}
    assert report.n_rows == 100
