"""Tree SHAP values: exact per member, mapped back to the input columns, combined."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import mlexpert
from mlexpert.data.validate import prepare_prediction_table
from mlexpert.explain.tree_shap import (
    TREE_FAMILIES, _margin, _models, member_margin, member_shap, shap_values,
)
from mlexpert.features import PROFILES, TablePreprocessor
from mlexpert.models.registry import get_family

from .conftest import EXAMPLE, load_shared

pytest.importorskip("lightgbm")
pytest.importorskip("xgboost")
pytest.importorskip("catboost")

CHURN_COLUMNS = {"numeric": ["tenure_months", "monthly_price", "support_calls"],
                 "boolean": ["paperless_billing"], "categorical": ["plan", "contract"],
                 "high_cardinality": ["city"], "datetime": ["signup_date"], "text": ["last_note"]}


def _fit(df, target, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mlexpert.fit(df, target=target, time_limit=10, max_trials=1, n_folds=3,
                            **kwargs).pipeline


@pytest.fixture(scope="module")
def churn_frame():
    df = pd.read_csv(EXAMPLE).head(1000)
    df.loc[::9, "signup_date"] = None  # missing dates: indicator columns in some profiles
    return df


@pytest.fixture(scope="module")
def binary_lgb(churn_frame):  # refit member; last_note as text (TF-IDF + SVD columns)
    return _fit(churn_frame, "churned", families=("lightgbm",), text=("last_note",))


@pytest.fixture(scope="module")
def binary_xgb_folds(churn_frame):  # fold models, each with its own preprocessor
    return _fit(churn_frame, "churned", families=("xgboost",), refit=False)


@pytest.fixture(scope="module")
def multiclass_cat():
    return _fit(load_shared("penguins"), "species", families=("catboost",))


@pytest.fixture(scope="module")
def planted():
    """Regression where ``planted`` dominates, and a date (after 2022) and a note's word matter."""
    rng = np.random.default_rng(0)
    n = 500
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    words = np.array(["order", "late", "box", "parcel", "service", "price", "driver", "door"])
    refund = rng.random(n) < 0.3
    notes = [" ".join(rng.choice(words, 4)) + (" refund please" if r else " thanks")
             for r in refund]
    later = np.asarray(when >= pd.Timestamp("2022-01-01"))
    df = pd.DataFrame({"planted": rng.normal(size=n), "noise": rng.normal(size=n),
                       "colour": rng.choice(["red", "green", "blue"], n), "when": when,
                       "note": notes})
    df["y"] = 4 * df["planted"] + 2 * later + 2 * refund + rng.normal(scale=0.3, size=n)
    pipeline = _fit(df, "y", families=("xgboost",), text=("note",), datetime=("when",))
    return df, pipeline, later, refund


def _check_additive(pipeline, df):
    """Each member's values add up to its raw margin, and the margin's link function gives
    back each of its models' predicted outputs."""
    X = prepare_prediction_table(df, pipeline.schema)
    task = pipeline.task
    for member in pipeline.members:
        values, base = member_shap(pipeline, member, X)
        np.testing.assert_allclose(values.sum(-1) + base, member_margin(pipeline, member, X),
                                   atol=1e-4, rtol=1e-4)
        family = get_family(member.family)
        for model, _, encoded in _models(pipeline, member, X, None):
            margin = _margin(member.family, model, encoded, task)
            expected = family.predict(model, encoded, task.kind)
            if task.kind == "binary":
                np.testing.assert_allclose(1 / (1 + np.exp(-margin[:, 0])), expected[:, 1],
                                           atol=1e-6)
            elif task.kind == "multiclass":
                np.testing.assert_allclose(_softmax(margin), expected, atol=1e-6)
            else:
                np.testing.assert_allclose(margin[:, 0], expected, atol=1e-4)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_binary_values_add_up_to_the_log_odds_of_the_positive_class(binary_lgb, churn_frame):
    _check_additive(binary_lgb, churn_frame)
    res = shap_values(binary_lgb, churn_frame)
    assert res.space == "log-odds" and res.values.shape == (1000, len(res.columns))
    assert res.members == ["lightgbm#1"] and res.coverage == pytest.approx(1.0)
    if binary_lgb.members[0].refit:  # one model: its log-odds are the ensemble's
        proba = binary_lgb.predict_proba(churn_frame)["yes"].to_numpy()
        np.testing.assert_allclose(1 / (1 + np.exp(-res.margin())), proba, atol=1e-6)


def test_fold_members_average_their_folds_exactly(binary_xgb_folds, churn_frame):
    (member,) = binary_xgb_folds.members
    assert not member.refit and len(member.models) == 3
    _check_additive(binary_xgb_folds, churn_frame)


