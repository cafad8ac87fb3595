"""Check an exported graph against the Python model on real rows, and time both.

Classification compares probabilities (absolute difference, default tolerance 1e-5);
regression compares values relative to their size (|a - b| / max(|a|, mean |a|)), so
that the check does not depend on the target's units.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._graph import load_onnxruntime
from .inputs import onnx_feed

TOLERANCE = 1e-5
BATCH = 1000


@dataclass
class Agreement:
    """How closely the ONNX outputs follow the Python model's on some rows."""

    rows: int
    max_abs_diff: float
    max_rel_diff: float | None  # regression only
    labels_agree: int
    tolerance: float
    passed: bool


@dataclass
class Timing:
    """Median milliseconds per call: one row, and a batch of ``batch_rows`` rows."""

    onnx_row_ms: float
    onnx_batch_ms: float
    python_row_ms: float
    python_batch_ms: float
    batch_rows: int


def session(model_bytes: bytes):
    """An onnxruntime CPU session for the serialized model."""
    ort = load_onnxruntime()
    return ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])


def run(sess, pipeline, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, onnx_feed(frame, pipeline.schema))))


def compare(sess, pipeline, frame: pd.DataFrame, tolerance: float = TOLERANCE) -> Agreement:
    """Outputs of the session and of ``pipeline.predict_output`` on the rows of ``frame``."""
    expected = np.asarray(pipeline.predict_output(frame), dtype=np.float64)
    got = run(sess, pipeline, frame)
    classification = pipeline.task.is_classification
    actual = got["probabilities" if classification else "value"]
    diff = _differences(expected, actual)
    rel = None
    if classification:
        labels = np.asarray(pipeline.decide(expected)).astype(str) == got["label"].astype(str)
        agree = int(labels.sum())
        # a label may differ only where the decision is a tie within the tolerance
        ties = _margins(expected, pipeline.threshold)[~labels] <= tolerance
        passed = bool(diff.max() <= tolerance and ties.all())
    else:
        scale = np.maximum(np.abs(expected), np.nanmean(np.abs(expected)) or 1.0)
        rel = float((diff / scale).max())
        passed = rel <= tolerance
        agree = len(frame)
    return Agreement(len(frame), float(diff.max()), rel, agree, tolerance, passed)


def _margins(proba: np.ndarray, threshold: float | None) -> np.ndarray:
    """How far each row's decision is from flipping: to the threshold, or top-2 gap."""
    if threshold is not None and proba.shape[1] == 2:
        return np.abs(proba[:, 1] - threshold)
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]


def _differences(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """|expected - actual|; inf where only one of them is NaN, 0 where both are."""
    if expected.shape != actual.shape:
        raise ValueError(f"output shapes differ: Python {expected.shape}, ONNX {actual.shape}")
    diff = np.abs(expected - actual)
    both = np.isnan(expected) & np.isnan(actual)
    diff[both] = 0.0
    diff[np.isnan(diff)] = np.inf
    return diff.reshape(len(expected), -1).max(axis=1)


def timings(sess, pipeline, frame: pd.DataFrame, *, batch: int = BATCH,
            seconds: float = 1.0) -> Timing:
    """Median latency of one row and of ``batch`` rows, for ONNX Runtime (on ready input
    tensors) and for the Python model (``predict_output`` on a DataFrame)."""
    rows = frame.sample(batch, replace=len(frame) < batch, random_state=0).reset_index(drop=True)
    one = rows.iloc[:1]
    feed_one, feed_batch = onnx_feed(one, pipeline.schema), onnx_feed(rows, pipeline.schema)
    return Timing(
        onnx_row_ms=_median_ms(lambda: sess.run(None, feed_one), seconds, 500),
        onnx_batch_ms=_median_ms(lambda: sess.run(None, feed_batch), seconds, 50),
        python_row_ms=_median_ms(lambda: pipeline.predict_output(one), seconds, 200),
        python_batch_ms=_median_ms(lambda: pipeline.predict_output(rows), seconds, 20),
        batch_rows=batch)


def _median_ms(call, seconds: float, most: int) -> float:
    """Median wall time of ``call`` in ms: after a warm-up, repeated for about ``seconds``
    (at least 3 and at most ``most`` times)."""
    call()
    times: list[float] = []
    end = time.perf_counter() + seconds
    while len(times) < most and (len(times) < 3 or time.perf_counter() < end):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))
