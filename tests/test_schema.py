import warnings

import numpy as np
import pandas as pd
import pytest

from mlexpert.data.schema import Schema, infer_schema
from mlexpert.exceptions import DataWarning, InvalidParameterError

from .conftest import load_shared


def _kinds(schema):
    return {c.name: c.kind for c in schema.columns}


def test_kinds_on_titanic():
    df = load_shared("titanic")
    with pytest.warns(DataWarning, match="'PassengerId' is dropped: an identifier"):
        schema = infer_schema(df, "Survived")
    kinds = _kinds(schema)
    assert kinds["PassengerId"] == "id"
    assert kinds["Name"] == "text"
    assert kinds["Sex"] == "categorical"
    assert kinds["Age"] == "numeric"
    assert kinds["Ticket"] == "high_cardinality"
    assert "Survived" not in kinds


def test_kinds_on_nyc_taxis_dates_and_high_cardinality():
    kinds = _kinds(infer_schema(load_shared("nyc_taxis"), "tip"))
    assert kinds["pickup"] == "datetime"
    assert kinds["pickup_zone"] == "high_cardinality"
    assert kinds["payment"] == "categorical"


def test_constant_string_id_boolean_and_date_strings():
    n = 200
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "const": ["x"] * n,
        "all_missing": [None] * n,
        "code": [f"K{i:05d}" for i in range(n)],
        "flag": rng.choice(["yes", "no"], n),
        "when": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "y": rng.normal(size=n),
    })
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = infer_schema(df, "y")
    kinds = _kinds(schema)
    assert kinds == {"const": "constant", "all_missing": "constant", "code": "id",
                     "flag": "boolean", "when": "datetime"}
    messages = " ".join(str(w.message) for w in caught)
    assert "'const' is dropped: it has a single value" in messages
    assert "'all_missing' is dropped: all missing" in messages


def test_user_overrides_win_and_unknown_names_fail():
    df = pd.DataFrame({"a": [1, 2, 3] * 10, "b": ["p", "q", "r"] * 10, "y": [0, 1, 0] * 10})
    schema = infer_schema(df, "y", categorical=("a",), ignore=("b",))
    assert _kinds(schema) == {"a": "categorical", "b": "ignored"}
    with pytest.raises(InvalidParameterError, match="--text names column 'zz', which is not in the data"):
        infer_schema(df, "y", text=("zz",))
    with pytest.raises(InvalidParameterError, match="names the target column 'y'"):
        infer_schema(df, "y", ignore=("y",))


def test_keep_prevents_dropping_an_id():
    df = pd.DataFrame({"id": range(100), "y": [0, 1] * 50})
    assert _kinds(infer_schema(df, "y", keep=("id",)))["id"] == "numeric"


def test_schema_round_trips_through_dict():
    schema = infer_schema(load_shared("penguins"), "species")
    again = Schema.from_dict(schema.to_dict())
    assert again == schema
    assert again.features == schema.features
