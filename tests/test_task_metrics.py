import numpy as np
import pandas as pd
import pytest

from mlexpert.evaluation.metrics import METRICS, get_metric
from mlexpert.exceptions import DataError, InvalidParameterError
from mlexpert.task import Task, infer_task


@pytest.mark.parametrize("values, kind", [
    (["a", "b", "a"], "binary"),
    ([0, 1, 1, 0], "binary"),
    (["x", "y", "z", "x"], "multiclass"),
    ([1, 2, 3, 4, 5, 1], "multiclass"),
    ([0.5, 1.2, 3.3, 4.1], "regression"),
    (list(range(50)), "regression"),
])
def test_infer_task(values, kind):
    assert infer_task(pd.Series(values, name="y")).kind == kind


def test_task_override_and_errors():
    y = pd.Series([1, 2, 3, 4, 1, 2], name="y")
    assert infer_task(y, "regression").kind == "regression"
    with pytest.raises(DataError, match="single class"):
        infer_task(pd.Series(["a", "a"], name="y"))
    with pytest.raises(DataError, match="is not numeric, so it cannot be a regression target"):
        infer_task(pd.Series(["a", "b", "c"], name="y"), "regression")
    with pytest.raises(InvalidParameterError, match="The 'task' parameter must be one of"):
        infer_task(y, "ranking")


def test_encode_decode_round_trip():
    y = pd.Series(["no", "yes", "yes", "no"], name="y")
    task = infer_task(y)
    assert task.classes == ("no", "yes")
    codes = task.encode(y)
    assert codes.tolist() == [0, 1, 1, 0]
    assert task.decode(codes).tolist() == y.tolist()
    assert Task.from_dict(task.to_dict()) == task


def test_metric_values_and_direction():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert get_metric("roc_auc", "binary").score(y, p) == pytest.approx(0.75)
    assert get_metric("accuracy", "binary").score(y, p) == pytest.approx(0.75)
    auc = get_metric(None, "binary")
    assert auc.name == "roc_auc" and auc.loss(y, p) == pytest.approx(-0.75)
    rmse = get_metric(None, "regression")
    assert rmse.score(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == pytest.approx(2 ** 0.5)
    assert get_metric(None, "multiclass").name == "log_loss"
    assert set(METRICS) >= {"accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc",
                            "log_loss", "rmse", "mae", "r2", "mape"}


def test_metric_errors():
    with pytest.raises(InvalidParameterError, match="The 'metric' parameter must be one of"):
        get_metric("auc_pr", "binary")
    with pytest.raises(InvalidParameterError, match="The metric 'rmse' does not apply to a binary task"):
        get_metric("rmse", "binary")


@pytest.mark.parametrize("task,name,k", [("binary", "roc_auc", 2), ("binary", "log_loss", 2),
                                         ("multiclass", "log_loss", 4), ("multiclass", "roc_auc", 3),
                                         ("regression", "rmse", 0), ("regression", "mae", 0)])
def test_fast_loss_equals_the_checked_loss(task, name, k):
    """The numpy path used in ensemble selection gives scikit-learn's value, ties and
    extreme probabilities included."""
    from mlexpert.evaluation.metrics import get_metric

    metric = get_metric(name, task)
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(10, 300))
        if not k:
            y = rng.normal(size=n)
            out = y + rng.normal(size=n)
        else:
            y = np.r_[np.arange(k), rng.integers(0, k, n - k)]
            out = rng.dirichlet(np.ones(k), n)
            if name != "roc_auc" or k == 2:
                out = np.round(out, 1) if trial % 2 else out  # ties; rows that sum to ~1
                out[0] = 0.0
                out[0, 1] = 1.0  # a confident mistake on row 0 (its class is 0)
        assert metric.fast_loss(y, out) == pytest.approx(metric.loss(y, out), rel=1e-12, abs=1e-15)
