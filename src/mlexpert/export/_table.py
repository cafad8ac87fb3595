"""A fitted ``TablePreprocessor`` as ONNX ops: its blocks in the order ``_assemble`` uses.

For every profile but ``embedding`` the result is one float32 matrix (n, d) whose columns
are those of the Python output (for the ``native`` frame, a category is its code, NaN when
unseen, which is how LightGBM and XGBoost read pandas categoricals). For ``embedding``:
``{"num": float32 (n, d) or None, "cat": int64 codes (n, c) or None}``.
"""

from __future__ import annotations

from ..features.table import PROFILES
from ._categorical import category_part
from ._numeric import numeric_part

KIND_ORDER = ("categorical", "high_cardinality")


def encode_table(g, pp, inputs: dict[str, str]):
    """Encode the graph ``inputs`` (by column name) as ``pp.transform`` would."""
    if pp.text_ is not None:
        raise ValueError("text columns have no ONNX conversion")
    numeric = numeric_part(g, pp, inputs)
    parts = {}
    for kind in KIND_ORDER:
        if kind in pp.categorical_:
            block = pp.categorical_[kind]
            parts[kind] = category_part(g, block, [inputs[c] for c in block.columns_])
    if PROFILES[pp.profile]["output"] == "embedding":
        codes = [parts[k] for k in KIND_ORDER if k in parts]
        return {"num": numeric, "cat": g.concat(codes) if codes else None}
    blocks = ([numeric] if numeric is not None else []) + [
        g.cast(parts[k], "float") if pp.categorical_[k].mode == "category" else parts[k]
        for k in KIND_ORDER if k in parts]
    return g.concat(blocks)
