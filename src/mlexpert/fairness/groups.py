"""Sensitive columns as readable group labels: missing values form their own group and a
numeric column with many distinct values is cut into quartile bins ("25–38"); beyond the
20 largest groups of any other column, the rest are merged into "(other)"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "(missing)"
MAX_CATEGORIES = 10  # a numeric column with more distinct values is binned
N_BINS = 4
MAX_GROUPS = 20  # other columns: the largest groups, the rest merged into OTHER
OTHER = "(other)"


@dataclass(frozen=True)
class Grouping:
    """One label per row, and the display order of the labels."""

    kind: str  # "categorical" | "binned numeric"
    labels: np.ndarray
    order: tuple[str, ...]


def group_column(column: pd.Series) -> Grouping:
    """Group the rows of one sensitive column.

    Parameters
    ----------
    column : pandas.Series
        The sensitive attribute, one value per row.

    Returns
    -------
    Grouping
        Labels as strings; bins are named by the smallest and largest value they hold.
    """
    values = column.reset_index(drop=True)
    missing = values.isna().to_numpy()
    present = values[~missing]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and present.nunique() > MAX_CATEGORIES:
        kind, (names, order) = "binned numeric", _bins(present.astype(float))
    else:
        kind, (names, order) = "categorical", _categories(present, numeric)
    labels = np.full(len(values), MISSING, dtype=object)
    labels[~missing] = names
    if missing.any():
        order = (*order, MISSING)
    return Grouping(kind, labels, tuple(order))


def _bins(present: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes = pd.qcut(present, N_BINS, labels=False, duplicates="drop")
    bounds = present.groupby(codes).agg(["min", "max"]).sort_index()
    names = {code: _span(low, high) for code, (low, high) in bounds.iterrows()}
    return codes.map(names).to_numpy(dtype=object), list(names.values())


def _categories(present: pd.Series, numeric: bool) -> tuple[np.ndarray, list[str]]:
    names = present.map(format_value).astype(object).to_numpy()
    if numeric:  # numbers in their natural order, other categories largest first
        order = [format_value(v) for v in sorted(present.unique())]
    else:
        counts = pd.Series(names).value_counts()
        order = sorted(counts.index, key=lambda name: (-counts[name], name))
        if len(order) > MAX_GROUPS:
            kept = set(order[:MAX_GROUPS - 1])
            names = np.array([n if n in kept else OTHER for n in names], dtype=object)
            order = order[:MAX_GROUPS - 1] + [OTHER]
    return names, list(dict.fromkeys(order))


def _span(low: float, high: float) -> str:
    return format_value(low) if low == high else f"{format_value(low)}–{format_value(high)}"


def format_value(value) -> str:
    """A number or category as short readable text (17, 0.25, 12,300, 'Male')."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return str(value)
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value.is_integer():
        return str(int(value))
    return f"{value:.3g}"
