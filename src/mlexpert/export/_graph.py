"""A small ONNX graph builder: unique names, deduplicated constants, one call per node.

Every converter in this package writes into one :class:`Graph`; nothing else touches
``onnx.helper``. onnx is imported when a graph is created, never at package import.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..utils._optional import import_optional

OPSET = 21  # default domain; onnxruntime >= 1.20
ML_OPSET = 5  # ai.onnx.ml: TreeEnsemble with set membership
IR_VERSION = 10


def load_onnx():
    """The onnx module, or a MissingDependencyError naming the ``onnx`` extra."""
    return import_optional("onnx", extra="onnx", caller="ONNX export")


def load_onnxruntime():
    return import_optional("onnxruntime", extra="onnx", caller="ONNX export")


class Graph:
    """Nodes, initializers, inputs and outputs of one ONNX graph under construction."""

    def __init__(self):
        self.onnx = load_onnx()
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self._used: Counter = Counter()
        self._taken: set[str] = set()  # input names: user column names, used as they are
        self._consts: dict = {}

    def name(self, hint: str) -> str:
        """A fresh internal name, different from every input name."""
        while True:
            self._used[hint] += 1
            name = f"mx/{hint}/{self._used[hint]}"
            if name not in self._taken:
                return name

    def const(self, value, dtype=None, hint: str = "const") -> str:
        """An initializer holding ``value``; equal constants share one initializer."""
        array = np.asarray(value, dtype=dtype)
        if array.dtype == object:
            array = array.astype(str).astype(object)
        key = (array.dtype.str, array.shape, array.tobytes() if array.dtype != object
               else tuple(array.ravel().tolist()))
        if key not in self._consts:
            name = self.name(hint)
            self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
            self._consts[key] = name
        return self._consts[key]

    def op(self, op_type: str, *inputs: str, outputs: int = 1, domain: str = "",
           hint: str | None = None, **attrs):
        """Add one node; returns its output name (or list of names when ``outputs`` > 1)."""
        names = [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), names, domain=domain or None, **attrs))
        return names[0] if outputs == 1 else names

    def tensor(self, array: np.ndarray):
        """A TensorProto attribute value (for ``*_as_tensor``-style attributes)."""
        return self.onnx.numpy_helper.from_array(np.asarray(array))

    def add_input(self, name: str, elem_type, shape) -> str:
        self._taken.add(name)
        self.inputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def add_output(self, source: str, name: str, elem_type, shape) -> None:
        self.nodes.append(self.onnx.helper.make_node("Identity", [source], [name]))
        self.outputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, shape))

    def model(self, name: str, doc: str = "", metadata: dict | None = None):
        """The finished, checked ModelProto."""
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, self.inputs, self.outputs,
                                  initializer=self.initializers)
        model = helper.make_model(
            graph, producer_name="mlexpert", doc_string=doc, ir_version=IR_VERSION,
            opset_imports=[helper.make_opsetid("", OPSET),
                           helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
        helper.set_model_props(model, {k: str(v) for k, v in (metadata or {}).items()})
        self.onnx.checker.check_model(model)
        return model

    # Shorthands used by every converter ------------------------------------------------

    def cast(self, x: str, to: str) -> str:
        """Cast to ``"float"`` (float32), ``"double"``, ``"int64"`` or ``"bool"``."""
        return self.op("Cast", x, to=elem_type(self.onnx, to))

    def concat(self, parts: list[str], axis: int = 1) -> str:
        return parts[0] if len(parts) == 1 else self.op("Concat", *parts, axis=axis)

    def where(self, cond: str, a: str, b: str) -> str:
        return self.op("Where", cond, a, b)

    def column(self, x: str, j: int) -> str:
        """Column ``j`` of a 2-D tensor, kept 2-D (n, 1)."""
        return self.op("Gather", x, self.const(np.array([j], dtype=np.int64)), axis=1)

    def columns(self, x: str, idx) -> str:
        return self.op("Gather", x, self.const(np.asarray(idx, dtype=np.int64)), axis=1)


_ELEM = {"float": "FLOAT", "double": "DOUBLE", "int64": "INT64", "bool": "BOOL", "string": "STRING"}


def elem_type(onnx, kind: str) -> int:
    """The TensorProto element type called ``kind`` (float, double, int64, bool, string)."""
    return getattr(onnx.TensorProto, _ELEM[kind])
