"""Diagnose any scikit-learn style estimator on a table (used by tests and by users)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from .curve import FRACTIONS, Split, learning_curve, take_rows
from .verdict import judge


def diagnose_estimator(estimator, X, y, *, classification: bool | None = None,
                       valid_size: float = 0.25, n_splits: int | None = None,
                       fractions=FRACTIONS, seed: int = 0) -> dict:
    """Learning curve and verdict for ``estimator`` on ``X, y``.

    The curve is averaged over ``n_splits`` random holdouts of ``valid_size`` (default: 5
    below 5,000 rows, where one holdout is noisy, else 1).
    Classifiers must have ``predict_proba``. Returns the verdict dict of
    :func:`~mlexpert.diagnosis.judge` with the curve under ``"curve"``.
    """
    y = np.asarray(y)
    if classification is None:
        classification = hasattr(estimator, "predict_proba")
    if classification:
        labels, y = np.unique(y, return_inverse=True)
        k = len(labels)
    else:
        y, k = y.astype(float), 0
    n_splits = n_splits or (5 if len(y) < 5000 else 1)
    splitter = (StratifiedShuffleSplit if classification else ShuffleSplit)(
        n_splits, test_size=valid_size, random_state=seed)
    pairs = list(splitter.split(np.zeros(len(y)), y))
    splits = [Split(y[tr], y[va]) for tr, va in pairs]

    def fit_predict(s, rows):
        tr, va = pairs[s]
        X_fit = take_rows(X, tr[rows])
        model = clone(estimator).fit(X_fit, y[tr][rows])
        return _output(model, X_fit, k), _output(model, take_rows(X, va), k)

    points = learning_curve(fit_predict, splits, n_classes=k, fractions=fractions, seed=seed)
    return {**judge(points), "curve": [p.to_dict() for p in points]}


def _output(model, X, k: int) -> np.ndarray:
    if not k:
        return np.asarray(model.predict(X), dtype=float)
    proba = model.predict_proba(X)
    out = np.zeros((len(proba), k))
    out[:, np.asarray(model.classes_, dtype=int)] = proba  # a subset may miss a class
    return out
