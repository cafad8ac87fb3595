"""End-to-end fits through the Python API on real data."""

import json
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import mlexpert
from mlexpert.exceptions import ArtifactError, DataError, IncompatibleArtifactError

from .conftest import load_shared

FAST = ("linear", "lightgbm")


def test_binary_fit_scores_well_and_round_trips(tmp_path):
    df = load_shared("credit_g")
    train, test = train_test_split(df, test_size=0.25, random_state=0, stratify=df["class"])
    result = mlexpert.fit(train, target="class", time_limit=25, families=FAST, n_jobs=1, seed=1)
    proba = result.predict_proba(test)
    assert list(proba.columns) == ["bad", "good"]
    auc = roc_auc_score(test["class"] == "good", proba["good"])
    assert auc > 0.74
    board = result.leaderboard
    assert board.iloc[0]["model"] == "ensemble"
    assert {"family", "score", "score_std", "fit_time_s", "predict_rows_per_s", "params"} <= set(board)
    path = result.save(tmp_path / "model")
    moved = tmp_path / "elsewhere" / "copy"
    moved.parent.mkdir()
    path.rename(moved)  # relocatable
    loaded = mlexpert.load(moved)
    np.testing.assert_allclose(loaded.predict_proba(test).to_numpy(), proba.to_numpy())
    assert loaded.manifest["task"]["classes"] == ["bad", "good"]
    assert len(loaded.manifest["data_fingerprint"]) == 32


def test_regression_with_text_dates_and_missing_values():
    df = load_shared("nyc_taxis")
    train, test = train_test_split(df, test_size=0.2, random_state=0)
    result = mlexpert.fit(train, target="tip", time_limit=20, families=FAST, n_jobs=1)
    pred = result.predict(test)
    rmse = float(np.sqrt(np.mean((pred - test["tip"].to_numpy()) ** 2)))
    baseline = float(np.std(test["tip"]))
    assert rmse < 0.8 * baseline
    assert result.manifest["cv_strategy"] == "5-fold"


def test_multiclass_unseen_categories_and_extra_columns():
    df = load_shared("penguins").dropna(subset=["species"])
    result = mlexpert.fit(df, target="species", time_limit=15, families=FAST, n_jobs=1)
    new = df.drop(columns=["species"]).head(5).copy()
    new["island"] = ["Atlantis"] * 5  # unseen category: handled silently
    new["extra"] = 1  # extra column: ignored
    proba = result.predict_proba(new)
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_same_seed_same_leaderboard_and_predictions():
    df = load_shared("pima_diabetes")
    runs = [mlexpert.fit(df, target="class", time_limit=60, families=FAST, max_trials=4,
                         n_jobs=1, seed=3) for _ in range(2)]
    a, b = (r.leaderboard for r in runs)
    assert a["params"].tolist() == b["params"].tolist()
    np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy())
    np.testing.assert_allclose(runs[0].predict_proba(df).to_numpy(), runs[1].predict_proba(df).to_numpy())


def test_fit_respects_the_time_budget():
    df = load_shared("phoneme")
    start = time.monotonic()
    result = mlexpert.fit(df, target="class", time_limit=12, n_jobs=1)
    elapsed = time.monotonic() - start
    assert elapsed < 12 * 1.1 + 5
    assert result.manifest["trials"]["ok"] >= 1


def test_tampered_and_truncated_models_are_refused(tmp_path):
    df = load_shared("pima_diabetes")
    result = mlexpert.fit(df, target="class", time_limit=5, families=("linear",), n_jobs=1)
    path = result.save(tmp_path / "m")
    with open(path / "model.pkl", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ArtifactError, match="Checksum mismatch for 'model.pkl'"):
        mlexpert.load(path)
    result.save(path)  # replacing an existing model directory is allowed
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="Checksum mismatch for 'manifest.json'"):
        mlexpert.load(path)
    lines = [ln for ln in (path / "checksums.sha256").read_text().splitlines() if "manifest" not in ln]
    (path / "checksums.sha256").write_text("\n".join(lines) + "\n")
    with pytest.raises(IncompatibleArtifactError, match="uses model format 99"):
        mlexpert.load(path)


def test_refuses_to_overwrite_a_foreign_directory(tmp_path):
    df = load_shared("pima_diabetes")
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(ArtifactError, match="is not an mlexpert model directory; refusing"):
        mlexpert.fit(df, target="class", time_limit=5, families=("linear",), out=tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_missing_prediction_columns_are_named():
    df = load_shared("pima_diabetes")
    result = mlexpert.fit(df, target="class", time_limit=5, families=("linear",), n_jobs=1)
    with pytest.raises(DataError, match="missing 2 required columns"):
        result.predict(df.drop(columns=["class", df.columns[0], df.columns[1]]))


def test_model_directory_is_readable_by_others_and_needs_its_libraries(tmp_path, monkeypatch):
    import os
    import stat

    from mlexpert.exceptions import MissingDependencyError
    from mlexpert.models.linear import LinearFamily

    df = load_shared("pima_diabetes")
    result = mlexpert.fit(df, target="class", time_limit=5, families=("linear",), n_jobs=1)
    old = os.umask(0o022)
    try:
        path = result.save(tmp_path / "m")  # e.g. mounted into a container as another user
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert stat.S_IMODE((path / "model.pkl").stat().st_mode) == 0o644
    monkeypatch.setattr(LinearFamily, "requires", ("mlexpert_absent_library",))
    with pytest.raises(MissingDependencyError, match=r"needs mlexpert_absent_library, which is "
                       r"not installed\. Install it with `pip install mlexpert_absent_library`"):
        mlexpert.load(path)
