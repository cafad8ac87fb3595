"""Which converter handles each model family, and what stops a member from exporting."""

from __future__ import annotations

from . import _catboost, _forest, _knn, _lightgbm, _linear, _mlp, _xgboost

CONVERTERS = {
    "lightgbm": _lightgbm, "xgboost": _xgboost, "catboost": _catboost, "linear": _linear,
    "random_forest": _forest, "extra_trees": _forest, "knn": _knn, "mlp": _mlp,
}

MISMATCH_HINTS = {
    "knn": " (neighbours at exactly equal distances are ordered by floating-point rounding, "
           "which differs between scikit-learn's BLAS and onnxruntime)",
}


def member_problem(member) -> str | None:
    """Why ``member`` (all of its fold or refit models) cannot be exported, or None."""
    module = CONVERTERS.get(member.family)
    if module is None:
        return f"the {member.family!r} family has no ONNX converter"
    for model in member.models:
        reason = module.problem(model)
        if reason:
            return reason
    return None


def convert_model(g, family: str, model, features, task) -> str:
    """The model's outputs (probabilities (n, k) or values (n,), double) in graph ``g``."""
    return CONVERTERS[family].convert(g, model, features, task)
