"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold outputs.

Models are added one at a time, with replacement, each time picking the one that most
lowers the loss of the averaged output; the weights are the selection counts.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..evaluation.metrics import Metric

MAX_ROWS = 20_000


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
        losses = [metric.loss(y, (total + o) / (step + 1))
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
