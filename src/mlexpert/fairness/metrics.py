"""Per-group metrics and between-group differences, computed with fairlearn.

``pred`` is the decision: 0/1 for binary (positive = class index 1), the class index for
multiclass, the predicted value for regression. fairlearn evaluates metrics in Python row
by row, so identical (group, target, decision) rows are first merged into one weighted row
(exact: every metric here takes ``sample_weight``), which makes classification tables cost
the same on a million rows as on a thousand. Gaps use only the ``compared`` groups.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
from fairlearn import metrics as fm
from sklearn import metrics as skm


def compress(y, pred, labels) -> pd.DataFrame:
    """Columns ``group``, ``y``, ``pred``, ``weight``: one row per distinct triple."""
    rows = pd.DataFrame({"group": labels, "y": y, "pred": pred})
    return rows.value_counts(sort=False).rename("weight").reset_index()


def group_table(task: str, rows: pd.DataFrame, order, classes: tuple = ()) -> tuple[pd.DataFrame, pd.Series]:
    """Metrics per group (in ``order``) and overall, from one fairlearn MetricFrame.

    Returns
    -------
    by_group : pandas.DataFrame
        One row per group label, one column per metric, ``n`` and ``share`` first.
    overall : pandas.Series
        The same metrics on all rows.
    """
    metrics = {"binary": _binary_metrics, "multiclass": partial(_multiclass_metrics, classes),
               "regression": _regression_metrics}[task]()
    weight = rows["weight"].to_numpy(dtype=float)
    with warnings.catch_warnings():  # sklearn's undefined-metric warnings; such rates are masked
        warnings.simplefilter("ignore", UserWarning)
        frame = fm.MetricFrame(metrics=metrics, y_true=rows["y"].to_numpy(), y_pred=rows["pred"].to_numpy(),
                               sensitive_features=rows["group"].rename("group"),
                               sample_params={name: {"sample_weight": weight} for name in metrics})
    by_group = frame.by_group.reindex(list(order)).astype(float)
    overall = frame.overall.astype(float)
    for table in (by_group, overall):
        table["share"] = table["n"] / weight.sum()
        if task == "binary":
            _complete_binary(table)
        if task != "regression":
            table["error_rate"] = 1 - table["accuracy"]
    first = ["n", "share"]
    by_group = by_group[first + [c for c in by_group.columns if c not in first]]
    return by_group, overall[by_group.columns]


def differences(task: str, rows: pd.DataFrame, table: pd.DataFrame, overall: pd.Series,
                compared: list[str], min_rows: int) -> dict:
    """Between-group gaps over the ``compared`` groups (NaN where fewer than two qualify)."""
    sub = table.loc[compared]
    if task == "binary":
        return _binary_differences(rows, sub, compared, outcome_groups(table, compared, min_rows))
    if task == "multiclass":
        return {"accuracy_gap": _gap(sub["accuracy"]), "accuracy_ratio": _ratio(sub["accuracy"]),
                "balanced_accuracy_gap": _gap(sub["balanced_accuracy"])}
    mae, std = overall["mae"], overall["std_actual"]
    return {"mae_gap": _gap(sub["mae"]), "mae_ratio": _ratio(sub["mae"]),
            "mae_gap_relative": _gap(sub["mae"]) / mae if mae > 0 else np.nan,
            "mean_prediction_gap": _gap(sub["mean_prediction"]),
            "mean_prediction_gap_std": _gap(sub["mean_prediction"]) / std if std > 0 else np.nan,
            "mean_actual_gap_std": _gap(sub["mean_actual"]) / std if std > 0 else np.nan}


def outcome_groups(table: pd.DataFrame, compared: list[str], min_rows: int) -> list[str]:
    """Compared groups with at least ``min_rows`` actual positives and negatives (binary):
    those whose true and false positive rates are precise enough to compare."""
    positives = table.loc[compared, "n"] * table.loc[compared, "base_rate"]
    negatives = table.loc[compared, "n"] - positives
    return [g for g in compared if positives[g] >= min_rows - 1e-9 and negatives[g] >= min_rows - 1e-9]


def _binary_differences(rows: pd.DataFrame, sub: pd.DataFrame, compared: list, odds: list) -> dict:
    out = {**_parity(rows[rows["group"].isin(compared)]), "accuracy_gap": _gap(sub["accuracy"]),
           "equalized_odds_difference": np.nan, "true_positive_rate_gap": np.nan,
           "false_positive_rate_gap": np.nan}
    if len(odds) >= 2:
        part = rows[rows["group"].isin(odds)]
        out["equalized_odds_difference"] = fm.equalized_odds_difference(
            part["y"].to_numpy(), part["pred"].to_numpy(), sensitive_features=part["group"].to_numpy(),
            sample_weight=part["weight"].to_numpy(dtype=float))
        out["true_positive_rate_gap"] = _gap(sub.loc[odds, "true_positive_rate"])
        out["false_positive_rate_gap"] = _gap(sub.loc[odds, "false_positive_rate"])
    return out


def _parity(part: pd.DataFrame) -> dict:
    args = (part["y"].to_numpy(), part["pred"].to_numpy())
    kwargs = {"sensitive_features": part["group"].to_numpy(), "sample_weight": part["weight"].to_numpy(dtype=float)}
    return {"demographic_parity_difference": fm.demographic_parity_difference(*args, **kwargs),
            "demographic_parity_ratio": fm.demographic_parity_ratio(*args, **kwargs)}


def _gap(values: pd.Series) -> float:
    """Largest minus smallest group value (fairlearn's "between_groups" difference)."""
    return float(values.max() - values.min())


def _ratio(values: pd.Series) -> float:
    return float(values.min() / values.max()) if values.max() > 0 else np.nan


def _complete_binary(table) -> None:
    """Add the false negative rate; rates with an empty denominator become NaN (fairlearn gives 0)."""
    if isinstance(table, pd.DataFrame):
        table["true_positive_rate"] = table["true_positive_rate"].where(table["base_rate"] > 0)
        table["false_positive_rate"] = table["false_positive_rate"].where(table["base_rate"] < 1)
    else:
        if table["base_rate"] == 0:
            table["true_positive_rate"] = np.nan
        if table["base_rate"] == 1:
            table["false_positive_rate"] = np.nan
    table["false_negative_rate"] = 1 - table["true_positive_rate"]


def _count(y_true, y_pred, sample_weight) -> float:
    return float(np.sum(sample_weight))


def _mean_actual(y_true, y_pred, sample_weight) -> float:
    return float(np.average(y_true, weights=sample_weight))


def _std_actual(y_true, y_pred, sample_weight) -> float:
    mean = np.average(y_true, weights=sample_weight)
    return float(np.sqrt(np.average((y_true - mean) ** 2, weights=sample_weight)))


def _mae_se(y_true, y_pred, sample_weight) -> float:
    """Standard error of the MAE (private: used for the margin of error of MAE gaps)."""
    errors = np.abs(y_true - y_pred)
    mean = np.average(errors, weights=sample_weight)
    spread = np.sqrt(np.average((errors - mean) ** 2, weights=sample_weight))
    return float(spread / np.sqrt(np.sum(sample_weight)))


def _binary_metrics() -> dict:
    return {"n": _count, "selection_rate": fm.selection_rate, "base_rate": _mean_actual,
            "true_positive_rate": fm.true_positive_rate, "false_positive_rate": fm.false_positive_rate,
            "accuracy": skm.accuracy_score}


def _multiclass_metrics(classes: tuple) -> dict:
    out = {"n": _count, "accuracy": skm.accuracy_score, "balanced_accuracy": skm.balanced_accuracy_score}
    for code, label in enumerate(classes):  # share of rows predicted as each class
        out[f"selection_rate[{label}]"] = partial(fm.selection_rate, pos_label=code)
    return out


def _regression_metrics() -> dict:
    return {"n": _count, "mean_prediction": fm.mean_prediction, "mean_actual": _mean_actual,
            "std_actual": _std_actual, "mae": skm.mean_absolute_error, "rmse": skm.root_mean_squared_error,
            "_mae_se": _mae_se}
