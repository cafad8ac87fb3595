"""scikit-learn estimators wrapping :func:`mlexpert.fit`: AutoClassifier and AutoRegressor.

They take arrays or DataFrames, so they work in a ``Pipeline``, ``cross_validate`` or
``GridSearchCV``. A DataFrame keeps its column names and dtypes (strings, categories and
dates are handled by mlexpert); an array is read as numbers, in columns ``x0, x1, ...``.
Missing values (NaN) are allowed: the fitted pipeline imputes them.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from . import api
from .exceptions import DataError

TARGET = "__target__"


class _AutoEstimator(BaseEstimator):
    """Shared parameters, validation, fit and prediction; subclasses define ``_encode_target``."""

    def __init__(self, *, time_limit=60, metric=None, families=None, max_trials=None,
                 n_folds=5, random_state=0, n_jobs=-1):
        self.time_limit = time_limit
        self.metric = metric
        self.families = families
        self.max_trials = max_trials
        self.n_folds = n_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y):
        """Search, cross-validate and ensemble models of ``y`` on ``X`` within ``time_limit``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Training features; NaN is allowed.
        y : array-like of shape (n_samples,)
            Target values (class labels for :class:`AutoClassifier`).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        y = validate_data(self, y=y, y_numeric=isinstance(self, RegressorMixin))
        frame = self._frame(X, reset=True)
        check_consistent_length(frame, y)
        target, task = self._encode_target(y)
        target_name = TARGET
        while target_name in frame.columns:
            target_name += "_"
        data = frame.assign(**{target_name: target})
        seed = self.random_state
        if not isinstance(seed, numbers.Integral):  # None or a RandomState: draw a seed
            seed = check_random_state(seed).randint(np.iinfo(np.int32).max)
        self.result_ = api.fit(
            data, target=target_name, task=task, metric=self.metric, time_limit=self.time_limit,
            seed=int(seed), n_jobs=self.n_jobs, families=self.families,
            max_trials=self.max_trials, n_folds=self.n_folds,
            review=False,  # no report here: the review's share of the budget goes to the search
        )
        return self

    @property
    def leaderboard_(self) -> pd.DataFrame:
        """Every trial of the fit: family, parameters, CV score, fit and prediction time."""
        check_is_fitted(self, "result_")
        return self.result_.leaderboard

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _frame(self, X, *, reset: bool) -> pd.DataFrame:
        """Validate ``X`` and return it as a DataFrame (set or check the fitted features)."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if any(pd.api.types.is_complex_dtype(dtype) for dtype in X.dtypes):
                raise DataError("Complex data not supported; convert the complex columns of X "
                                "to real numbers (e.g. their real and imaginary parts).")
            return X
        X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan")
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])

    def _output(self, X) -> np.ndarray:
        check_is_fitted(self, "result_")
        return self.result_.pipeline.predict_output(self._frame(X, reset=False))


class AutoClassifier(ClassifierMixin, _AutoEstimator):
    """AutoML classifier: :func:`mlexpert.fit` as a scikit-learn estimator.

    Parameters
    ----------
    time_limit : float or str, default=60
        Budget for the whole fit, in seconds or as ``"5m"``, ``"1h"``.
    metric : str, default=None
        Validation metric; roc_auc (binary) or log_loss (multiclass) when None.
    families : tuple of str, default=None
        Model families to search (e.g. ``("lightgbm", "linear")``); all available when None.
    max_trials : int, default=None
        Stop the search after this many trials even if time is left.
    n_folds : int, default=5
        Cross-validation folds.
    random_state : int, RandomState instance or None, default=0
        Seed of the folds and the search (passed to :func:`mlexpert.fit` as ``seed``).
    n_jobs : int, default=-1
        Threads; -1 uses every core.

    Attributes
    ----------
    result_ : FitResult
        The fitted model with its leaderboard and manifest.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit``, when ``X`` had string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlexpert import AutoClassifier
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = AutoClassifier(time_limit=10, max_trials=1, families=("linear",)).fit(X, y)
    >>> clf.predict(X.head(2)).tolist()
    [0, 0]
    """

    def _encode_target(self, y):
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            label = self.classes_.tolist()[0]
            raise DataError(f"{type(self).__name__} needs at least 2 classes in y; got 1 class "
                            f"({label!r}). Check the target or the rows selected.")
        return codes, "binary" if len(self.classes_) == 2 else "multiclass"

    def predict(self, X) -> np.ndarray:
        """Predicted class labels, with the labels and dtype of the ``y`` seen in ``fit``."""
        proba = self._output(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order."""
        return np.asarray(self._output(X), dtype=float)


class AutoRegressor(RegressorMixin, _AutoEstimator):
    """AutoML regressor: :func:`mlexpert.fit` as a scikit-learn estimator.

    Parameters
    ----------
    time_limit, metric, families, max_trials, n_folds, random_state, n_jobs
        As for :class:`AutoClassifier`; the default metric is rmse.

    Attributes
    ----------
    result_ : FitResult
        The fitted model with its leaderboard and manifest.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit``, when ``X`` had string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from mlexpert import AutoRegressor
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> reg = AutoRegressor(time_limit=10, max_trials=1, families=("linear",)).fit(X, y)
    >>> reg.predict(X.head(2)).shape
    (2,)
    """

    def _encode_target(self, y):
        return np.asarray(y, dtype=float), "regression"

    def predict(self, X) -> np.ndarray:
        """Predicted values, shape (n_samples,)."""
        return np.asarray(self._output(X), dtype=float)