def test_multiclass_gives_raw_scores_per_class(multiclass_cat):
    df = load_shared("penguins")
    _check_additive(multiclass_cat, df)
    res = shap_values(multiclass_cat, df)
    k = len(multiclass_cat.task.classes)
    assert res.space == "raw score per class"
    assert res.values.shape == (len(df), k, len(res.columns)) and res.base.shape == (len(df), k)
    row = res.explain_row(0, top=3)
    assert row["class"] == res.classes[int(np.argmax(res.margin()[0]))]
    total = row["base"] + sum(c["contribution"] for c in row["contributions"]) + row["rest"]
    assert total == pytest.approx(row["margin"])
    other = res.explain_row(0, cls=res.classes[-1])
    assert other["class"] == res.classes[-1]
    importance = res.global_importance()
    assert importance[0]["mean_abs"] == pytest.approx(np.abs(res.values).mean(0).sum(0).max())


def test_planted_date_and_text_effects_land_on_their_columns(planted):
    df, pipeline, later, refund = planted
    _check_additive(pipeline, df)
    res = shap_values(pipeline, df)
    assert res.space == "value"
    np.testing.assert_allclose(res.margin(), pipeline.predict(df), atol=1e-3)  # mean of the folds
    ranking = [f["feature"] for f in res.global_importance()]
    assert ranking[0] == "planted"
    assert ranking.index("noise") > max(ranking.index("when"), ranking.index("note"))
    by_name = dict(zip(res.columns, res.values.T))
    # true effects are +2 each; their SHAP values must separate the rows that have them
    assert by_name["when"][later].mean() - by_name["when"][~later].mean() > 1.0
    assert by_name["note"][refund].mean() - by_name["note"][~refund].mean() > 1.0
    i = int(np.argmax(np.abs(df["planted"].to_numpy())))
    row = res.explain_row(i, top=2)
    assert row["contributions"][0]["feature"] == "planted"
    assert row["contributions"][0]["value"] == pytest.approx(df["planted"].iloc[i])
    assert res.explain_row(i)["contributions"][-1]["feature"] in res.columns  # top > n_cols


def test_every_feature_maps_back_exactly_once(binary_lgb, multiclass_cat, planted, churn_frame):
    cases = [(binary_lgb, churn_frame), (multiclass_cat, load_shared("penguins")),
             (planted[1], planted[0])]
    for pipeline, df in cases:
        features = list(pipeline.schema.features)
        res = shap_values(pipeline, df.head(20))
        assert res.columns == features and len(set(res.columns)) == len(features)
        fitted = list(pipeline.full_preprocessors.values())
        fitted += [pp for pps in pipeline.preprocessors.values() for pp in pps]
        for pp in fitted:
            assert set(pp.output_sources_) == set(features)


def test_no_tree_member_gives_none():
    pipeline = _fit(load_shared("iris"), "species", families=("linear",))
    assert all(m.family not in TREE_FAMILIES for m in pipeline.members)
    assert shap_values(pipeline, load_shared("iris")) is None


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_output_sources_name_the_input_behind_each_output(churn_frame, task):
    """Changing one input changes only the outputs attributed to it, in every profile."""
    frame = churn_frame.head(500)
    y = ((frame["churned"] == "yes").astype(int) if task == "binary"
         else frame["support_calls"].clip(0, 2)).to_numpy()
    rng = np.random.default_rng(0)
    for profile in PROFILES:
        pp = TablePreprocessor(columns=CHURN_COLUMNS, profile=profile, task=task)
        train = _dense(pp.fit_transform(frame, y))
        assert pp.output_sources() == pp.output_sources_
        sources = _flat(pp.output_sources_)
        assert len(sources) == train.shape[1]
        base = _dense(pp.transform(frame))
        for column in sum(CHURN_COLUMNS.values(), []):
            moved = frame.copy()
            moved[column] = frame[column].to_numpy()[rng.permutation(len(moved))]
            changed = _changed(base, _dense(pp.transform(moved)))
            assert changed.any(), (profile, column)
            assert {sources[j] for j in np.flatnonzero(changed)} == {column}, (profile, column)


def _flat(sources):
    return sources["num"] + sources["cat"] if isinstance(sources, dict) else list(sources)


def _dense(out) -> np.ndarray:
    """Every output as one object matrix, comparable cell by cell."""
    if isinstance(out, dict):
        return np.hstack([out["num"], out["cat"]]).astype(object)
    if isinstance(out, pd.DataFrame):
        return out.astype(object).to_numpy()
    return (out.toarray() if sp.issparse(out) else out).astype(object)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same = (a == b) | (pd.isna(pd.DataFrame(a)).to_numpy() & pd.isna(pd.DataFrame(b)).to_numpy())
    return ~same.all(axis=0)


def test_a_passed_deadline_explains_one_fold_model_of_the_heaviest_member(binary_xgb_folds,
                                                                          churn_frame):
    import time

    pipeline, rows = binary_xgb_folds, churn_frame.head(30)
    full = shap_values(pipeline, rows)
    late = shap_values(pipeline, rows, deadline=time.monotonic() - 1)
    member = max(pipeline.members, key=lambda m: m.weight)
    assert len(member.models) > 1 and late.members == [member.name]
    one, _ = member_shap(pipeline, member, prepare_prediction_table(rows, pipeline.schema),
                         deadline=time.monotonic() - 1)  # the first fold model only
    np.testing.assert_allclose(late.values, one[:, 0, :])
    assert not np.allclose(late.values, full.values)  # the other folds were left out
