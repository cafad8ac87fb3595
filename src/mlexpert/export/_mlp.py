"""The PyTorch MLP, rebuilt from its saved weights with plain ONNX ops (float32, as torch
runs it): periodic numeric embeddings (cos/sin + per-feature linear), categorical
embeddings (Gather), Linear/BatchNorm/ReLU blocks (dropout is off at inference), head."""

from __future__ import annotations

import math

import numpy as np

from ._outputs import as_probabilities, softmax


def problem(model) -> str | None:
    if not model["arch"]["num"] and not model["arch"]["cards"]:
        return "an MLP without any input feature has no ONNX conversion here"
    return None


def convert(g, model, features: dict, task) -> str:
    """Outputs of ``MLPFamily.predict`` for the embedding profile's ``features``."""
    arch, state = model["arch"], model["state"]
    parts = []
    if arch["num"]:
        num = features["num"]
        parts.append(_periodic(g, num, state, arch["num"]) if arch["periodic"] else num)
    for j in range(len(arch["cards"])):
        codes = g.op("Gather", features["cat"], g.const(np.int64(j)), axis=1)  # (n,)
        weight = np.asarray(state[f"embeddings.{j}.weight"], dtype=np.float32)
        parts.append(g.op("Gather", g.const(weight), codes, axis=0))
    x = g.concat(parts)
    step = 4 if arch["batchnorm"] else 3  # Linear, [BatchNorm1d], ReLU, Dropout
    for i in range(arch["depth"]):
        x = _linear(g, x, state, f"body.{i * step}")
        if arch["batchnorm"]:
            bn = f"body.{i * step + 1}"
            x = g.op("BatchNormalization", x, *(g.const(np.asarray(state[f"{bn}.{k}"], np.float32))
                     for k in ("weight", "bias", "running_mean", "running_var")), epsilon=1e-5)
        x = g.op("Relu", x)
    out = _linear(g, x, state, "head")
    if task.kind == "regression":
        values = g.op("Squeeze", g.cast(out, "double"), g.const(np.array([1], dtype=np.int64)))
        return g.op("Add", g.op("Mul", values, g.const(float(model["y_std"]))),
                    g.const(float(model["y_mean"])))
    return as_probabilities(g, softmax(g, g.cast(out, "double")), arch["out"])


def _linear(g, x: str, state: dict, prefix: str) -> str:
    return g.op("Gemm", x, g.const(np.asarray(state[f"{prefix}.weight"], np.float32)),
                g.const(np.asarray(state[f"{prefix}.bias"], np.float32)), transB=1)


def _periodic(g, num: str, state: dict, d: int) -> str:
    """relu(einsum(cat(cos z, sin z), W) + b) with z = 2*pi*freq*x, flattened to (n, d*dim)."""
    freq = np.float32(2 * math.pi) * np.asarray(state["periodic.freq"], np.float32)  # as torch
    z = g.op("Mul", g.const(freq[None, :, :]),
             g.op("Unsqueeze", num, g.const(np.array([2], dtype=np.int64))))
    z = g.concat([g.op("Cos", z), g.op("Sin", z)], axis=2)
    weight = np.asarray(state["periodic.weight"], np.float32)  # (d, 2k, dim)
    dim = weight.shape[2]
    mixed = g.op("Einsum", z, g.const(weight),
                 equation="ndk,dke->nde")
    out = g.op("Relu", g.op("Add", mixed, g.const(np.asarray(state["periodic.bias"], np.float32)[None])))
    return g.op("Reshape", out, g.const(np.array([0, d * dim], dtype=np.int64)))
