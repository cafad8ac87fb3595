"""ONNX export: the exported graph reproduces the Python model within 1e-5.

Real (short) fits on examples/churn.csv; held-out rows get missing numbers and dates,
missing and unseen categories. Fits are shared per module to keep the file fast.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest

import mlexpert
from mlexpert.data.schema import FEATURE_KINDS
from mlexpert.data.validate import prepare_prediction_table, prepare_training_table
from mlexpert.exceptions import MissingDependencyError
from mlexpert.features.table import TablePreprocessor
from mlexpert.models._base import FitContext
from mlexpert.models.mlp import MLPFamily
from mlexpert.predictor import FittedPipeline, Member
from mlexpert.result import FitResult

from .conftest import EXAMPLE, load_shared

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from mlexpert.export import ExportError, ExportMismatchError, export_onnx, onnx_feed  # noqa: E402
from mlexpert.export.assemble import build_model  # noqa: E402
from mlexpert.export.support import restrict  # noqa: E402

PRICE = "monthly price (€)"  # a column name with spaces and non-ASCII characters
# fold models (refit=False) fit fastest, and test the averaging over per-fold preprocessors
FAST = dict(time_limit=8, max_trials=1, review=False, n_folds=2, n_jobs=2, seed=0, refit=False)
TOL = 1e-5


def _messy(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` plus a copy with missing numbers, dates and categories, and unseen values."""
    rng = np.random.default_rng(1)
    copy = rows.copy()
    for col in ("plan", "contract", "city", "last_note", "paperless_billing"):
        copy.loc[rng.random(len(copy)) < 0.15, col] = None
        copy.loc[rng.random(len(copy)) < 0.15, col] = "never seen"
    copy.loc[copy["paperless_billing"] == "never seen", "paperless_billing"] = "YES"
    for col in ("tenure_months", PRICE, "support_calls", "signup_date"):
        copy.loc[rng.random(len(copy)) < 0.15, col] = np.nan
    return pd.concat([rows, copy], ignore_index=True)


@pytest.fixture(scope="module")
def churn():
    df = pd.read_csv(EXAMPLE).rename(columns={"monthly_price": PRICE})
    test = df.sample(frac=0.2, random_state=0)
    train = df.drop(index=test.index).sample(1000, random_state=0)
    return train.reset_index(drop=True), _messy(test.reset_index(drop=True))


def _fit(train, target, family, **kw):
    return mlexpert.fit(train, target=target, families=(family,), **{**FAST, **kw})


def _with_mlp(base: FitResult, train: pd.DataFrame, **params) -> FitResult:
    """``base`` with its member replaced by an MLP trained for a few epochs on all rows.

    (A search trains the network until its deadline; a fixed epoch count keeps this fast
    and the architecture chosen: periodic embeddings or batch normalisation.)
    """
    p, target = base.pipeline, base.manifest["target"]
    train = prepare_training_table(train, target)
    X, y = prepare_prediction_table(train, p.schema), p.task.encode(train[target])
    pp = TablePreprocessor(columns={k: p.schema.names(k) for k in FEATURE_KINDS},
                           profile="embedding", task=p.task.kind).fit(X, y)
    ctx = FitContext(task=p.task.kind, n_classes=p.task.n_classes, n_threads=2, seed=0,
                     deadline=time.monotonic() + 120)
    model = MLPFamily().fit(pp.transform(X), y, {"epochs": 6, "width": 64, **params}, ctx)
    member = Member("mlp#1", "mlp", 1.0, [model], refit=True)
    pipeline = FittedPipeline(p.schema, p.task, p.metric, {}, [member],
                              full_preprocessors={"embedding": pp})
    return FitResult(pipeline, base.leaderboard, dict(base.manifest))


@pytest.fixture(scope="module")
def binary(churn):
    train, _ = churn
    fits = {f: _fit(train, "churned", f) for f in ("xgboost", "random_forest", "knn")}
    fits["lightgbm"] = _fit(train, "churned", "lightgbm", optimize_threshold="f1")
    fits["linear"] = _fit(train, "churned", "linear", refit=True)  # one model on all rows
    from mlexpert.models import mlp

    with patch.object(mlp, "PERIODIC_WIDTH", 40):  # as on a wide table: embeddings below 16
        fits["mlp"] = _with_mlp(fits["linear"], train, periodic=True, batchnorm=False)
    assert fits["mlp"].pipeline.members[0].models[0]["arch"]["periodic_dim"] < mlp.PERIODIC_DIM
    return fits


