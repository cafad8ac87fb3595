"""Export a fitted model to ONNX for edge deployment (``mlexpert export DIR --format onnx``).

The whole pipeline (input checks, every preprocessing block, every ensemble member and
the weighted blend) becomes one ONNX graph with one input per column, checked against
the Python model with onnxruntime. onnx and onnxruntime are optional: ``pip install
"mlexpert[onnx]"``. See ``docs/export.md``.
"""

from .api import ExportReport, export_onnx
from .errors import ExportError, ExportMismatchError
from .inputs import input_types, onnx_feed

__all__ = ["ExportError", "ExportMismatchError", "ExportReport", "export_onnx", "input_types",
           "onnx_feed"]
