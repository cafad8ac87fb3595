"""``mlexpert monitor``: the log reader, windows, performance and its bootstrap, the runner,
the report, the alert file and the command's exit codes, on a real SQLite store holding
the predictions of a real (tiny) model."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from sqlalchemy import insert
from typer.testing import CliRunner

import mlexpert
from mlexpert.cli.monitor import monitor_command
from mlexpert.evaluation.metrics import METRICS
from mlexpert.exceptions import ArtifactError, InvalidParameterError
from mlexpert.monitoring._bootstrap import resampled_scores
from mlexpert.monitoring._json import parse_records
from mlexpert.monitoring.alerts import ALERT_EXIT_CODE, exit_code
from mlexpert.monitoring.performance import bootstrap_ci, evaluate, model_output
from mlexpert.monitoring.reader import iter_log, labelled_log
from mlexpert.monitoring.report import write_monitor_report
from mlexpert.monitoring.runner import run_monitor
from mlexpert.monitoring.windows import iso, parse_time, parse_window
from mlexpert.store import feedback, forget_stores, open_store, prediction_log

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "churn.csv"
T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def churn_model(tmp_path_factory):
    """A registry-layout folder ``ROOT/churn/1`` holding a real model fitted in seconds."""
    df = pd.read_csv(EXAMPLE)
    root = tmp_path_factory.mktemp("models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mlexpert.fit(df, target="churned", time_limit=5, families=["lightgbm"],
                              review=False, out=root / "churn" / "1")
    assert (root / "churn" / "1" / "reference.json").exists()
    return root, result, df


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    forget_stores()


def make_root(churn_model, tmp_path: Path, name: str = "root") -> tuple[Path, object]:
    source, result, _ = churn_model
    root = tmp_path / name
    shutil.copytree(source, root)
    return root, open_store(f"sqlite:///{root / 'mlexpert.db'}")


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["monthly_price"] = out["monthly_price"] * 1.8
    out["plan"] = "premium"
    return out


def log_rows(store, result, frame: pd.DataFrame, *, start: int = 0, model: str = "churn",
             version: str = "1", shadow: bool = False, actual=None, proba=None, step_s: float = 60.0) -> None:
    """Log ``frame``'s predictions as the server does (one request per row), and the outcomes."""
    out = result.pipeline.predict_output(frame) if proba is None else proba
    labels = result.pipeline.decide(out)
    classes = [str(c) for c in result.pipeline.task.classes]
    records = frame.to_json(orient="records", lines=True).splitlines()
    rows, outcomes = [], []
    for i, record in enumerate(records):
        rid = f"r{start + i}"
        rows.append({"request_id": rid, "row": 0, "ts": T0 + (start + i) * step_s, "model": model,
                     "version": version, "latency_ms": 3.0 + i % 5, "inputs": record,
                     "prediction": json.dumps(labels[i].item() if hasattr(labels[i], "item") else labels[i]),
                     "probabilities": json.dumps(dict(zip(classes, out[i].tolist()))) if out.ndim == 2 else None,
                     "shadow": shadow, "source": "api"})
        if actual is not None and not shadow:
            outcomes.append({"request_id": rid, "row": 0, "actual": json.dumps(actual[i]),
                             "ts": T0 + (start + i) * step_s + 5, "source": "api"})
    with store.write() as conn:
        conn.execute(insert(prediction_log), rows)
        if outcomes:
            conn.execute(insert(feedback), outcomes)


@pytest.fixture
def drifted_root(churn_model, tmp_path):
    """1,000 ordinary predictions, then 1,000 on shifted inputs whose outcomes are noise."""
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path, "drifted")
    X, y = df.drop(columns=["churned"]).iloc[:1000], df["churned"].iloc[:1000].tolist()
    log_rows(store, result, X, actual=y)
    noise = pd.Series(y).sample(frac=1, random_state=0).tolist()
    log_rows(store, result, shifted(X), start=1000, actual=noise)
    return root


@pytest.fixture
def clean_root(churn_model, tmp_path):
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path, "clean")
    X, y = df.drop(columns=["churned"]), df["churned"].tolist()
    log_rows(store, result, X, actual=y)
    return root


