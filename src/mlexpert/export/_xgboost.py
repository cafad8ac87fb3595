"""XGBoost boosters: every tree of the saved JSON model (float32 thresholds and leaves, kept
exactly), XGBoost's split rules (``x < t`` goes left, a category in the split's set goes
right, missing follows ``default_left``) and its intercept, as one TreeEnsemble."""

from __future__ import annotations

import json

import numpy as np

from ._outputs import as_probabilities, first, flatten, sigmoid, softmax
from ._trees import TreeBuilder, preorder

_LOGISTIC = ("binary:logistic",)
_SOFTMAX = ("multi:softprob",)
_IDENTITY = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror")


def problem(model) -> str | None:
    """Why this booster cannot be exported, or None."""
    learner = json.loads(model.save_config())["learner"]
    booster = learner["gradient_booster"]["name"]
    if booster != "gbtree":
        return f"XGBoost booster {booster!r} has no ONNX conversion here (only gbtree)"
    objective = learner["objective"]["name"]
    if objective not in _LOGISTIC + _SOFTMAX + _IDENTITY:
        return f"XGBoost objective {objective!r} has no ONNX conversion here"
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of ``XGBoostFamily.predict`` for float32 features ``x`` (n, d)."""
    best = model.attr("best_iteration")
    learner = _learner(model[: int(best) + 1] if best is not None else model)
    trees = learner["gradient_booster"]["model"]["trees"]
    groups = learner["gradient_booster"]["model"]["tree_info"]
    objective = learner["objective"]["name"]
    intercept = _intercept(learner, objective)
    builder = TreeBuilder(n_targets=len(intercept))
    for tree, group in zip(trees, groups):
        builder.add_tree(_tree(builder, tree, int(group)))
    if not builder.roots:
        builder.add_tree(builder.leaf(0.0))
    margin = g.op("Add", builder.emit(g, g.cast(x, "double"), hint="xgboost"),
                  g.const(intercept[None, :]))
    if objective in _LOGISTIC:
        return as_probabilities(g, sigmoid(g, first(g, margin)), 2, positive=True)
    if objective in _SOFTMAX:
        return as_probabilities(g, softmax(g, margin), len(intercept))
    return flatten(g, first(g, margin))


def _learner(booster) -> dict:
    return json.loads(bytes(booster.save_raw("json")))["learner"]


def _intercept(learner: dict, objective: str) -> np.ndarray:
    """The base margin per output, as XGBoost computes it (float32)."""
    params = learner["learner_model_param"]
    text = params["base_score"].strip("[]")
    base = np.array([float(v) for v in text.split(",")], dtype=np.float32)
    n_outputs = max(int(params.get("num_class", "0") or 0), int(params.get("num_target", "1") or 1), 1)
    if base.size == 1 and n_outputs > 1:
        base = np.repeat(base, n_outputs)
    if objective in _LOGISTIC:  # stored as a probability
        base = -np.log(np.float32(1.0) / base - np.float32(1.0))
    return base.astype(np.float64)


def _tree(b: TreeBuilder, tree: dict, group: int) -> int:
    left, right = tree["left_children"], tree["right_children"]
    feature, condition = tree["split_indices"], tree["split_conditions"]
    default_left, split_type = tree["default_left"], tree.get("split_type", [])
    sets = {node: tree["categories"][start:start + size] for node, start, size in zip(
        tree.get("categories_nodes", []), tree.get("categories_segments", []),
        tree.get("categories_sizes", []))}
    ids: dict[int, int] = {}
    for i in reversed(preorder(left, right)):  # children before their parents
        if left[i] == -1:
            ids[i] = b.leaf(float(np.float32(condition[i])), group)
        elif split_type and split_type[i] == 1:  # categorical: in the set goes right
            ids[i] = b.split(feature[i], "member", sets[i], missing_true=not default_left[i],
                             true=ids[right[i]], false=ids[left[i]])
        else:
            ids[i] = b.split(feature[i], "lt", float(np.float32(condition[i])),
                             missing_true=bool(default_left[i]), true=ids[left[i]], false=ids[right[i]])
    return ids[0]
