"""One record predicted without a DataFrame gives exactly what the DataFrame path gives."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import mlexpert
from mlexpert.data.record import RecordColumns, record_columns
from mlexpert.exceptions import DataError

from .conftest import load_shared


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Every kind the record path reads: numbers (with missing), booleans, integer, float
    and string categories, and a high-cardinality column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    code = rng.integers(1, 6, n)
    df = pd.DataFrame({
        "x": np.where(rng.random(n) < 0.1, np.nan, x),
        "count": rng.integers(0, 50, n),
        "flag": rng.random(n) < 0.4,
        "code": code,
        "grade": rng.choice([1.0, 2.5, 3.5], n),
        "colour": rng.choice(["red", "green", "blue", None], n),
        "shop": [f"s{v}" for v in rng.integers(0, 80, n)],
    })
    logit = 1.5 * x + (code == 3) - (df["colour"] == "red") + 0.5 * df["flag"] + (df["grade"] == 1.0)
    df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return df


@pytest.fixture(scope="module")
def model():
    df = _table()
    result = mlexpert.fit(df, target="y", time_limit=20, families=("lightgbm",), max_trials=2,
                          review=False, categorical=("code", "grade"), seed=0)
    return df, result.pipeline


def _both(pipeline, record: dict):
    via_record = pipeline.predict_record(record)
    via_frame = pipeline.predict_output(pd.DataFrame.from_records([record], columns=list(record)))
    return via_record, via_frame


def test_every_row_matches_the_dataframe_path(model):
    df, pipeline = model
    kinds = {c.name: c.kind for c in pipeline.schema.columns}
    assert kinds["flag"] == "boolean" and kinds["code"] == "categorical"
    assert kinds["shop"] == "high_cardinality"
    rows = df.drop(columns="y").astype(object)
    records = [json.loads(json.dumps(r)) for r in rows.where(rows.notna(), None).to_dict("records")]
    assert isinstance(record_columns(records[0], pipeline.schema), RecordColumns)
    fast = np.vstack([pipeline.predict_record(r) for r in records])
    np.testing.assert_array_equal(fast, pipeline.predict_output(df.drop(columns="y")))


@pytest.mark.parametrize("change", [
    {"x": None, "count": None, "flag": None, "code": None, "grade": None, "colour": None,
     "shop": None},
    {"code": 3.0},  # an integral float for an integer category is that integer
    {"grade": 1},  # an int for a float category is that float (1.0)
    {"grade": 2.5, "code": 3},
    {"colour": "purple", "shop": "never-seen"},  # unseen categories
    {"flag": "yes", "count": True},  # yes/no strings for booleans; a boolean as a number
    {"flag": 1, "x": 7},
    {"code": "3"}, {"code": True}, {"colour": 4.0},
])
def test_edge_values_match_the_dataframe_path(model, change):
    df, pipeline = model
    record = {**{k: v for k, v in json.loads(df.drop(columns="y").iloc[[3]].to_json(
        orient="records"))[0].items()}, **change}
    assert record_columns(record, pipeline.schema) is not None
    via_record, via_frame = _both(pipeline, record)
    np.testing.assert_array_equal(via_record, via_frame)


def test_records_only_the_dataframe_path_reads_take_it(model):
    df, pipeline = model
    record = json.loads(df.drop(columns="y").iloc[[5]].to_json(orient="records"))[0]
    odd = {**record, "x": "1.25"}  # a number as text: coerced, as in a file
    assert record_columns(odd, pipeline.schema) is None
    np.testing.assert_array_equal(pipeline.predict_record(odd),
                                  pipeline.predict_record({**record, "x": 1.25}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.predict_record({**record, "x": float("inf")})
    assert any("infinite" in str(w.message) for w in caught)
    missing = {k: v for k, v in record.items() if k != "shop"}
    with pytest.raises(DataError, match="missing 1 required column: 'shop'"):
        pipeline.predict_record(missing)


def test_models_that_do_not_read_the_native_matrix_use_the_dataframe_path():
    df = load_shared("penguins")  # numbers, categories and missing values
    result = mlexpert.fit(df, target="species", time_limit=15, families=("linear", "lightgbm"),
                          max_trials=3, review=False, seed=0)
    pipeline = result.pipeline
    rows = df.drop(columns="species").head(40).astype(object)
    records = [json.loads(json.dumps(r)) for r in rows.where(rows.notna(), None).to_dict("records")]
    fast = np.vstack([pipeline.predict_record(r) for r in records])
    np.testing.assert_allclose(fast, pipeline.predict_output(df.drop(columns="species").head(40)),
                               rtol=0, atol=1e-12)


def test_dates_and_text_are_left_to_the_dataframe_path():
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
                       "note": [" ".join(rng.choice(["good", "bad", "fine", "late", "early"], 6))
                                for _ in range(n)],
                       "v": rng.normal(size=n)})
    df["y"] = df["v"] * 2 + df["note"].str.count("good")
    result = mlexpert.fit(df, target="y", time_limit=15, families=("lightgbm",), max_trials=1,
                          review=False, datetime=("when",), text=("note",), seed=0)
    record = df.drop(columns="y").iloc[7].to_dict()
    assert record_columns(record, result.pipeline.schema) is None
    via_record, via_frame = _both(result.pipeline, record)
    np.testing.assert_array_equal(via_record, via_frame)
