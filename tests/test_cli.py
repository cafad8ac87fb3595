"""The command line as a user runs it: real processes, real files."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import mlexpert

from .conftest import EXAMPLE

EXE = [sys.executable, "-m", "mlexpert"]


def run(*args, cwd=None):
    proc = subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    code, stdout, stderr = run("fit", EXAMPLE, "--target", "churned", "--time", "20", "--out", out,
                               "--families", "linear,lightgbm", "--jobs", "1")
    assert code == 0, stderr
    assert "Leaderboard (roc_auc, out-of-fold)" in stdout
    assert "Saved model to" in stdout
    assert "'customer_id' is dropped: an identifier" in stderr
    return out


def test_fit_writes_a_complete_model_directory(model_dir):
    names = sorted(p.name for p in model_dir.iterdir())
    assert names == ["checksums.sha256", "leaderboard.csv", "manifest.json", "model.pkl",
                     "reference.json", "report.html", "report.json", "report.md", "schema.json"]
    board = pd.read_csv(model_dir / "leaderboard.csv")
    assert board.loc[0, "model"] == "ensemble" and board.loc[0, "score"] > 0.7


def test_predict_writes_labels_and_probabilities(model_dir, tmp_path):
    out = tmp_path / "preds.csv"
    code, stdout, stderr = run("predict", model_dir, EXAMPLE, "--keep", "customer_id", "--out", out)
    assert code == 0, stderr
    preds = pd.read_csv(out)
    assert list(preds.columns) == ["customer_id", "churned_predicted", "proba_no", "proba_yes"]
    assert len(preds) == 2000
    assert set(preds["churned_predicted"]) <= {"no", "yes"}
    truth = pd.read_csv(EXAMPLE)["churned"]
    assert (preds["churned_predicted"] == truth).mean() > 0.7


def test_predict_names_missing_columns(model_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.read_csv(EXAMPLE).drop(columns=["plan", "city"]).to_csv(bad, index=False)
    code, stdout, stderr = run("predict", model_dir, bad, "--out", tmp_path / "p.csv")
    assert code == 3
    assert "missing 2 required columns: 'plan', 'city'" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "p.csv").exists()


def _bad_inputs(tmp: Path):
    (tmp / "empty.csv").write_text("")
    (tmp / "corrupt.parquet").write_bytes(b"PAR1garbage")
    (tmp / "ok.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    (tmp / "one_class.csv").write_text("a,y\n1,0\n2,0\n3,0\n")
    (tmp / "inf.csv").write_text("a,y\n1,inf\n2,3\n3,4\n")
    (tmp / "dup.csv").write_text("a,a,y\n1,2,0\n3,4,1\n")
    (tmp / "nan_target.csv").write_text("a,y\n1,\n2,\n")
    return [
        (["fit", tmp / "missing.csv", "--target", "y"], "does not exist"),
        (["fit", tmp / "empty.csv", "--target", "y"], "empty"),
        (["fit", tmp / "corrupt.parquet", "--target", "y"], "is not a valid Parquet file"),
        (["fit", tmp / "ok.csv", "--target", "nope"], "Target column 'nope' is not in the data"),
        (["fit", tmp / "ok.csv", "--target", "Y"], "Did you mean 'y'?"),
        (["fit", tmp / "one_class.csv", "--target", "y", "--task", "binary"], "single class"),
        (["fit", tmp / "inf.csv", "--target", "y"], "infinite"),
        (["fit", tmp / "dup.csv", "--target", "y"], "appears 2 times"),
        (["fit", tmp / "nan_target.csv", "--target", "y"], "missing"),
        (["fit", tmp / "ok.csv", "--target", "y", "--time", "soon"], "must be a duration"),
        (["fit", tmp / "ok.csv", "--target", "y", "--metric", "rmse"], "does not apply to a binary task"),
        (["predict", tmp / "no_model", tmp / "ok.csv"], "Model directory"),
    ]


def test_bad_input_gets_one_line_error_and_nothing_written(tmp_path):
    failures = []
    for args, expected in _bad_inputs(tmp_path):
        out = tmp_path / "model_out"
        extra = ["--out", out, "--time", "5"] if args[0] == "fit" and "--time" not in args else []
        code, stdout, stderr = run(*args, *extra)
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        ok = (code != 0 and "Traceback" not in stderr and len(lines) == 1
              and lines[0].startswith("error:") and expected in stderr and not out.exists())
        if not ok:
            failures.append((args, code, stderr))
    assert not failures, failures


def test_help_reads_well():
    code, stdout, _ = run("fit", "--help")
    assert code == 0
    for flag in ("--target", "--time", "--out", "--sql", "--groups", "--time-column", "--seed", "--quiet"):
        assert flag in stdout


def test_explain_prints_and_saves_additive_row_explanations(tmp_path):
    out = tmp_path / "gbm"
    code, _, stderr = run("fit", EXAMPLE, "--target", "churned", "--time", "10", "--out", out,
                          "--families", "lightgbm", "--max-trials", "2", "--no-review", "-q")
    assert code == 0, stderr
    code, stdout, stderr = run("explain", out, EXAMPLE, "--rows", "3", "--top", "4",
                               "--json", tmp_path / "why.json")
    assert code == 0, stderr
    assert "Row 3: predicted" in stdout and "log-odds" in stdout
    rows = json.loads((tmp_path / "why.json").read_text())
    assert len(rows) == 3 and all(len(r["contributions"]) == 4 for r in rows)
    model = mlexpert.load(out)
    frame = pd.read_csv(EXAMPLE).head(3)
    proba = model.predict_proba(frame)
    for i, row in enumerate(rows):
        total = row["base"] + sum(c["contribution"] for c in row["contributions"]) + row["rest"]
        assert total == pytest.approx(row["margin"], abs=1e-6)
        assert row["prediction"] == model.predict(frame)[i]
        assert row["probability"] == pytest.approx(proba.loc[i, str(row["prediction"])])
        assert row["coverage"] == pytest.approx(1.0)
    code, _, stderr = run("explain", out, EXAMPLE, "--rows", "0")
    assert code != 0 and stderr.count("\n") == 1 and "--rows" in stderr
