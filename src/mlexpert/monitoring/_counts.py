"""Additive counts of one column against its reference: the reference side (built once,
into the profile) and the window side (streamed, mergeable).

Numeric-like columns are counted on a fine grid of reference percentiles (up to 99
edges), in cells below, at and between the edges (so atoms of discrete values are counted
exactly); the ~10 equal-frequency bins used for PSI and chi-square are unions of cells,
so one ``searchsorted`` serves both. The outer cells are open-ended. Categories are
counted by canonical key: the reference's most frequent ``TOP_CATEGORIES``, then
``other``, then missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._coerce import category_counts, invalid_count, numeric_values

GRID = np.arange(1, 100) / 100
BIN_SHARE = 0.1
TOP_CATEGORIES = 50
_DIGITS = 7


def numeric_reference(values: np.ndarray) -> dict:
    """Summary of a float column (NaN = missing): moments, grid and ~10 bins, with counts."""
    finite = values[~np.isnan(values)]
    entry = {"n": int(len(values)), "missing": int(len(values) - len(finite)),
             "mean": None, "std": None, "min": None, "max": None}
    grid = np.empty(0)
    if len(finite):
        lo = float(finite.min())
        entry.update(mean=float(finite.mean()), std=float(finite.std()), min=lo,
                     max=float(finite.max()))
        cuts = np.quantile(finite, GRID, method="inverted_cdf")
        grid = np.unique([lo] + [float(f"{v:.{_DIGITS}g}") for v in cuts])
        grid = grid[grid >= lo]  # the minimum is an edge: values moving off it are seen
    cells = cell_counts(finite, grid)
    bins = grid[_bin_ends(bin_counts(cells, cell_bins(grid, grid)))]
    entry["bins"] = {"edges": bins.tolist(),
                     "counts": bin_counts(cells, cell_bins(grid, bins)).tolist()}
    entry["grid"] = {"edges": grid.tolist(), "counts": cells.tolist()}
    return entry


def _bin_ends(intervals: np.ndarray) -> np.ndarray:
    """Grid edges that close ~equal-frequency bins: runs of grid intervals holding >=
    BIN_SHARE of the values each (a last run under half that joins the one before). An
    atom (a value many rows share) stays in one bin, so ties never make empty bins or
    hide the values beside them."""
    total, ends, run = intervals.sum(), [], 0
    for i, count in enumerate(intervals[:-1]):
        run += count
        if run >= BIN_SHARE * total:
            ends.append(i)
            run = 0
    if ends and run + intervals[-1] < BIN_SHARE / 2 * total:
        ends.pop()
    return np.array(ends, dtype=np.int64)


def cell_counts(finite: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the 2 * len(edges) + 1 cells: below the first edge, equal to it, between
    it and the next, equal to the next, ..., above the last edge."""
    upper = np.searchsorted(edges, finite, side="right")
    at_edge = upper > 0
    at_edge[at_edge] = finite[at_edge] == edges[upper[at_edge] - 1]
    return np.bincount(2 * upper - at_edge, minlength=2 * len(edges) + 1)


def cell_bins(grid: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """For each cell of ``grid`` (see :func:`cell_counts`), the bin ``[bins[j-1], bins[j])``
    that holds it; ``bins`` must be grid edges."""
    where = np.searchsorted(grid, bins)
    if len(bins) and (where.max() >= len(grid) or not np.array_equal(grid[where], bins)):
        raise ValueError("The profile's bin edges are not among its grid edges.")
    interval = (np.arange(2 * len(grid) + 1) + 1) // 2  # [grid[i-1], grid[i]) holds cell 2i-1, 2i
    return np.searchsorted(where, interval, side="left")


def bin_counts(cells: np.ndarray, cell_bin: np.ndarray) -> np.ndarray:
    return np.bincount(cell_bin, weights=cells, minlength=cell_bin.max() + 1).astype(np.int64)


def category_reference(col: pd.Series, kind: str) -> dict:
    """Summary of a category column: its top categories' counts, the rest, the missing."""
    counts, missing = category_counts(col, kind)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ranked[:TOP_CATEGORIES]
    return {"n": int(len(col)), "missing": missing, "n_categories": len(ranked),
            "categories": [k for k, _ in top], "counts": [c for _, c in top],
            "other": int(sum(c for _, c in ranked[TOP_CATEGORIES:]))}


class NumericCounts:
    """Window counts of a numeric-like column on its reference grid."""

    def __init__(self, reference: dict):
        self.reference = reference
        self.edges = np.asarray(reference["grid"]["edges"], dtype=float)
        self.cell_bin = cell_bins(self.edges, np.asarray(reference["bins"]["edges"], dtype=float))
        self.center = reference["mean"] or 0.0
        self.n = self.missing = self.invalid = self.absent = 0
        self.cells = np.zeros(2 * len(self.edges) + 1, dtype=np.int64)
        self.sum = self.sum_sq = 0.0

    def add(self, col: pd.Series | None, n_rows: int, values: np.ndarray | None = None) -> None:
        """Count ``col`` (``None``: the column is absent, ``n_rows`` missing values)."""
        self.n += n_rows
        if col is None and values is None:
            self.missing += n_rows
            self.absent += n_rows
            return
        if values is None:
            values = numeric_values(col, self.reference["kind"])
            self.invalid += invalid_count(col, values)
        finite = values[~np.isnan(values)]
        self.missing += n_rows - len(finite)
        self.cells += cell_counts(finite, self.edges)
        shifted = finite - self.center
        self.sum += float(shifted.sum())
        self.sum_sq += float(np.square(shifted).sum())  # not BLAS: no thread start-up

    def merge(self, other: "NumericCounts") -> None:
        for name in ("n", "missing", "invalid", "absent", "sum", "sum_sq"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cells += other.cells

    def moments(self) -> tuple[float | None, float | None]:
        present = self.n - self.missing
        if not present:
            return None, None
        mean = self.sum / present
        return mean + self.center, float(np.sqrt(max(self.sum_sq / present - mean * mean, 0.0)))

    def bins(self) -> np.ndarray:
        return bin_counts(self.cells, self.cell_bin)


class CategoryCounts:
    """Window counts of a category column on its reference's top categories."""

    def __init__(self, reference: dict):
        self.reference = reference
        self.index = {k: i for i, k in enumerate(reference["categories"])}
        self.n = self.missing = self.invalid = self.absent = 0
        self.counts = np.zeros(len(self.index) + 1, dtype=np.int64)  # last: other

    def add(self, col: pd.Series | None, n_rows: int) -> None:
        self.n += n_rows
        if col is None:
            self.missing += n_rows
            self.absent += n_rows
            return
        counts, missing = category_counts(col, self.reference["kind"])
        self.missing += missing
        other = len(self.index)
        for key, count in counts.items():
            self.counts[self.index.get(key, other)] += count

    def merge(self, other: "CategoryCounts") -> None:
        for name in ("n", "missing", "invalid", "absent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.counts += other.counts
