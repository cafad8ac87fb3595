"""``--runtime onnx``: predict with the model directory's exported ``model.onnx``.

The graph comes from ``mlexpert export`` with a ``model.onnx.sha256`` beside it; a graph
whose checksum file is missing or differs is refused, as a modified model directory is.
onnxruntime runs it with one thread (the server predicts one request at a time per model).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ArtifactError
from ..utils._optional import import_optional


def open_session(path: Path):
    """An onnxruntime session on ``path/model.onnx``, after checking its checksum."""
    onnx_file = path / "model.onnx"
    if not onnx_file.exists():
        raise ArtifactError(f"{str(path)!r} has no model.onnx for --runtime onnx. Run `mlexpert "
                            f"export {path}` first, or serve with --runtime python.")
    _verify(onnx_file)
    ort = import_optional("onnxruntime", caller="--runtime onnx", extra="onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])


def predict_onnx(session, frame: pd.DataFrame, schema, task: str):
    """``(labels, probabilities)`` from the graph; probabilities is None for regression."""
    from ..export import onnx_feed

    names = [o.name for o in session.get_outputs()]
    outs = dict(zip(names, session.run(None, onnx_feed(frame, schema))))
    if task == "regression":
        return [float(v) for v in outs["value"].ravel()], None
    return list(outs["label"].ravel()), np.asarray(outs["probabilities"], dtype=float)


def _verify(onnx_file: Path) -> None:
    sums = onnx_file.with_name(onnx_file.name + ".sha256")
    if not sums.exists():
        raise ArtifactError(f"{str(onnx_file)!r} has no checksum file {sums.name}; export it "
                            "again with `mlexpert export` to create both.")
    words = sums.read_text().split()
    if not words or hashlib.sha256(onnx_file.read_bytes()).hexdigest() != words[0]:
        raise ArtifactError(f"Checksum mismatch for {str(onnx_file)!r}: the file was modified "
                            "after export. Export it again with `mlexpert export`.")