def test_drift_and_decay_are_detected_and_named(drifted_root):
    result = run_monitor(drifted_root, window="auto")
    (entry,) = result["models"]
    assert entry["n"] == 2000 and entry["labelled"] == 2000 and len(entry["windows"]) == 10
    first, last = entry["windows"][0], entry["windows"][-1]
    assert first["drift"]["drifted"] == [] and first["performance"]["verdict"] == "ok"
    assert {"plan", "monthly_price"} <= set(last["drift"]["drifted"])
    assert last["performance"]["verdict"] == "decay"
    assert last["performance"]["ci_high"] < entry["cv_score"]
    kinds = {a["kind"]: a for a in result["summary"]["alerts"]}
    assert {"drift", "decay"} <= set(kinds)
    assert kinds["drift"]["windows"] == [5, 6, 7, 8, 9] and "monthly_price" in kinds["drift"]["detail"]
    assert result["summary"]["status"] == "alert"
    assert any("drifted" in line for line in result["summary"]["text"])
    json.dumps(result, allow_nan=False)  # strictly JSON-serialisable


def test_no_alert_on_an_unshifted_log(clean_root):
    result = run_monitor(clean_root, window="500")
    (entry,) = result["models"]
    assert [w["n"] for w in entry["windows"]] == [500] * 4
    assert result["summary"]["alerts"] == [] and result["summary"]["status"] == "ok"
    assert all(not w["drift"]["drifted"] for w in entry["windows"])
    assert entry["latency"]["p50_ms"] == pytest.approx(5.0)
    counts = entry["predictions"]["counts"]
    assert sum(counts.values()) == 2000 and set(counts) == {"no", "yes"}
    assert exit_code(result["summary"]["alerts"]) == 0


def test_chunked_streaming_gives_the_same_result(drifted_root):
    whole = run_monitor(drifted_root, window="1h", chunk_rows=100_000)
    chunked = run_monitor(drifted_root, window="1h", chunk_rows=137)
    for r in (whole, chunked):
        r.pop("elapsed_s"), r.pop("generated_at")
    assert_same(whole, chunked)
    assert len(whole["models"][0]["windows"]) == 34  # 2,000 minutes in hourly slices


