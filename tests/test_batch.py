"""Batch scoring: chunked reading predicts exactly what reading the whole table does."""

import gzip
import io
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlexpert
from mlexpert.batch import iter_prediction_chunks, iter_table_chunks, predict_chunk, score_file
from mlexpert.data.ingest import read_table
from mlexpert.exceptions import DataError, InvalidParameterError
from mlexpert.io import predictions_frame, write_table

from .conftest import EXAMPLE

CHUNK = 500


def _fit(df, target, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mlexpert.fit(df, target=target, time_limit=10, families=("lightgbm",), max_trials=2,
                            review=False, n_jobs=1, **options)


@pytest.fixture(scope="module")
def churn_model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("batch") / "model"
    _fit(pd.read_csv(EXAMPLE), "churned").save(directory, report=False)
    return mlexpert.load(directory), directory


def _coded(n: int, seed: int) -> pd.DataFrame:
    """Codes that look like numbers ("007"), an int-coded category and a date."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "code": rng.choice(["007", "012", "033", "A1", "B2"], n),
        "zip": rng.choice([7, 12, 33, 45], n),
        "grade": rng.choice(["a", "b", "c"], n),
        "x": rng.normal(size=n).round(3),
        "when": pd.date_range("2020-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
    })
    effect = (df["code"].map({"007": 2, "012": -2, "033": 1, "A1": -1, "B2": 0})
              + df["zip"].map({7: 1.5, 12: -1.5, 33: 0.5, 45: -0.5})
              + df["grade"].map({"a": 1, "b": 0, "c": -1}) + df["x"])
    df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-2 * effect)), "pos", "neg")
    return df


@pytest.fixture(scope="module")
def coded_model():
    return _fit(_coded(3000, 0), "y", categorical=("zip",))


def _tricky_churn() -> pd.DataFrame:
    """Churn rows where chunk 2 has no value at all in a categorical and a numeric column."""
    df = pd.read_csv(EXAMPLE).drop(columns="churned")
    df.loc[CHUNK:2 * CHUNK - 1, ["contract", "monthly_price"]] = np.nan
    return df


def _write(df: pd.DataFrame, path) -> None:
    name = str(path)
    if name.endswith((".csv", ".csv.gz")):
        df.to_csv(path, index=False)
    elif name.endswith(".tsv"):
        df.to_csv(path, sep="\t", index=False)
    elif name.endswith(".parquet"):
        df.to_parquet(path, row_group_size=700)
    elif name.endswith(".jsonl"):
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_json(path, orient="records")


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.tsv", "in.parquet", "in.jsonl", "in.json"])
def test_chunks_predict_like_the_whole_table(churn_model, tmp_path, name):
    model, _ = churn_model
    source = tmp_path / name
    _write(_tricky_churn(), source)
    summary = score_file(model, source, tmp_path / "out.parquet", chunk_rows=CHUNK, keep=("customer_id",))
    assert (summary.rows, summary.chunks) == (2000, 4)
    whole = read_table(source)
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert list(got.columns) == ["customer_id", "churned_predicted", "proba_no", "proba_yes"]
    assert got["customer_id"].tolist() == whole["customer_id"].tolist()
    np.testing.assert_array_equal(got["churned_predicted"].to_numpy(), model.predict(whole))
    np.testing.assert_array_equal(got["proba_yes"].to_numpy(), model.predict_proba(whole)["yes"].to_numpy())


def test_csv_output_is_byte_identical_to_the_whole_table_path(churn_model, tmp_path):
    model, _ = churn_model
    source = tmp_path / "in.csv"
    _write(_tricky_churn(), source)
    old = predictions_frame(model, read_table(source), keep=("customer_id", "plan"))
    write_table(old, tmp_path / "old.csv")
    score_file(model, source, tmp_path / "new.csv", chunk_rows=CHUNK, keep=("customer_id", "plan"))
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
    score_file(model, source, tmp_path / "bare.csv", chunk_rows=CHUNK, proba=False)
    assert list(pd.read_csv(tmp_path / "bare.csv").columns) == ["churned_predicted"]


def _coded_scoring_rows() -> pd.DataFrame:
    """Chunk 2: grade and x empty; chunk 3: only number-like codes; chunk 4: a stray 'oops'."""
    df = _coded(4 * CHUNK, 1).drop(columns="y")
    df.loc[CHUNK:2 * CHUNK - 1, ["grade", "x"]] = np.nan
    df.loc[2 * CHUNK:3 * CHUNK - 1, "code"] = np.resize(["007", "012", "033"], CHUNK)
    df["x"] = df["x"].astype(object)
    df.loc[3 * CHUNK + 7, "x"] = "oops"
    return df


@pytest.mark.filterwarnings("ignore:Column 'x' should be numeric")
def test_text_columns_keep_their_training_spelling_chunk_by_chunk(coded_model, tmp_path):
    rows = _coded_scoring_rows()
    source = tmp_path / "coded.csv"
    rows.to_csv(source, index=False)
    raw = list(iter_table_chunks(source, chunk_rows=CHUNK))  # pandas alone reads 007 as 7 ...
    assert pd.api.types.is_integer_dtype(raw[2]["code"]) and raw[1]["grade"].isna().all()
    read = list(iter_table_chunks(source, chunk_rows=CHUNK, schema=coded_model.pipeline.schema))
    assert read[2]["code"].iloc[0] == "007"  # ... the schema says it was text
    score_file(coded_model, source, tmp_path / "out.parquet", chunk_rows=CHUNK)
    got = pd.read_parquet(tmp_path / "out.parquet")["y_predicted"].to_numpy()
    np.testing.assert_array_equal(got, coded_model.predict(read_table(source)))
    np.testing.assert_array_equal(got, coded_model.predict(rows))


@pytest.mark.filterwarnings("ignore:Column 'x' should be numeric")
def test_json_lines_may_omit_keys_in_whole_chunks(coded_model, tmp_path):
    rows = _coded_scoring_rows()
    records = [{k: v for k, v in r.items() if not pd.isna(v)} for r in rows.to_dict("records")]
    source = tmp_path / "sparse.jsonl"
    source.write_text("".join(pd.Series([r]).to_json(orient="records")[1:-1] + "\n" for r in records))
    chunks = list(iter_table_chunks(source, chunk_rows=CHUNK))
    assert "grade" not in chunks[1].columns
    score_file(coded_model, source, tmp_path / "out.csv", chunk_rows=CHUNK)
    got = pd.read_csv(tmp_path / "out.csv")["y_predicted"].to_numpy()
    np.testing.assert_array_equal(got, coded_model.predict(read_table(source)))


def test_int_coded_category_with_a_missing_value_is_read_as_in_training(coded_model, tmp_path):
    rows = _coded(4 * CHUNK, 2).drop(columns="y")
    rows["zip"] = rows["zip"].astype("Int64")
    rows.loc[CHUNK + 3, "zip"] = pd.NA
    source = tmp_path / "zip.parquet"  # as Spark writes it: no pandas metadata
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False).replace_schema_metadata(None),
                   source, row_group_size=CHUNK)
    raw = list(iter_table_chunks(source, chunk_rows=CHUNK))
    assert raw[1]["zip"].dtype == "float64"  # 7.0 would be an unseen "7.0"; training saw "7"
    score_file(coded_model, source, tmp_path / "out.parquet", chunk_rows=CHUNK)
    got = pd.read_parquet(tmp_path / "out.parquet")["y_predicted"].to_numpy()
    np.testing.assert_array_equal(got, coded_model.predict(rows))


def test_parquet_output_keeps_one_schema_across_chunks(churn_model, tmp_path):
    model, _ = churn_model
    df = pd.read_csv(EXAMPLE)
    df["row_id"] = pd.array(np.arange(len(df)), dtype="Int64")
    df.loc[CHUNK + 1, "row_id"] = pd.NA  # ints in chunk 1, floats in chunk 2
    df["note"] = np.where(df.index < CHUNK, None, "ok")  # no value at all in chunk 1, text later
    source = tmp_path / "in.csv"
    df.to_csv(source, index=False)
    out = tmp_path / "out.parquet"
    score_file(model, source, out, chunk_rows=CHUNK, keep=("row_id", "note"))
    meta = pq.ParquetFile(out)
    assert meta.metadata.num_row_groups == 4
    assert str(meta.schema_arrow.field("row_id").type) == "int64"
    assert str(meta.schema_arrow.field("note").type) == "string"
    got = pd.read_parquet(out)
    assert got["row_id"].isna().sum() == 1 and got["row_id"].sum() == df["row_id"].sum()
    assert got["note"].isna().sum() == CHUNK


def test_a_bad_chunk_leaves_no_output_file(churn_model, tmp_path):
    model, _ = churn_model
    lines = EXAMPLE.read_text().splitlines()
    lines[1500] += ",extra,fields"
    source = tmp_path / "broken.csv"
    source.write_text("\n".join(lines) + "\n")
    seen = []
    with pytest.raises(DataError, match="is not a well-formed CSV file"):
        score_file(model, source, tmp_path / "out.csv", chunk_rows=CHUNK, progress=seen.append)
    assert seen[-1].rows == 1000  # two chunks were written before the third failed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]

    df = pd.read_csv(EXAMPLE)
    df["ref"] = df["tenure_months"].astype(object)
    df.loc[1200, "ref"] = "not a number"  # numbers in chunk 1, text in chunk 3
    df.to_csv(source, index=False)
    with pytest.raises(DataError, match="'ref' changed type between chunks"):
        score_file(model, source, tmp_path / "out.parquet", chunk_rows=CHUNK, keep=("ref",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


def test_errors_are_one_line_data_errors(churn_model, tmp_path):
    model, _ = churn_model
    df = pd.read_csv(EXAMPLE)
    cases = {"nocity.csv": (df.drop(columns="city"), "missing 1 required column: 'city'")}
    sparse = df.drop(columns="churned").to_dict("records")
    for r in sparse:
        r.pop("plan")
    cases["noplan.jsonl"] = (pd.DataFrame(sparse), "missing 1 required column: 'plan'")
    for name, (frame, message) in cases.items():
        _write(frame, tmp_path / name)
        with pytest.raises(DataError, match=message):
            score_file(model, tmp_path / name, tmp_path / "out.csv", chunk_rows=CHUNK)
    with pytest.raises(DataError, match=r"--keep names columns not in the data: \['nope'\]"):
        score_file(model, tmp_path / "noplan.jsonl", tmp_path / "out.csv", keep=("nope",))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbage")
    for name, message in [("empty.csv", "is empty"), ("header.csv", "has no rows"),
                          ("bad.parquet", "is not a valid Parquet file"), ("nope.csv", "does not exist"),
                          ("data.xlsx", "unsupported file type")]:
        with pytest.raises(DataError, match=message):
            score_file(model, tmp_path / name, tmp_path / "out.csv")
    with pytest.raises(InvalidParameterError, match="pass fmt="):
        list(iter_table_chunks(io.BytesIO(b"a\n1\n")))
    with pytest.raises(InvalidParameterError, match="Unknown data format 'xls'"):
        iter_table_chunks(io.BytesIO(b"a\n1\n"), fmt="xls")
    with pytest.raises(InvalidParameterError, match="Parquet needs a seekable file object"):
        iter_table_chunks(_Unseekable(), fmt="parquet")
    with pytest.raises(InvalidParameterError, match="chunk_rows must be a positive integer"):
        iter_table_chunks(EXAMPLE, chunk_rows=0)
    assert not (tmp_path / "out.csv").exists()


class _Unseekable:
    def read(self, n=-1):
        return b""


@pytest.mark.parametrize("out_fmt", ["csv", "jsonl", "parquet"])
def test_uploaded_file_streams_encoded_blocks(churn_model, tmp_path, out_fmt):
    model, _ = churn_model
    with tempfile.SpooledTemporaryFile() as upload:
        upload.write(gzip.compress(EXAMPLE.read_bytes()))
        upload.seek(0)
        blocks = list(iter_prediction_chunks(model, upload, fmt="csv.gz", out_fmt=out_fmt,
                                             chunk_rows=CHUNK, keep=("customer_id",)))
    assert len(blocks) >= 4
    body = io.BytesIO(b"".join(blocks))
    got = {"csv": pd.read_csv, "jsonl": lambda b: pd.read_json(b, lines=True),
           "parquet": pd.read_parquet}[out_fmt](body)
    expected = predict_chunk(model, pd.read_csv(EXAMPLE), keep=("customer_id",))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-9)
    bad = io.BytesIO(b"plan,city\nbasic,x\n")
    blocks = iter_prediction_chunks(model, bad, fmt="csv")
    with pytest.raises(DataError, match="missing 7 required columns"):
        next(blocks)  # before a single byte is sent


def test_progress_counts_rows_and_reading_position(churn_model, tmp_path):
    model, _ = churn_model
    _write(pd.read_csv(EXAMPLE), tmp_path / "in.parquet")
    seen = []
    score_file(model, tmp_path / "in.parquet", tmp_path / "out.jsonl", chunk_rows=CHUNK, progress=seen.append)
    assert seen[0].rows == 0 and seen[-1].rows == 2000 and len(seen) == 5
    assert (seen[-1].unit, seen[-1].done, seen[-1].total) == ("rows", 2000, 2000)
    _write(pd.read_csv(EXAMPLE), tmp_path / "in.csv")
    seen = []
    score_file(model, tmp_path / "in.csv", tmp_path / "out.jsonl", chunk_rows=CHUNK, progress=seen.append)
    size = (tmp_path / "in.csv").stat().st_size
    assert (seen[-1].unit, seen[-1].done, seen[-1].total) == ("bytes", size, size)


def _cli(*args):
    proc = subprocess.run([sys.executable, "-m", "mlexpert", *map(str, args)], capture_output=True,
                          text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_streams_to_a_file_with_progress_and_to_stdout(churn_model, tmp_path):
    _, directory = churn_model
    out = tmp_path / "preds.csv"
    code, stdout, stderr = _cli("predict", directory, EXAMPLE, "--out", out, "--chunk-rows", CHUNK,
                                "--keep", "customer_id")
    assert code == 0, stderr
    assert "Wrote 2000 predictions" in stdout
    assert "100%" in stderr and "2,000 rows" in stderr and "rows/s" in stderr
    code, stdout, stderr = _cli("predict", directory, EXAMPLE, "--chunk-rows", CHUNK, "--keep", "customer_id")
    assert code == 0 and stderr == ""  # stdout gets the CSV; no bar unless stderr is a terminal
    assert stdout == out.read_text()
    code, stdout, stderr = _cli("predict", directory, EXAMPLE, "--out", tmp_path / "p.parquet", "-q",
                                "--keep", "nope")
    assert code == 3
    assert stderr.strip() == "error: --keep names columns not in the data: ['nope']. Check the names."
    assert not (tmp_path / "p.parquet").exists()
