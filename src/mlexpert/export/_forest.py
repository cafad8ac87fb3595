"""scikit-learn random forests and extra trees.

One TreeEnsemble finds each tree's leaf (its output has one column per tree holding a row
number); a Gather then reads every leaf's ``tree_.value`` (the class fractions the tree's
``predict_proba`` returns, or its prediction), and the trees are averaged. So a multiclass
forest is stored once, not once per class.
"""

from __future__ import annotations

import numpy as np

from ._outputs import align_classes, as_probabilities
from ._trees import TreeBuilder, preorder


def problem(model) -> str | None:
    est = model["model"]
    if getattr(est, "n_outputs_", 1) != 1:
        return "multi-output forests have no ONNX conversion here"
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of the forest families' ``predict`` for float32 features ``x`` (n, d)."""
    est = model["model"]
    classification = task.kind != "regression"
    builder = TreeBuilder(n_targets=len(est.estimators_))
    table = []
    for t, tree in enumerate(est.estimators_):
        builder.add_tree(_tree(builder, tree.tree_, t, table))
    leaves = g.cast(builder.emit(g, g.cast(x, "double"), hint="forest"), "int64")
    values = g.op("Gather", g.const(np.asarray(table, dtype=np.float64)), leaves, axis=0)
    mean = g.op("Div", g.op("ReduceSum", values, g.const(np.array([1], dtype=np.int64)), keepdims=0),
                g.const(float(len(est.estimators_))))
    if not classification:
        return g.op("Squeeze", mean, g.const(np.array([1], dtype=np.int64)))
    n_classes = model["n_classes"]
    return as_probabilities(g, align_classes(g, mean, est.classes_, n_classes), n_classes)


def _tree(b: TreeBuilder, tree, t: int, table: list) -> int:
    """The tree's splits; each leaf appends its value row to ``table`` and outputs that
    row's number for target ``t``."""
    left, right = tree.children_left, tree.children_right
    missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=bool))
    ids: dict[int, int] = {}
    for i in reversed(preorder(left, right)):
        if left[i] == -1:
            ids[i] = b.leaf(float(len(table)), t)
            table.append(tree.value[i, 0, :])
        else:
            ids[i] = b.split(tree.feature[i], "leq", float(tree.threshold[i]),
                             missing_true=bool(missing_left[i]), true=ids[left[i]], false=ids[right[i]])
    return ids[0]