@pytest.fixture(scope="module")
def regression(churn):
    train, _ = churn
    fits = {f: _fit(train, PRICE, f) for f in ("lightgbm", "xgboost", "linear", "extra_trees", "knn")}
    fits["mlp"] = _with_mlp(fits["linear"], train, periodic=False, batchnorm=True)
    return fits


@pytest.fixture(scope="module")
def multiclass(churn):
    train, _ = churn
    return {f: _fit(train, "contract", f) for f in ("lightgbm", "xgboost", "random_forest", "linear")}


@pytest.fixture(scope="module")
def catboost(churn):
    return _fit(churn[0], "churned", "catboost")


def _ensemble(first: FitResult, second: FitResult, weight: float = 0.6) -> FitResult:
    """A two-member ensemble of two fits on the same rows (each keeps its preprocessor)."""
    a, b = first.pipeline, second.pipeline
    members = [replace(a.members[0], weight=weight), replace(b.members[0], weight=1 - weight)]
    pipeline = FittedPipeline(a.schema, a.task, a.metric, {**a.preprocessors, **b.preprocessors},
                              members, info=dict(a.info),
                              full_preprocessors={**a.full_preprocessors, **b.full_preprocessors},
                              threshold=a.threshold)
    board = pd.concat([first.leaderboard, second.leaderboard[second.leaderboard["model"] != "ensemble"]])
    return FitResult(pipeline, board.reset_index(drop=True), dict(first.manifest))


