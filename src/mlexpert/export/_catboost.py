"""CatBoost models on numeric features: the oblivious trees of the model's JSON export
(float32 borders, ``x > border`` sets a bit of the leaf index, NaN handled per feature),
expanded into ordinary trees of one double-precision TreeEnsemble.

Categorical features are not exported: CatBoost turns them into target statistics of
hashed value combinations (CTRs) that no ONNX operator reproduces (CatBoost's own ONNX
export refuses them too).
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from ._outputs import align_classes, as_probabilities, first, flatten, sigmoid, softmax
from ._trees import TreeBuilder

CATEGORICAL = ("CatBoost turns categorical columns into target statistics of hashed value "
               "combinations (CTRs), which no ONNX operator reproduces")


def problem(model) -> str | None:
    info = _json(model)
    features = info["features_info"]
    if features.get("categorical_features") or features.get("text_features") or \
            features.get("embedding_features"):
        return CATEGORICAL
    if "oblivious_trees" not in info:
        return "CatBoost non-symmetric trees have no ONNX conversion here"
    loss = model.get_all_params().get("loss_function", "")
    if loss.split(":")[0] not in ("Logloss", "MultiClass", "RMSE", "MAE", "Quantile"):
        return f"CatBoost loss {loss!r} has no ONNX conversion here"
    return None


def convert(g, model, x: str, task) -> str:
    """Outputs of ``CatBoostFamily.predict`` for float32 features ``x`` (n, d)."""
    info = _json(model)
    flat = {f["feature_index"]: f["flat_feature_index"] for f in info["features_info"]["float_features"]}
    missing_true = {f["feature_index"]: f.get("nan_value_treatment") == "AsTrue"
                    for f in info["features_info"]["float_features"]}
    scale, bias = info["scale_and_bias"]
    bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    dims = max(len(bias), 1)
    builder = TreeBuilder(n_targets=dims)
    for tree in info["oblivious_trees"]:
        splits = [(flat[s["float_feature_index"]], float(np.float32(s["border"])),
                   missing_true[s["float_feature_index"]]) for s in tree["splits"]]
        values = np.asarray(tree["leaf_values"], dtype=np.float64).reshape(-1, dims)
        for k in range(dims):
            builder.add_tree(_oblivious(builder, splits, values[:, k], k))
    raw = g.op("Add", g.op("Mul", builder.emit(g, g.cast(x, "double"), hint="catboost"),
                           g.const(float(scale))), g.const(np.resize(bias, dims)[None, :]))
    if task.kind == "regression":
        return flatten(g, first(g, raw))
    n_classes = len(model.get_param("class_names") or model.classes_)
    if task.kind == "binary":
        p = sigmoid(g, first(g, raw))
        proba = g.concat([g.op("Sub", g.const(1.0), p), p])
    else:
        proba = softmax(g, raw)
    return as_probabilities(g, align_classes(g, proba, model.classes_, n_classes), n_classes)


def _oblivious(b: TreeBuilder, splits: list, values: np.ndarray, target: int) -> int:
    """A full binary tree: split i (of depth d) decides bit i of the leaf index."""
    if not splits:
        return b.leaf(float(values[0]), target)
    level = [b.leaf(float(v), target) for v in values]  # leaf index -> node
    for depth in reversed(range(len(splits))):  # the last split is tested last (deepest)
        feature, border, nan_true = splits[depth]
        step = 1 << depth
        level = [b.split(feature, "gt", border, missing_true=nan_true,
                         true=level[i + step], false=level[i])
                 for i in range(len(level)) if not i & step]
    return level[0]


def _json(model) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        model.save_model(path, format="json")
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
