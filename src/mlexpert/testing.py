"""Reusable checks for model families (public, so plugin families can run them too).

``check_model_family(family)`` fits the family on small binary, multiclass and regression
tables built from scikit-learn's bundled datasets, through the family's own
preprocessing profile, and checks: output shapes and validity, a score clearly better than
chance, identical predictions for the same seed, a pickle round trip, and that a deadline
already close is respected.
"""

from __future__ import annotations

import pickle
import time

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from .features import TablePreprocessor
from .models._base import FitContext, ModelFamily

_LOADERS = {"binary": load_breast_cancer, "multiclass": load_wine, "regression": load_diabetes}
_FLOOR = {"binary": 0.9, "multiclass": 0.9, "regression": 0.2}


def toy_problem(task: str, profile: str, seed: int = 0):
    """Encoded train/validation matrices for ``task`` with a categorical and a missing value."""
    data = _LOADERS[task](as_frame=True)
    X = data.data.copy()
    X["group"] = np.where(X.iloc[:, 0] > X.iloc[:, 0].median(), "high", "low")
    X.iloc[::17, 1] = np.nan
    y = data.target.to_numpy()
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=seed)
    columns = {"numeric": [c for c in X.columns if c != "group"], "categorical": ["group"]}
    pp = TablePreprocessor(columns=columns, profile=profile, task=task, random_state=seed)
    return pp.fit_transform(Xtr, ytr), ytr, pp.transform(Xva), yva


def _quality(task: str, y: np.ndarray, out: np.ndarray) -> float:
    if task == "regression":
        return r2_score(y, out)
    if task == "binary":
        return roc_auc_score(y, out[:, 1])
    return float(np.mean(np.argmax(out, axis=1) == y))


def check_model_family(family: ModelFamily, task: str, *, seconds: float = 30.0) -> dict:
    """Run the family contract on one task; raise AssertionError on the first violation."""
    Xtr, ytr, Xva, yva = toy_problem(task, family.profile)
    n_classes = len(np.unique(ytr)) if task != "regression" else 0
    params = family.default_configs(task, len(ytr), 10)[0]

    def fit(deadline_s: float):
        ctx = FitContext(task, n_classes, 1, 0, time.monotonic() + deadline_s)
        return family.fit(Xtr, ytr, params, ctx, Xva, yva)

    model = fit(seconds)
    out = family.predict(model, Xva, task)
    if task == "regression":
        assert out.shape == (len(yva),), out.shape
    else:
        assert out.shape == (len(yva), n_classes), out.shape
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(np.isfinite(out))
    quality = _quality(task, yva, out)
    assert quality > _FLOOR[task], f"{family.key} on {task}: quality {quality:.3f} <= {_FLOOR[task]}"
    again = family.predict(fit(seconds), Xva, task)
    np.testing.assert_allclose(again, out, rtol=1e-6, atol=1e-8)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(family.predict(restored, Xva, task), out)
    start = time.monotonic()
    quick = fit(0.2)
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"{family.key} ignored a 0.2 s deadline ({elapsed:.1f} s)"
    assert family.predict(quick, Xva, task).shape == out.shape
    return {"quality": quality, "deadline_fit_s": elapsed}


def toy_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A small mixed-type table (numbers, categories, dates, text, missing values)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    df = pd.DataFrame({
        "x": x, "z": rng.normal(size=n), "colour": colour,
        "when": pd.date_range("2021-01-01", periods=n, freq="D"),
        "note": [f"item {'good' if v > 0 else 'poor'} quality batch {i % 7}" for i, v in enumerate(x)],
    })
    df.loc[::11, "z"] = np.nan
    df["y"] = (x + (colour == "red") + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return df
