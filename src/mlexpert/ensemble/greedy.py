"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold outputs.

Models are added one at a time, with replacement, each time picking the one that most
lowers the loss of the averaged output; the weights are the selection counts. On small
tables the selection is bagged: repeated on bootstrap resamples of the rows, weights
averaged (Caruana et al. 2006), because one pass over a few hundred out-of-fold rows fits
their noise.
"""

from __future__ import annotations

import time
import warnings
from typing import Callable

import numpy as np

from ..evaluation.metrics import Metric

MAX_ROWS = 20_000
BAGS = 20  # bootstrap resamples in a bagged selection
BAG_MAX_ROWS = 5_000  # bag the selection on tables up to this many out-of-fold rows


def greedy_selection(outputs: list[np.ndarray], y: np.ndarray, metric: Metric, *,
                     n_iterations: int = 40, seed: int = 0,
                     deadline: float | None = None,
                     allowed: Callable[[set[int], int], bool] | None = None,
                     ) -> tuple[np.ndarray, float]:
    """Weights (summing to 1) for ``outputs`` and the loss of the weighted average.

    Rows are subsampled to :data:`MAX_ROWS` so selection stays fast on big data; past
    ``deadline`` (a :func:`time.monotonic` value) no further iteration starts.
    ``allowed(chosen, i)`` says whether output ``i`` may join the chosen set (a latency
    cap); outputs already chosen can always gain weight. The first output must be allowed
    alone.
    """
    if len(y) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(y), MAX_ROWS, replace=False)
        y = y[rows]
        outputs = [o[rows] for o in outputs]
    counts = np.zeros(len(outputs))
    total = np.zeros_like(outputs[0], dtype=float)
    best_loss, best_counts = np.inf, counts.copy()
    for step in range(n_iterations):
        if deadline is not None and step > 0 and time.monotonic() > deadline:
            break
        chosen = set(np.flatnonzero(counts).tolist())
        losses = [metric.fast_loss(y, (total + o) / (step + 1))
                  if allowed is None or i in chosen or allowed(chosen, i) else np.inf
                  for i, o in enumerate(outputs)]
        pick = int(np.argmin(losses))
        if not np.isfinite(losses[pick]) and step == 0:
            pick = 0  # nothing allowed or every loss infinite: the first output alone
        counts[pick] += 1
        total += outputs[pick]
        if losses[pick] < best_loss - 1e-12:
            best_loss, best_counts = losses[pick], counts.copy()
    if best_counts.sum() == 0:
        best_counts[0] = 1.0
    return best_counts / best_counts.sum(), float(best_loss)


def bagged_selection(outputs: list[np.ndarray], y: np.ndarray, metric: Metric, *,
                     n_bags: int = BAGS, seed: int = 0,
                     deadline: float | None = None) -> tuple[np.ndarray, float]:
    """:func:`greedy_selection` on ``n_bags`` bootstrap resamples of the rows, weights
    averaged; returns them and the loss of the weighted average on all rows.

    Averaging spreads weight over the models that win on most resamples instead of the
    ones that fit one sample's noise. Past ``deadline`` no further resample starts; a
    resample on which the metric is undefined (a class missing from it) is skipped.
    """
    rng = np.random.default_rng(seed)
    n, total = len(y), np.zeros(len(outputs))
    for bag in range(n_bags):
        if deadline is not None and bag > 0 and time.monotonic() > deadline:
            break
        rows = rng.integers(0, n, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a metric undefined on this resample
            try:
                if not np.isfinite(metric.fast_loss(y[rows], outputs[0][rows])):
                    continue
                weights, _ = greedy_selection([o[rows] for o in outputs], y[rows], metric,
                                              seed=seed, deadline=deadline)
            except ValueError:
                continue
        total += weights
    if total.sum() == 0:  # no resample could be scored
        return greedy_selection(outputs, y, metric, seed=seed, deadline=deadline)
    total /= total.sum()
    blended = sum(w * o for w, o in zip(total, outputs) if w > 0)
    return total, float(metric.fast_loss(y, blended))
