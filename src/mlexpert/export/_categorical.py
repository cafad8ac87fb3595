"""Categorical columns: a fitted ``CategoryBlock`` in ONNX ops, for every mode but "string".

Values are looked up with ``LabelEncoder`` (ai.onnx.ml): unseen values fall to the same
default the Python block uses (no code, frequency 0, the encoder's unknown row). The
one-hot and target encoders are read by *probing* them, so whatever scikit-learn decides
(infrequent groups, unknown values, per-class columns) is copied, not re-implemented.
"""

from __future__ import annotations

import warnings

import numpy as np

_UNSEEN = "\x00mlexpert:unseen\x00"


def category_part(g, block, inputs: list[str]) -> str:
    """The block's output for its string inputs (n, 1) each: double (n, w) for "category"
    (codes 0..K-1, NaN when unseen), int64 codes for "codes", float32 otherwise."""
    mode = block.mode
    if mode == "category":
        return g.concat([_lookup(g, x, levels, np.arange(len(levels), dtype=np.float64), np.nan)
                         for x, levels in zip(inputs, block.levels_)])
    if mode == "codes":
        return g.concat([_lookup(g, x, levels, np.arange(1, len(levels) + 1, dtype=np.int64), 0)
                         for x, levels in zip(inputs, block.levels_)])
    if mode == "ordinal":
        codes = [_lookup(g, x, levels, np.arange(1, len(levels) + 1, dtype=np.float64), -1.0)
                 for x, levels in zip(inputs, block.levels_)]
        return g.cast(g.concat(codes + _frequencies(g, block, inputs)), "float")
    if mode == "onehot":
        return _onehot(g, block, inputs)
    if mode == "target":
        return g.cast(g.concat(_target(g, block, inputs) + _frequencies(g, block, inputs)), "float")
    raise ValueError(f"category mode {mode!r} has no ONNX conversion")


def _lookup(g, x: str, keys, values: np.ndarray, default) -> str:
    """Map each string of ``x`` to ``values[keys.index(v)]``, else ``default``."""
    values = np.asarray(values)
    return g.op("LabelEncoder", x, domain="ai.onnx.ml", hint="lookup",
                keys_strings=[str(k) for k in keys],
                values_tensor=g.tensor(values),
                default_tensor=g.tensor(np.asarray([default], dtype=values.dtype)))


def _frequencies(g, block, inputs: list[str]) -> list[str]:
    out = []
    for x, freq in zip(inputs, block.frequency_):
        out.append(_lookup(g, x, list(freq), np.asarray(list(freq.values()), dtype=np.float64), 0.0))
    return out


def _owners(encoder) -> list[int]:
    """The input feature behind each output column (names are "x{j}" or "x{j}_{suffix}")."""
    return [int(str(n).split("_", 1)[0][1:]) for n in encoder.get_feature_names_out()]


def _probe(encoder, j: int) -> tuple[list, np.ndarray]:
    """Encoder outputs for every known value of feature j, then for an unseen value."""
    categories = encoder.categories_
    values = [str(v) for v in categories[j]]
    if _UNSEEN in values:  # pragma: no cover - a value nobody writes
        raise ValueError("a category equals the unseen-value probe")
    rows = [[v if k == j else str(categories[k][0]) for k in range(len(categories))]
            for v in values + [_UNSEEN]]
    with warnings.catch_warnings():  # "unknown categories ... encoded as all zeros"
        warnings.simplefilter("ignore")
        out = encoder.transform(np.array(rows, dtype=object))
    out = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
    return values, out


def _onehot(g, block, inputs: list[str]) -> str:
    encoder = block.encoder_
    owners = np.asarray(_owners(encoder))
    width = len(owners)
    indices = []
    for j, x in enumerate(inputs):
        values, out = _probe(encoder, j)
        mine = np.flatnonzero(owners == j)
        hot = out[:, mine]
        column = np.where(hot.sum(axis=1) > 0, mine[hot.argmax(axis=1)], -1).astype(np.int64)
        indices.append(_lookup(g, x, values, column[:-1], int(column[-1])))
    idx = g.op("Unsqueeze", g.concat(indices), g.const(np.array([2], dtype=np.int64)))
    hits = g.op("Equal", idx, g.const(np.arange(width, dtype=np.int64)[None, None, :]))
    return g.op("ReduceSum", g.cast(hits, "float"), g.const(np.array([1], dtype=np.int64)),
                keepdims=0)


def _target(g, block, inputs: list[str]) -> list[str]:
    encoder = block.encoder_
    owners = np.asarray(_owners(encoder))
    parts = []
    for j, x in enumerate(inputs):
        values, out = _probe(encoder, j)
        table = np.asarray(out[:, owners == j], dtype=np.float64)  # (known + unseen, classes)
        row = _lookup(g, x, values, np.arange(len(values), dtype=np.int64), len(values))
        gathered = g.op("Gather", g.const(table), row, axis=0)  # (n, 1, classes)
        parts.append(g.op("Squeeze", gathered, g.const(np.array([1], dtype=np.int64))))
    return parts
