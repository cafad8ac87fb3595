"""Turning raw scores into the outputs ``ModelFamily.predict`` returns, in ONNX ops.

Mirrors :func:`mlexpert.models._base.as_probabilities` and ``align_classes`` step by step
(same operations, same order), so the exported probabilities match to rounding.
"""

from __future__ import annotations

import numpy as np


def as_probabilities(g, p: str, n_classes: int, *, positive: bool = False) -> str:
    """(n,) positive-class probabilities (``positive=True``) or (n, k) scores, clipped to
    [0, 1] and renormalised per row (uniform when a row sums to 0)."""
    if positive:
        p = g.concat([g.op("Sub", g.const(1.0), p), p])
    p = g.op("Clip", p, g.const(0.0), g.const(1.0))
    total = g.op("ReduceSum", p, g.const(np.array([1], dtype=np.int64)), keepdims=1)
    ratio = g.op("Div", p, total)
    return g.where(g.op("Greater", total, g.const(0.0)), ratio, g.const(1.0 / n_classes))


def align_classes(g, proba: str, present, n_classes: int) -> str:
    """Spread (n, len(present)) probabilities into (n, n_classes) columns (absent ones 0)."""
    present = np.asarray(present, dtype=int)
    if len(present) == n_classes:
        return proba
    spread = np.zeros((len(present), n_classes))
    spread[np.arange(len(present)), present] = 1.0
    return g.op("MatMul", proba, g.const(spread))


def first(g, x: str) -> str:
    """Column 0 of a 2-D tensor, kept 2-D (n, 1)."""
    return g.column(x, 0)


def flatten(g, x: str) -> str:
    """(n, 1) to (n,)."""
    return g.op("Squeeze", x, g.const(np.array([1], dtype=np.int64)))


def softmax(g, scores: str) -> str:
    return g.op("Softmax", scores, axis=1)


def sigmoid(g, scores: str) -> str:
    return g.op("Sigmoid", scores)
