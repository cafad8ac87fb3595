"""prepare_training_table and prepare_prediction_table: errors, warnings, clean output."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mlexpert.data.schema import infer_schema
from mlexpert.data.validate import prepare_prediction_table, prepare_training_table
from mlexpert.exceptions import DataError, DataWarning, InvalidParameterError


def _titanic(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.uniform(1, 80, n).round(1),
        "fare": rng.uniform(5, 500, n).round(2),
        "sex": rng.choice(["male", "female"], n),
        "embarked": rng.choice(["S", "C", "Q"], n),
        "Survived": rng.integers(0, 2, n),
    })


@pytest.fixture
def schema():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return infer_schema(_titanic(), "Survived")


# -- training -----------------------------------------------------------------------


def test_training_table_clean_data_passes_unchanged():
    df = _titanic().set_axis(range(100, 140))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prepare_training_table(df, "Survived")
    assert isinstance(out.index, pd.RangeIndex) and len(out) == 40
    pd.testing.assert_frame_equal(out, df.reset_index(drop=True))
    assert out is not df


def test_training_empty_table():
    with pytest.raises(DataError, match=r"^The training data is empty \(0 rows, 2 columns\)"):
        prepare_training_table(pd.DataFrame({"a": [], "y": []}), "y")


def test_training_not_a_frame():
    with pytest.raises(InvalidParameterError, match="must be a pandas DataFrame"):
        prepare_training_table([[1, 2]], "y")


def test_unknown_target_suggests_close_name():
    with pytest.raises(DataError, match=r"^Target column 'Survivd' is not in the data\. Did you "
                       r"mean 'Survived'\? Columns: 'age', 'fare', 'sex', 'embarked', "
                       r"'Survived'\.$"):
        prepare_training_table(_titanic(), "Survivd")


def test_unknown_target_case_insensitive():
    with pytest.raises(DataError, match=r"Target column 'survived' is not in the data\. Did you "
                       r"mean 'Survived'\?"):
        prepare_training_table(_titanic(), "survived")


def test_unknown_target_without_suggestion_lists_at_most_15_columns():
    df = pd.DataFrame({f"col{i}": [1, 2] for i in range(20)})
    with pytest.raises(DataError, match=r"^Target column 'zzz' is not in the data\. Columns: "
                       r"'col0', .*'col14' \(and 5 more\)\.$") as exc:
        prepare_training_table(df, "zzz")
    assert "Did you mean" not in str(exc.value) and "'col15'" not in str(exc.value)


def test_target_all_missing():
    df = pd.DataFrame({"x": [1, 2, 3], "y": [np.nan] * 3})
    with pytest.raises(DataError, match=r"^Target column 'y' has no values \(all 3 rows are "
                       r"missing\)\. Choose another target or fill it in\.$"):
        prepare_training_table(df, "y")


def test_target_with_infinite_values():
    df = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1.0, np.inf, -np.inf, 2.0]})
    with pytest.raises(DataError, match=r"^Target column 'y' has 2 infinite values\. Replace or "
                       r"remove those rows before training\.$"):
        prepare_training_table(df, "y")


def test_rows_with_missing_target_are_dropped_with_count():
    df = _titanic()
    df.loc[[3, 7, 11], "Survived"] = np.nan
    with pytest.warns(DataWarning, match=r"^Dropped 3 rows whose target 'Survived' is missing\.$"):
        out = prepare_training_table(df, "Survived")
    assert len(out) == 37 and out["Survived"].notna().all()
    assert list(out.index) == list(range(37))
    assert out["age"].tolist() == df["age"].drop([3, 7, 11]).tolist()
    assert df["Survived"].isna().sum() == 3  # the input is not modified


def test_missing_string_target_is_dropped():
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", None, "b"]})
    with pytest.warns(DataWarning, match="^Dropped 1 row whose target 'y' is missing"):
        out = prepare_training_table(df, "y")
    assert out["y"].tolist() == ["a", "b"]


def test_infinite_features_become_nan_with_one_warning():
    df = pd.DataFrame({"a": [1.0, np.inf, 3.0, -np.inf], "b": [np.inf, 1.0, 2.0, 3.0],
                       "c": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    with pytest.warns(DataWarning) as record:
        out = prepare_training_table(df, "y")
    messages = [str(w.message) for w in record if issubclass(w.category, DataWarning)]
    assert messages == ["Replaced infinite values with missing values in 2 columns: 'a' (2), "
                        "'b' (1)."]
    assert out["a"].isna().tolist() == [False, True, False, True]
    assert out["b"].isna().sum() == 1 and out["c"].notna().all()
    assert np.isinf(df["a"]).sum() == 2  # the input is not modified


def test_integer_column_names_become_strings():
    df = pd.DataFrame({0: [1.0, 2.0], "y": [0, 1]})
    assert list(prepare_training_table(df, "y").columns) == ["0", "y"]


# -- prediction ---------------------------------------------------------------------


def test_prediction_keeps_features_in_schema_order_and_ignores_extras(schema):
    df = _titanic(5)[["embarked", "Survived", "fare", "sex", "age"]].assign(extra=1)
    df.index = [5, 4, 3, 2, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prepare_prediction_table(df, schema)
    assert list(out.columns) == schema.features == ["age", "fare", "sex", "embarked"]
    assert isinstance(out.index, pd.RangeIndex)
    assert out["age"].tolist() == df["age"].tolist()


def test_prediction_missing_columns_are_all_named(schema):
    df = _titanic(5).drop(columns=["age", "fare"])
    with pytest.raises(DataError, match=r"^The data is missing 2 required columns: 'age', 'fare'\. "
                       r"Add them \(other columns are ignored\)\.$"):
        prepare_prediction_table(df, schema)


def test_prediction_missing_one_column(schema):
    with pytest.raises(DataError, match=r"^The data is missing 1 required column: 'sex'\."):
        prepare_prediction_table(_titanic(5).drop(columns=["sex"]), schema)


def test_prediction_target_is_not_required(schema):
    out = prepare_prediction_table(_titanic(5).drop(columns=["Survived"]), schema)
    assert "Survived" not in out.columns


def test_prediction_numeric_strings_are_coerced_with_warning(schema):
    df = _titanic(4)
    df["age"] = pd.Series(["22", " 38.5", "unknown", None], dtype=object)
    with pytest.warns(DataWarning, match=r"^Column 'age' should be numeric; 1 value could not be "
                      r"read as numbers and are treated as missing\.$"):
        out = prepare_prediction_table(df, schema)
    assert pd.api.types.is_float_dtype(out["age"])
    assert out["age"].tolist()[:2] == [22.0, 38.5] and out["age"].isna().tolist()[2:] == [True] * 2


def test_prediction_numeric_strings_that_all_parse_are_silent(schema):
    df = _titanic(3)
    df["fare"] = df["fare"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prepare_prediction_table(df, schema)
    assert out["fare"].tolist() == pytest.approx(_titanic(3)["fare"].tolist())


def test_prediction_infinite_values_become_nan(schema):
    df = _titanic(3)
    df["fare"] = [np.inf, 1.0, -np.inf]
    with pytest.warns(DataWarning, match="'fare' \\(2\\)"):
        out = prepare_prediction_table(df, schema)
    assert out["fare"].isna().tolist() == [True, False, True]


def test_prediction_empty_table(schema):
    with pytest.raises(DataError, match=r"^The data to predict is empty \(0 rows"):
        prepare_prediction_table(_titanic(5).iloc[:0], schema)


def test_prediction_duplicate_feature_columns(schema):
    df = pd.concat([_titanic(3), _titanic(3)[["age"]]], axis=1)
    with pytest.raises(DataError, match=r"^Column names must be unique; 'age' appears more than once\. Rename"):
        prepare_prediction_table(df, schema)


def test_prediction_rows_get_the_training_dtype_of_integer_categories():
    """[7, None] arrives as floats (7.0, NaN); the model learnt the category "7"."""
    from mlexpert.features._frame import as_strings

    train = pd.DataFrame({"code": np.arange(60) % 5 + 3, "x": np.arange(60.0), "y": np.arange(60) % 2})
    schema = infer_schema(train, "y", categorical=("code",))
    assert schema.kind_of("code") == "categorical"
    rows = pd.DataFrame.from_records([{"code": 7, "x": 1.0}, {"code": None, "x": 2.0}])
    assert rows["code"].dtype == np.float64  # what pandas makes of them
    out = prepare_prediction_table(rows, schema)
    assert list(as_strings(out["code"])) == ["7", None]
    assert list(as_strings(prepare_prediction_table(rows.iloc[:1], schema)["code"])) == ["7"]
