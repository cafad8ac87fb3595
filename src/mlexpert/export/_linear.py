"""Logistic regression and ridge: the decision function in double precision, as
scikit-learn computes it from float32 features and float64 coefficients."""

from __future__ import annotations

import numpy as np

from ._outputs import align_classes, as_probabilities, sigmoid, softmax


def problem(model) -> str | None:
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of ``LinearFamily.predict`` for float32 features ``x`` (n, d)."""
    est = model["model"]
    coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
    scores = g.op("Add", g.op("MatMul", g.cast(x, "double"), g.const(coef.T)),
                  g.const(np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))[None, :]))
    if task.kind == "regression":
        values = g.op("Squeeze", scores, g.const(np.array([1], dtype=np.int64)))
        return g.op("Add", g.op("Mul", values, g.const(float(model["scale"]))),
                    g.const(float(model["center"])))
    n_classes = model["n_classes"]
    if coef.shape[0] == 1:  # two classes: expit of the one decision
        p = sigmoid(g, scores)
        proba = g.concat([g.op("Sub", g.const(1.0), p), p])
    else:
        proba = softmax(g, scores)
    return as_probabilities(g, align_classes(g, proba, est.classes_, n_classes), n_classes)
