"""The whole pipeline as one ONNX graph: inputs, preprocessing, members, weighted blend.

The graph follows ``FittedPipeline.predict_output`` step by step: each member's models
(one refit model, or k fold models) read the encoding of their own preprocessor, their
outputs are summed and divided by their count, scaled by the member's weight and added
up; ``decide`` then gives the label (at the saved threshold, for binary tasks).

Outputs: ``label`` (n,) and ``probabilities`` (n, classes) double for classification, or
``value`` (n,) double for regression.
"""

from __future__ import annotations

import json

import numpy as np

from .._version import __version__
from ..features._frame import MISSING_TOKEN
from ..models.registry import get_family
from ._families import convert_model
from ._graph import Graph, elem_type
from ._table import encode_table
from .inputs import input_types


def build_model(pipeline, *, target: str = "target"):
    """The ONNX ModelProto computing ``pipeline``'s outputs from one input per column."""
    g = Graph()
    inputs = {name: g.add_input(name, elem_type(g.onnx, kind), [None, 1])
              for name, kind in input_types(pipeline.schema).items()}
    total = _blend(g, pipeline, inputs)
    task = pipeline.task
    if task.is_classification:
        labels, label_type = _labels(task.classes)
        if task.kind == "binary" and pipeline.threshold is not None:
            positive = g.op("Gather", total, g.const(np.int64(1)), axis=1)
            index = g.cast(g.op("GreaterOrEqual", positive, g.const(float(pipeline.threshold))), "int64")
        else:
            index = g.op("ArgMax", total, axis=1, keepdims=0)
        g.add_output(g.op("Gather", g.const(labels), index, axis=0), "label",
                     elem_type(g.onnx, label_type), [None])
        g.add_output(total, "probabilities", elem_type(g.onnx, "double"), [None, task.n_classes])
    else:
        g.add_output(total, "value", elem_type(g.onnx, "double"), [None])
    return g.model("mlexpert", doc=_doc(pipeline, target),
                   metadata=_metadata(pipeline, target))


def _blend(g, pipeline, inputs: dict) -> str:
    encoded: dict = {}
    total = None
    for member in pipeline.members:
        profile = get_family(member.family).profile
        pps = ([pipeline.full_preprocessors[profile]] if member.refit
               else pipeline.preprocessors[profile])
        outputs = []
        for i, model in enumerate(member.models):
            key = (profile, member.refit, i)
            if key not in encoded:
                encoded[key] = encode_table(g, pps[i], inputs)
            outputs.append(convert_model(g, member.family, model, encoded[key], pipeline.task))
        out = outputs[0]
        for other in outputs[1:]:
            out = g.op("Add", out, other)
        out = g.op("Div", g.op("Mul", out, g.const(float(member.weight))),
                   g.const(float(len(member.models))))
        total = out if total is None else g.op("Add", total, out)
    return total


def _labels(classes) -> tuple[np.ndarray, str]:
    """Class labels as an int64 tensor when they are all integers, else as strings."""
    if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, dtype=np.int64), "int64"
    return np.asarray([str(c) for c in classes], dtype=object), "string"


def _metadata(pipeline, target: str) -> dict:
    task = pipeline.task
    return {
        "mlexpert_version": __version__, "target": target, "task": task.kind,
        "classes": json.dumps([c if isinstance(c, (int, float, str)) else str(c) for c in task.classes]),
        "threshold": "" if pipeline.threshold is None else repr(float(pipeline.threshold)),
        "inputs": json.dumps({c.name: {"kind": c.kind, "type": input_types(pipeline.schema)[c.name]}
                              for c in pipeline.schema.columns if c.name in pipeline.schema.features}),
        "missing_string": MISSING_TOKEN,
        "datetime_unit": "seconds since 1970-01-01 UTC",
        "members": json.dumps({m.name: round(float(m.weight), 6) for m in pipeline.members}),
    }


def _doc(pipeline, target: str) -> str:
    task = pipeline.task
    what = (f"{task.kind} classification of {target!r} (label, probabilities)"
            if task.is_classification else f"regression of {target!r} (value)")
    return (f"mlexpert model: {what}. One (n, 1) input per column: double for numbers, "
            f"booleans (1/0) and datetimes (epoch seconds, UTC); string for categories "
            f"({MISSING_TOKEN!r} when missing).")