def _onnx_outputs(path, result: FitResult, rows: pd.DataFrame) -> dict:
    """Run the written file with a fresh onnxruntime session (independent of the report)."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, onnx_feed(rows, result.pipeline.schema))))


def _assert_matches(result: FitResult, rows: pd.DataFrame, tmp_path, **kw):
    path = tmp_path / "model.onnx"
    report = export_onnx(result, path, data=rows, measure=False, **kw)
    assert report.check.passed and path.exists()
    got = _onnx_outputs(path, result, rows)
    pipeline = result.pipeline  # or, after a fallback, the subset that was exported
    if report.left_out:
        pipeline = restrict(pipeline, list(report.members))
    expected = pipeline.predict_output(rows)
    if pipeline.task.is_classification:
        assert np.abs(got["probabilities"] - expected).max() <= TOL
        assert list(got["label"].astype(str)) == list(pipeline.predict(rows).astype(str))
    else:
        scale = np.maximum(np.abs(expected), np.abs(expected).mean())
        assert (np.abs(got["value"] - expected) / scale).max() <= TOL
    return report


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "linear", "random_forest", "knn", "mlp"])
def test_binary_family_matches_python(binary, churn, family, tmp_path):
    _assert_matches(binary[family], churn[1], tmp_path)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "linear", "extra_trees", "knn", "mlp"])
def test_regression_family_matches_python(regression, churn, family, tmp_path):
    _assert_matches(regression[family], churn[1], tmp_path)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "random_forest", "linear"])
def test_multiclass_family_matches_python(multiclass, churn, family, tmp_path):
    result = multiclass[family]
    assert result.pipeline.task.n_classes == 3
    _assert_matches(result, churn[1], tmp_path)


def test_multiclass_fold_ensemble_scores_alike(multiclass, churn, tmp_path):
    result = _ensemble(multiclass["lightgbm"], multiclass["linear"], weight=0.5)
    assert all(len(m.models) == 2 for m in result.pipeline.members)  # fold models, averaged
    report = _assert_matches(result, churn[1], tmp_path)
    assert report.scores["metric"] == "log_loss"
    assert report.scores["onnx"] == pytest.approx(report.scores["python"], abs=1e-6)


def test_two_member_ensemble_with_threshold(binary, churn, tmp_path):
    result = _ensemble(binary["lightgbm"], binary["linear"])
    assert result.pipeline.threshold is not None
    report = _assert_matches(result, churn[1], tmp_path)
    assert report.members == {m.name: m.weight for m in result.pipeline.members}
    proba = result.pipeline.predict_output(churn[1])[:, 1]
    between = (proba >= result.pipeline.threshold) != (proba > 0.5)
    assert between.any()  # rows where the threshold, not the argmax, decides: labels agreed


def test_graph_has_one_typed_input_per_column(binary):
    pipeline = binary["lightgbm"].pipeline
    model = build_model(pipeline, target="churned")
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert list(types) == pipeline.schema.features and PRICE in types
    assert {types[c] for c in ("tenure_months", PRICE, "paperless_billing", "signup_date")} == {11}
    assert {types[c] for c in ("plan", "contract", "city")} == {8}  # string
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["missing_string"] == "__missing__" and float(meta["threshold"]) > 0


def test_catboost_on_numbers_matches_python(churn, tmp_path):
    train, test = churn
    numbers = ["tenure_months", PRICE, "support_calls", "signup_date", "churned"]
    result = _fit(train[numbers], "churned", "catboost")
    _assert_matches(result, test[numbers], tmp_path)


def test_unexportable_member_is_named_and_fallbacks_work(binary, catboost, churn, tmp_path):
    result = _ensemble(catboost, binary["lightgbm"], weight=0.7)
    with pytest.raises(ExportError, match=r"1 of 2 ensemble members cannot be exported \(catboost#1: "
                       r"CatBoost turns categorical columns .*--fallback members .*--fallback best "
                       r"for lightgbm#1 alone \(cross-validated roc_auc"):
        export_onnx(result, tmp_path / "m.onnx", data=churn[1])
    assert not (tmp_path / "m.onnx").exists()
    for fallback in ("members", "best"):
        report = _assert_matches(result, churn[1], tmp_path, fallback=fallback)
        assert report.members == {"lightgbm#1": 1.0}
        assert "catboost#1" in report.left_out and report.notices


def test_catboost_alone_with_categories_cannot_be_exported(catboost, tmp_path):
    with pytest.raises(ExportError, match="No member of this model can be exported.*--families"):
        export_onnx(catboost, tmp_path / "m.onnx", fallback="best")


def test_text_column_is_named(churn, tmp_path):
    result = _fit(churn[0], "churned", "linear", text=("last_note",))
    with pytest.raises(ExportError, match=r"column\(s\) 'last_note' are free text.*--ignore last_note"):
        export_onnx(result, tmp_path / "m.onnx")


def test_mismatch_names_the_member_and_writes_nothing(binary, churn, tmp_path):
    with pytest.raises(ExportMismatchError, match=r"xgboost#1: its ONNX outputs differ .*nothing was"
                       r"|nothing was written.* xgboost#1: its ONNX outputs differ"):
        export_onnx(binary["xgboost"], tmp_path / "m.onnx", data=churn[1], tolerance=1e-15)
    assert list(tmp_path.iterdir()) == []  # no model, no temporary file


def test_default_path_synthetic_check_and_timing(binary, tmp_path):
    directory = binary["linear"].save(tmp_path / "model", report=False)
    report = export_onnx(directory)
    assert report.path == directory / "model.onnx" and report.path.stat().st_size == report.size_bytes
    assert "synthetic rows (no --data given" in report.checked_on and report.check.passed
    t = report.timing
    assert t.onnx_row_ms > 0 and t.python_batch_ms > 0 and t.batch_rows == 1000


def test_cli_reports_checks_and_errors(binary, catboost, churn, tmp_path):
    import typer
    from typer.testing import CliRunner

    from mlexpert.cli.export import export_command

    app = typer.Typer()
    app.command("export")(export_command)
    app.command("other")(lambda: None)
    data = tmp_path / "test.csv"
    churn[1].to_csv(data, index=False)
    model = binary["lightgbm"].save(tmp_path / "lgb", report=False)
    out = tmp_path / "x.onnx"
    result = CliRunner().invoke(app, ["export", str(model), "--data", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Checked on 800 rows of test.csv" in result.output and (tmp_path / "x.onnx").exists()
    assert "roc_auc on 800 labelled rows" in result.output
    bad = CliRunner().invoke(app, ["export", str(model), "--format", "tflite"])
    assert bad.exit_code == 2 and "must be 'onnx'" in bad.output
    cat = catboost.save(tmp_path / "cat", report=False)
    refused = CliRunner().invoke(app, ["export", str(cat)])
    assert refused.exit_code == 7 and "No member of this model can be exported" in refused.output


def test_missing_onnx_names_the_extra(binary, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"mlexpert\[onnx\]"):
        export_onnx(binary["linear"], tmp_path / "m.onnx")


def test_shared_penguins_folds_match(tmp_path):
    df = load_shared("penguins")
    test = df.sample(frac=0.2, random_state=0)
    result = mlexpert.fit(df.drop(index=test.index), target="species", families=("xgboost",), **FAST)
    _assert_matches(result, test, tmp_path)


def test_lightgbm_zero_as_missing_and_categories_sets():
    lgb = pytest.importorskip("lightgbm")
    from mlexpert.export._graph import Graph, elem_type
    from mlexpert.export._lightgbm import convert
    from mlexpert.task import Task

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 3)).astype(np.float32)
    X[rng.random(1500) < 0.3, 0] = 0.0
    X[rng.random(1500) < 0.2, 1] = np.nan
    X[:, 2] = rng.integers(0, 8, 1500)
    y = (X[:, 0] == 0) + np.nan_to_num(X[:, 1]) + (X[:, 2] % 3 == 0)
    params = {"objective": "regression", "zero_as_missing": True, "verbosity": -1,
              "min_data_per_group": 5, "cat_smooth": 1}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[2]), 40)
    g = Graph()
    x = g.add_input("x", elem_type(g.onnx, "float"), [None, 3])
    g.add_output(convert(g, booster, x, Task("regression")), "y", elem_type(g.onnx, "double"), [None])
    sess = ort.InferenceSession(g.model("t").SerializeToString())
    T = rng.normal(size=(2000, 3)).astype(np.float32)
    T[rng.random(2000) < 0.3, 0] = 0.0
    T[rng.random(2000) < 0.2, 0] = np.nan
    T[:, 2] = rng.integers(-1, 10, 2000)
    T[rng.random(2000) < 0.1, 2] = np.nan
    T[:4, 0] = [1e-36, -1e-36, 1e-30, -0.0]
    assert np.abs(sess.run(None, {"x": T})[0] - booster.predict(T)).max() < 1e-12


def test_quantile_transform_and_calendar_parts_are_exact():
    from sklearn.preprocessing import QuantileTransformer

    from mlexpert.export._graph import Graph, elem_type
    from mlexpert.export._numeric import calendar_parts
    from mlexpert.export._quantile import quantile_normal
    from mlexpert.features.datetime import calendar_parts as python_parts

    rng = np.random.default_rng(0)
    train = np.column_stack([rng.normal(size=500), rng.integers(0, 3, 500), rng.exponential(size=500)])
    qt = QuantileTransformer(n_quantiles=100, output_distribution="normal").fit(train)
    test = np.vstack([train[:50], rng.normal(size=(200, 3)) * 3, [[-1e9, -1, 0], [1e9, 5, 100]]])
    stamps = np.array(["1969-12-31T23:59:59", "2000-02-29T12:34:56", "1900-03-01", "2024-12-31T23:59",
                       "NaT", "1970-01-01", "2100-01-01T00:00:01", "1700-07-04T06:07:08"],
                      dtype="datetime64[ns]")
    seconds = np.where(np.isnat(stamps), np.nan, stamps.astype("datetime64[s]").astype(np.int64))
    g = Graph()
    x = g.add_input("x", elem_type(g.onnx, "double"), [None, 3])
    s = g.add_input("s", elem_type(g.onnx, "double"), [None, 1])
    g.add_output(quantile_normal(g, qt, x), "q", elem_type(g.onnx, "double"), [None, 3])
    parts = calendar_parts(g, s)
    names = list(parts)
    g.add_output(g.concat([parts[p] for p in names]), "parts", elem_type(g.onnx, "double"), [None, 8])
    sess = ort.InferenceSession(g.model("t").SerializeToString())
    q, got = sess.run(None, {"x": test, "s": seconds.reshape(-1, 1)})
    assert np.abs(q - qt.transform(test)).max() < 1e-12
    expected = python_parts(stamps)
    np.testing.assert_array_equal(got, np.column_stack([expected[p] for p in names]))
