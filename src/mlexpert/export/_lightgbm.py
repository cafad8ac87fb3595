"""LightGBM boosters: every tree from ``dump_model`` (thresholds are exact doubles), with
LightGBM's missing-value rules and category sets, as one double-precision TreeEnsemble."""

from __future__ import annotations

import numpy as np

from ._outputs import as_probabilities, first, flatten, sigmoid, softmax
from ._trees import TreeBuilder

ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold: |x| <= it counts as zero
_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")


def problem(model) -> str | None:
    """Why this booster cannot be exported, or None."""
    header = model.model_to_string(num_iteration=1)
    objective = next((line.split("=", 1)[1].split()[0] for line in header.splitlines()
                      if line.startswith("objective=")), "unknown")
    if objective not in _IDENTITY + ("binary", "multiclass"):
        return f"LightGBM objective {objective!r} has no ONNX conversion here"
    if "is_linear=1" in header:
        return "LightGBM linear trees have no ONNX conversion here"
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of ``LightGBMFamily.predict`` for float32 features ``x`` (n, d)."""
    dump = model.dump_model(num_iteration=_iterations(model))
    per_round = int(dump["num_tree_per_iteration"])
    zero = sorted({f for info in dump["tree_info"] for f in _zero_features(info["tree_structure"])})
    width = int(dump["max_feature_idx"]) + 1
    moved = {f: width + k for k, f in enumerate(zero)}  # where each "Zero"-type feature is copied
    builder = TreeBuilder(n_targets=per_round)
    bias = np.zeros(per_round)
    for i, info in enumerate(dump["tree_info"]):
        root = info["tree_structure"]
        if "leaf_value" in root:  # a tree without splits adds a constant
            bias[i % per_round] += root["leaf_value"]
        else:
            builder.add_tree(_node(builder, root, i % per_round, moved))
    if not builder.roots:
        builder.add_tree(builder.leaf(0.0))
    raw = builder.emit(g, _with_zero_as_missing(g, g.cast(x, "double"), zero), hint="lightgbm")
    if bias.any():
        raw = g.op("Add", raw, g.const(bias[None, :]))
    if dump.get("average_output"):
        raw = g.op("Div", raw, g.const(float(max(len(dump["tree_info"]) // per_round, 1))))
    objective = dump["objective"].split()
    if objective[0] == "binary":
        scale = next((float(p.split(":")[1]) for p in objective if p.startswith("sigmoid:")), 1.0)
        p = sigmoid(g, g.op("Mul", first(g, raw), g.const(scale)))
        return as_probabilities(g, p, 2, positive=True)
    if objective[0] == "multiclass":
        return as_probabilities(g, softmax(g, raw), per_round)
    return flatten(g, first(g, raw))


def _node(b: TreeBuilder, node: dict, target: int, moved: dict[int, int]) -> int:
    if "leaf_value" in node:
        return b.leaf(node["leaf_value"], target)
    left = _node(b, node["left_child"], target, moved)
    right = _node(b, node["right_child"], target, moved)
    f = node["split_feature"]
    if node["decision_type"] == "==":  # category codes in the set go left; NaN goes right
        members = [int(v) for v in str(node["threshold"]).split("||")]
        return b.split(f, "member", members, missing_true=False, true=left, false=right)
    threshold = float(node["threshold"])
    missing = node["missing_type"]
    if missing == "NaN":
        return b.split(f, "leq", threshold, missing_true=node["default_left"], true=left, false=right)
    if missing == "None":  # NaN is read as 0.0
        return b.split(f, "leq", threshold, missing_true=0.0 <= threshold, true=left, false=right)
    # "Zero": zeros and NaN take the default side; the copied column holds NaN for both
    return b.split(moved[f], "leq", threshold, missing_true=node["default_left"], true=left,
                   false=right)


def _zero_features(node: dict) -> set[int]:
    """Features split with LightGBM's "Zero" missing type (|x| <= 1e-35 counts as missing)."""
    if "leaf_value" in node:
        return set()
    found = {node["split_feature"]} if node.get("missing_type") == "Zero" and \
        node["decision_type"] != "==" else set()
    return found | _zero_features(node["left_child"]) | _zero_features(node["right_child"])


def _with_zero_as_missing(g, x: str, features: list[int]) -> str:
    """``x`` plus a copy of each of ``features`` where zeros (and NaN) read as NaN."""
    if not features:
        return x
    copy = g.columns(x, features)
    copy = g.where(g.op("LessOrEqual", g.op("Abs", copy), g.const(ZERO)), g.const(np.nan), copy)
    return g.concat([x, copy])


def _iterations(model) -> int | None:
    """The iterations ``LightGBMFamily.predict`` uses: the best one when known, else all."""
    return max(int(model.best_iteration or 0), 0) or None