def assert_same(a, b, path="result"):
    """Equal, floats up to summation order (sums over chunks add up in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


def test_selection_by_time_and_most_recent_rows(drifted_root):
    later = run_monitor(drifted_root, since=T0 + 1000 * 60, window="auto")
    assert later["selection"]["rows"] == 1000
    assert all(w["drift"]["drifted"] for w in later["models"][0]["windows"])
    recent = run_monitor(drifted_root, max_rows=300)
    assert recent["models"][0]["n"] == 300 and recent["models"][0]["first"] == iso(T0 + 1700 * 60)
    nothing = run_monitor(drifted_root, name="other")
    assert nothing["models"] == [] and nothing["summary"]["status"] == "no data"


def test_duration_windows_take_rows_by_their_time(churn_model, tmp_path):
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path)
    X = df.drop(columns=["churned"]).iloc[:300]
    log_rows(store, result, X, step_s=60)
    with store.write() as conn:  # an out-of-order row: logged last, timed in the first hour
        conn.execute(prediction_log.update().where(prediction_log.c.request_id == "r299")
                     .values(ts=T0 + 10))
    out = run_monitor(root, window="1h", chunk_rows=50)["models"][0]["windows"]
    expected = pd.Series(np.floor((T0 + np.r_[np.arange(299) * 60, 10]) / 3600)).value_counts().sort_index()
    assert [w["n"] for w in out] == expected.tolist()
    assert out[0]["start"] == iso(expected.index[0] * 3600) and out[0]["end"] == iso((expected.index[0] + 1) * 3600)


def test_report_files(drifted_root, tmp_path):
    result = run_monitor(drifted_root)
    paths = write_monitor_report(result, tmp_path / "out")
    saved = json.loads(paths["json"].read_text())
    assert saved["summary"]["alerts"] == result["summary"]["alerts"]
    html = paths["html"].read_text()
    assert html.count("<svg") == 4 and "Attention needed" in html and "monthly_price" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # self-contained


def test_cli_alert_file_and_exit_codes(drifted_root, clean_root, tmp_path):
    app = typer.Typer()
    app.command()(monitor_command)
    runner = CliRunner()
    alerts = tmp_path / "alerts.json"
    out = runner.invoke(app, [str(drifted_root), "--alert-file", str(alerts), "--window", "1000"])
    assert out.exit_code == ALERT_EXIT_CODE, out.output
    document = json.loads(alerts.read_text())
    assert document["exit_code"] == ALERT_EXIT_CODE and document["generated_at"]
    assert {a["kind"] for a in document["alerts"]} >= {"drift", "decay"}
    assert (drifted_root / "monitoring" / "monitor.html").exists()
    assert runner.invoke(app, [str(drifted_root), "--fail-on", "never"]).exit_code == 0
    result = runner.invoke(app, [str(clean_root), "--json", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and json.loads(result.output)["summary"]["status"] == "ok"
    bad = runner.invoke(app, [str(clean_root), "--window", "fortnight"])
    assert bad.exit_code == InvalidParameterError.exit_code and "--window" in bad.output
    missing = runner.invoke(app, [str(tmp_path / "nowhere")])
    assert missing.exit_code == ArtifactError.exit_code and "is not a folder" in missing.output


def test_labelled_log_joins_the_latest_feedback(churn_model, tmp_path):
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path)
    X = df.drop(columns=["churned"]).iloc[:50]
    log_rows(store, result, X, actual=["no"] * 50)
    with store.write() as conn:  # a correction for r3, and nothing for rows logged later
        conn.execute(insert(feedback), [{"request_id": "r3", "row": 0, "actual": '"yes"', "ts": T0, "source": "api"}])
    log_rows(store, result, X.iloc[:10], start=50)
    inputs, meta = labelled_log(store, "churn")
    assert len(meta) == 50 and meta["actual"].tolist()[3] == "yes"
    assert list(inputs["plan"]) == list(X["plan"]) and isinstance(meta["probabilities"].iloc[0], dict)
    inputs, meta = labelled_log(store, "churn", limit=7, chunk_rows=3)
    assert meta["request_id"].tolist() == [f"r{i}" for i in range(43, 50)]


def test_shadow_challenger_is_compared_with_the_champion(churn_model, tmp_path):
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path)
    shutil.copytree(root / "churn" / "1", root / "churn" / "2")
    X, y = df.drop(columns=["churned"]).iloc[:600], df["churned"].iloc[:600].tolist()
    log_rows(store, result, X, actual=y)
    guess = np.random.default_rng(0).dirichlet([1, 1], len(X))  # a challenger that guesses
    log_rows(store, result, X, version="2", shadow=True, proba=guess)
    out = run_monitor(root)
    (comparison,) = out["comparisons"]
    assert comparison["champion"] == "1" and comparison["challenger"] == "2" and comparison["n"] == 600
    assert comparison["verdict"] == "champion better" and comparison["ci_high"] < 0
    assert [m["shadow"] for m in out["models"]] == [False, True]
    assert all(a["version"] == "1" for a in out["summary"]["alerts"])


def test_windows_and_times():
    assert parse_window("auto").kind == "auto" and parse_window("5000").size == 5000
    assert parse_window("15m").size == 900 and parse_window("1d").size == 86400
    assert parse_time("2024-05-31T00:00:00Z") == pd.Timestamp("2024-05-31", tz="UTC").timestamp()
    assert parse_time("7d ago", now=1e9) == 1e9 - 7 * 86400 == parse_time("7d", now=1e9)
    for bad in ("0", "-5", "soon", "1y"):
        with pytest.raises(InvalidParameterError):
            parse_window(bad)
    with pytest.raises(InvalidParameterError, match="--since"):
        parse_time("yesterday-ish")


@pytest.mark.parametrize("k", [2, 3])
def test_vectorised_bootstrap_matches_scikit_learn(k):
    rng = np.random.default_rng(k)
    n = 300
    proba = rng.dirichlet(np.ones(k), n)
    if k == 2:
        proba = np.round(proba, 1)  # ties in the scores
    y = rng.integers(0, k, n)
    picks = np.vstack([np.arange(n), rng.integers(0, n, (4, n))])
    for name, metric in METRICS.items():
        if "binary" in metric.tasks:
            expected = [metric.score(y[i], proba[i]) for i in picks]
            assert resampled_scores(name, y, proba, picks) == pytest.approx(expected), name
    values, target = rng.normal(size=n), rng.normal(size=n) * 2
    for name in ("rmse", "mae", "r2", "mape"):
        expected = [METRICS[name].score(target[i], values[i]) for i in picks]
        assert resampled_scores(name, target, values, picks) == pytest.approx(expected), name


def test_performance_interval_and_verdicts():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000)
    good = np.column_stack([1 - (0.3 + 0.4 * y), 0.3 + 0.4 * y]) + rng.normal(0, 0.2, (4000, 1)) * [1, -1]
    good = np.clip(good, 0.01, 0.99)
    low, high = bootstrap_ci(METRICS["roc_auc"], y, good)
    value = METRICS["roc_auc"].score(y, good)
    assert low < value < high and high - low < 0.05
    assert evaluate("roc_auc", "binary", y, good, value)["verdict"] == "ok"
    assert evaluate("roc_auc", "binary", y, good, min(1.0, high + 0.1))["verdict"] == "decay"
    assert evaluate("roc_auc", "binary", y[:20], good[:20], 0.9)["verdict"] is None
    out = model_output(np.array(["b", "a", "zz"], dtype=object), None, "binary", ["a", "b"])
    assert out[:2].tolist() == [[0, 1], [1, 0]] and np.isnan(out[2]).all()


def test_record_parsing_paths_agree():
    frame = pd.DataFrame({"x": [1.5, None, 3.0, 4.25], "c": ["a", "b", None, "2024-01-01"],
                          "Odd name \"q\"": [1.0, 2.0, 3.0, 4.0]})
    texts = frame.to_json(orient="records", lines=True).splitlines()
    fields = {"x": "number", "c": "text", "Odd name \"q\"": "number"}
    fast = parse_records(texts, fields)
    lenient = parse_records(texts, None)
    for column in frame.columns:
        assert fast[column].tolist() == pytest.approx(lenient[column].tolist(), nan_ok=True) \
            if column != "c" else fast[column].fillna("-").tolist() == ["a", "b", "-", "2024-01-01"]
    mixed = parse_records(['{"x": 1}', '{"x": "seven"}', "not json"], None)
    assert len(mixed) == 3 and mixed["x"].tolist()[:2] == [1, "seven"]


def test_iter_log_pages_in_order(churn_model, tmp_path):
    _, result, df = churn_model
    root, store = make_root(churn_model, tmp_path)
    log_rows(store, result, df.drop(columns=["churned"]).iloc[:100])
    chunks = list(iter_log(store, model="churn", chunk_rows=30, with_actual=True))
    assert [len(c) for c in chunks] == [30, 30, 30, 10]
    ids = pd.concat([c.meta["id"] for c in chunks]).tolist()
    assert ids == sorted(ids) and len(set(ids)) == 100
    assert chunks[0].proba.shape == (30, 2) and chunks[0].meta["actual"].isna().all()


def test_postgresql_store_gives_the_same_result(churn_model, drifted_root, tmp_path, postgres_url):
    from tests.postgres import fresh_schema

    _, result, df = churn_model
    url = fresh_schema(postgres_url)
    store = open_store(url)
    X, y = df.drop(columns=["churned"]).iloc[:1000], df["churned"].iloc[:1000].tolist()
    log_rows(store, result, X, actual=y)
    log_rows(store, result, shifted(X), start=1000, actual=pd.Series(y).sample(frac=1, random_state=0).tolist())
    on_postgres = run_monitor(drifted_root, store_url=url, chunk_rows=300, window="1000")
    on_sqlite = run_monitor(drifted_root, chunk_rows=300, window="1000")
    for r in (on_postgres, on_sqlite):
        for key in ("elapsed_s", "generated_at", "store"):
            r.pop(key)
    assert_same(on_postgres, on_sqlite)
    inputs, meta = labelled_log(store, "churn", limit=10)
    assert meta["request_id"].tolist() == [f"r{i}" for i in range(1990, 2000)]
