"""k-nearest neighbours (Euclidean): the training rows are stored in the graph; squared
distances are expanded as scikit-learn's brute-force search computes them
(-2 x.y + |x|^2 + |y|^2, in double), ``TopK`` picks the neighbours (ties: lower row first),
then the votes or the mean are weighted as ``KNeighbors*.predict*`` weight them."""

from __future__ import annotations

import numpy as np

from ._outputs import align_classes, as_probabilities


def problem(model) -> str | None:
    est = model["model"]
    metric = est.effective_metric_
    p = est.effective_metric_params_.get("p")
    if metric != "euclidean" and not (metric == "minkowski" and p == 2):
        return (f"k-nearest neighbours with the {metric!r} distance has no ONNX conversion "
                "here (only Euclidean)")
    if callable(est.weights):
        return "k-nearest neighbours with custom weights has no ONNX conversion"
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of ``KNeighborsFamily.predict`` for float32 features ``x`` (n, d)."""
    est = model["model"]
    train = np.asarray(est._fit_X, dtype=np.float32)
    k = int(est.n_neighbors)
    xd = g.cast(x, "double")
    axis1 = g.const(np.array([1], dtype=np.int64))
    x_norm = g.op("ReduceSum", g.op("Mul", xd, xd), axis1, keepdims=1)
    t64 = train.astype(np.float64)
    middle = g.op("Mul", g.op("MatMul", xd, g.cast(g.const(train.T.copy()), "double")), g.const(-2.0))
    sq = g.op("Add", g.op("Add", middle, x_norm), g.const((t64 * t64).sum(axis=1)[None, :]))
    sq = g.op("Max", sq, g.const(0.0))
    nearest, index = g.op("TopK", sq, g.const(np.array([k], dtype=np.int64)), outputs=2,
                          axis=1, largest=0, sorted=1)
    weights = _weights(g, g.op("Sqrt", nearest), est.weights)
    targets = np.asarray(est._y)
    if task.kind == "regression":
        y = g.op("Gather", g.const(targets.astype(np.float64)), index, axis=0)  # (n, k)
        total = g.op("ReduceSum", g.op("Mul", y, weights), axis1, keepdims=0)
        return g.op("Div", total, g.op("ReduceSum", weights, axis1, keepdims=0))
    n_present = len(est.classes_)
    labels = g.op("Gather", g.const(targets.astype(np.int64)), index, axis=0)  # (n, k)
    votes = g.op("Equal", g.op("Unsqueeze", labels, g.const(np.array([2], dtype=np.int64))),
                 g.const(np.arange(n_present, dtype=np.int64)[None, None, :]))
    weighted = g.op("Mul", g.cast(votes, "double"),
                    g.op("Unsqueeze", weights, g.const(np.array([2], dtype=np.int64))))
    proba = g.op("ReduceSum", weighted, axis1, keepdims=0)  # (n, classes)
    total = g.op("ReduceSum", proba, axis1, keepdims=1)
    proba = g.op("Div", proba, g.where(g.op("Equal", total, g.const(0.0)), g.const(1.0), total))
    n_classes = model["n_classes"]
    return as_probabilities(g, align_classes(g, proba, est.classes_, n_classes), n_classes)


def _weights(g, distance: str, kind: str) -> str:
    """Neighbour weights (n, k): ones, or 1/distance where a row with an exact match
    (1/distance infinite) gives those neighbours weight 1 and the others 0."""
    if kind == "uniform":
        return g.op("ConstantOfShape", g.op("Shape", distance),
                    value=g.tensor(np.array([1.0], dtype=np.float64)))
    inverse = g.op("Div", g.const(1.0), distance)
    exact = g.cast(g.op("IsInf", inverse), "double")
    any_exact = g.op("ReduceMax", exact, g.const(np.array([1], dtype=np.int64)), keepdims=1)
    return g.where(g.op("Greater", any_exact, g.const(0.0)), exact, inverse)
