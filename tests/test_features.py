"""Per-profile preprocessing: shapes, leakage-free fitting, unseen values, dates and text."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mlexpert.features import PROFILES, TablePreprocessor
from mlexpert.features.datetime import DatetimeBlock
from mlexpert.testing import toy_frame

COLUMNS = {"numeric": ["x", "z"], "categorical": ["colour"], "datetime": ["when"], "text": ["note"]}


@pytest.fixture
def frame():
    return toy_frame()


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_encodes_train_and_new_rows_alike(frame, profile):
    pp = TablePreprocessor(columns=COLUMNS, profile=profile, task="binary")
    train = pp.fit_transform(frame, frame["y"].to_numpy())
    new = frame.head(7).copy()
    new["colour"] = "purple"  # unseen category
    new.loc[new.index[0], "x"] = np.nan  # missing where training had none
    out = pp.transform(new)
    if profile == "embedding":
        assert out["num"].shape[1] == train["num"].shape[1] and out["cat"].shape == (7, 1)
        assert (out["cat"] == 0).all()  # unseen -> code 0
        assert np.isfinite(out["num"]).all()
    else:
        assert out.shape == (7, train.shape[1])
    if profile in ("ordinal", "dense", "linear"):
        dense = out.toarray() if sp.issparse(out) else out
        assert np.isfinite(dense).all()  # imputed
    if profile == "native":
        (colour,) = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
        assert out[colour].isna().all()  # unseen -> missing category


def test_linear_profile_keeps_text_sparse_and_one_hot(frame):
    pp = TablePreprocessor(columns=COLUMNS, profile="linear", task="binary")
    out = pp.fit_transform(frame, frame["y"].to_numpy())
    assert sp.issparse(out)
    assert out.shape[1] > 20  # tf-idf vocabulary + one-hot columns


def test_target_encoding_is_cross_fitted_on_training_rows():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"key": [f"k{i}" for i in rng.integers(0, 100, n)]})
    y = rng.integers(0, 2, n)  # the key carries no signal
    pp = TablePreprocessor(columns={"high_cardinality": ["key"]}, profile="linear", task="binary")
    encoded = pp.fit_transform(df, y)
    encoded = encoded.toarray() if sp.issparse(encoded) else encoded
    # in-sample target means would correlate strongly with y; cross-fitted ones do not
    assert abs(np.corrcoef(encoded[:, 0], y)[0, 1]) < 0.2


def test_datetime_parts_follow_what_varies():
    df = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=50, freq="h").astype(str)})
    block = DatetimeBlock().fit(df)
    assert "d__hour" in block.names_ and "d__day" in block.names_
    assert "d__year" not in block.names_  # constant in training
    out = block.transform(pd.DataFrame({"d": ["2020-01-02 05:00", "not a date"]}))
    assert out.shape == (2, len(block.names_))
    assert np.isnan(out[1]).all()


def test_calendar_parts_equal_pandas_fields_exactly():
    import numpy as np
    import pandas as pd

    from mlexpert.features.datetime import calendar_parts

    rng = np.random.default_rng(0)
    ns = rng.integers(-2_000_000_000, 4_000_000_000, 5000) * 1_000_000_000 + rng.integers(0, 10**9, 5000)
    s = pd.Series(pd.to_datetime(ns))
    s[::17] = pd.NaT
    out = calendar_parts(s.to_numpy(dtype="datetime64[ns]"))
    for part in ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute"):
        expected = getattr(s.dt, part).to_numpy(dtype=float, na_value=np.nan)
        assert np.array_equal(out[part], expected, equal_nan=True), part
    days = ((s - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0).to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(out["days"], days, equal_nan=True)


def test_numeric_block_reads_a_wide_frame_in_one_block_with_the_same_values():
    """Plain number and boolean dtypes are read together; values match column-by-column reads."""
    from mlexpert.features._frame import as_float
    from mlexpert.features.numeric import NumericBlock, boolean_to_float

    rng = np.random.default_rng(0)
    n = 50
    X = pd.DataFrame({
        "i64": rng.integers(-5, 5, n),
        "f32": rng.normal(size=n).astype(np.float32),
        "nullable_int": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "nullable_float": pd.array([None if i % 5 == 0 else i / 3 for i in range(n)], dtype="Float64"),
        "flag": rng.integers(0, 2, n).astype(bool),
        "nullable_flag": pd.array([None if i % 4 == 0 else i % 2 == 0 for i in range(n)], dtype="boolean"),
        "as_text": [str(i) if i % 3 else "n/a" for i in range(n)],  # read one by one, coerced
        "yes_no": ["yes" if i % 2 else "no" for i in range(n)],
        "inf": np.where(np.arange(n) % 6 == 0, np.inf, 1.5),
    })
    boolean = ("flag", "nullable_flag", "yes_no")
    block = NumericBlock(scale="standard", boolean=boolean).fit(X)
    reference = np.column_stack([boolean_to_float(X[c]) if c in boolean else as_float(X[c])
                                 for c in X.columns])
    np.testing.assert_array_equal(block._read(X, list(X.columns)), reference)
    order = ["yes_no", "i64", "as_text", "nullable_float", "flag"]  # any subset, any order
    np.testing.assert_array_equal(block._read(X, order), reference[:, [X.columns.get_loc(c) for c in order]])
    m = reference.copy()
    m[~np.isfinite(m)] = np.nan
    np.testing.assert_array_equal(block.transform(X), block._finish(m))
    assert np.isnan(block._matrix(X)[:, -1]).sum() == 9  # infinities become missing
