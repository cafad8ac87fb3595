"""Partial dependence: the model's average output as one column is set to each of a grid
of values on every row of a sample (numeric: quantiles; categorical: the commonest values)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

GRID = 16  # numeric grid points (quantiles 2.5%..97.5%)
TOP_CATEGORIES = 12


def grid_for(column: pd.Series, kind: str) -> list:
    """The values to try for a column of the given schema kind."""
    values = column.dropna()
    if values.empty:
        return []
    if kind == "numeric" and values.nunique() > GRID:
        grid = np.unique(np.quantile(values.astype(float), np.linspace(0.025, 0.975, GRID)))
        if pd.api.types.is_integer_dtype(values.dtype):
            return [int(v) for v in np.unique(np.round(grid))]
        return [float(v) for v in grid]
    if kind == "numeric":
        return sorted(float(v) for v in values.unique())
    counts = values.astype(str).value_counts()
    keep = set(counts.index[:TOP_CATEGORIES])
    return [v for v in pd.unique(values) if str(v) in keep][:TOP_CATEGORIES]


def partial_dependence(predict_output: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame,
                       feature: str, kind: str, *, classes: tuple = ()) -> dict | None:
    """Average output over ``X`` with ``feature`` set to each grid value, or None if no grid.

    Binary: P(second class); multiclass: one curve per class; regression: the value.
    """
    grid = grid_for(X[feature], kind)
    if len(grid) < 2:
        return None
    X = X.reset_index(drop=True)
    frames = []
    for value in grid:
        copy = X.copy()
        copy[feature] = _filled(value, len(X), X[feature].dtype)
        frames.append(copy)
    output = predict_output(pd.concat(frames, ignore_index=True))
    means = np.array([output[i * len(X):(i + 1) * len(X)].mean(axis=0) for i in range(len(grid))])
    if output.ndim == 1:
        average = [round(float(v), 6) for v in means]
    elif output.shape[1] == 2:
        average = [round(float(v), 6) for v in means[:, 1]]
    else:
        average = {str(c): [round(float(v), 6) for v in means[:, j]] for j, c in enumerate(classes)}
    return {"feature": feature, "kind": "numeric" if kind == "numeric" else "categorical",
            "grid": [_jsonable(v) for v in grid], "average": average}


def _filled(value, n: int, dtype) -> pd.Series:
    """``n`` copies of ``value`` in the column's dtype when it holds it (an integer column
    given a fractional quantile becomes float)."""
    try:
        return pd.Series([value] * n, dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series([value] * n)


def _jsonable(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
