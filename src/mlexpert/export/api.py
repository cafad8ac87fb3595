"""``export_onnx``: a saved model as one verified ONNX file.

Steps: find what cannot be exported (and apply the ``fallback``), build the graph,
check it with onnxruntime against the Python model on real rows (``data``; synthetic
rows otherwise, said so), time both, then write the file atomically. A check beyond the
tolerance writes nothing and names the member(s) at fault.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..evaluation.metrics import get_metric
from ..exceptions import InvalidParameterError
from ..io import _atomic
from ..result import FitResult
from ..task import _normalise
from ._families import MISMATCH_HINTS
from .assemble import build_model
from .errors import ExportMismatchError
from .inputs import input_types
from .sample import synthetic_rows
from .support import FALLBACKS, find_blockers, plan_export, restrict
from .verify import TOLERANCE, Agreement, Timing, compare, run, session, timings

MAX_CHECK_ROWS = 50_000


@dataclass
class ExportReport:
    """What was exported, and how it was checked."""

    path: Path
    size_bytes: int
    python_size_bytes: int | None
    members: dict[str, float]
    inputs: dict[str, str]
    check: Agreement
    checked_on: str
    timing: Timing | None = None
    scores: dict = field(default_factory=dict)  # on labelled --data rows: metric, python, onnx
    left_out: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def export_onnx(model: FitResult | str | os.PathLike, out: str | os.PathLike | None = None, *,
                data=None, fallback: str = "none", tolerance: float = TOLERANCE,
                measure: bool = True) -> ExportReport:
    """Export a fitted model (a :class:`FitResult` or a model directory) to ONNX.

    Parameters
    ----------
    out : path, optional
        The .onnx file; default ``model.onnx`` in the model directory.
    data : path or DataFrame, optional
        Real rows to check the export on (e.g. the test split); a target column, when
        present, is also scored. Without it, synthetic rows are used, and the report says so.
    fallback : {"none", "members", "best"}
        When some ensemble members cannot be exported: stop and explain (``none``), export
        the others with their weights rescaled (``members``), or the best exportable
        member alone (``best``).
    tolerance : float
        Largest accepted difference: absolute for probabilities, relative for regression.
    measure : bool
        Time single-row and batch predictions of both models.
    """
    if fallback not in FALLBACKS:
        raise InvalidParameterError(f"The 'fallback' parameter must be one of {list(FALLBACKS)}. "
                                    f"Got {fallback!r} instead.")
    if not tolerance > 0:
        raise InvalidParameterError(f"The 'tolerance' parameter must be > 0. Got {tolerance!r} instead.")
    result = model if isinstance(model, FitResult) else _load(model)
    if out is None and result.path is None:
        raise InvalidParameterError("This model was not saved, so there is no default path: "
                                    "pass out='model.onnx'.")
    path = Path(out) if out is not None else Path(result.path) / "model.onnx"
    target = str(result.manifest.get("target", "target"))
    frame, checked_on = None, ""
    left_out = find_blockers(result.pipeline)
    while True:
        pipeline, notices = plan_export(result, left_out, fallback)
        model_bytes = build_model(pipeline, target=target).SerializeToString()
        sess = session(model_bytes)
        if frame is None:
            frame, checked_on = _rows(data, pipeline)
        check = compare(sess, pipeline, frame, tolerance)
        if check.passed:
            break
        faults = _faults(pipeline, frame, tolerance)
        others = 0 < len(faults) < len(pipeline.members)  # members left to export without them
        if fallback == "none" or not others:
            raise ExportMismatchError(_mismatch(check, checked_on, faults, tolerance, others))
        left_out.update(faults)
    report = ExportReport(
        path=path, size_bytes=len(model_bytes), python_size_bytes=_python_size(result),
        members={m.name: float(m.weight) for m in pipeline.members},
        inputs=input_types(pipeline.schema), check=check, checked_on=checked_on,
        scores=_scores(result, sess, pipeline, frame, target), left_out=left_out,
        notices=notices)
    if measure:
        report.timing = timings(sess, pipeline, frame)
    with _atomic(path) as tmp:
        Path(tmp).write_bytes(model_bytes)
    # A checksum beside it (``sha256sum -c`` format): `mlexpert serve --runtime onnx` checks it.
    digest = hashlib.sha256(model_bytes).hexdigest()
    with _atomic(path.with_name(path.name + ".sha256")) as tmp:
        Path(tmp).write_text(f"{digest}  {path.name}\n")
    return report


def _load(directory) -> FitResult:
    from ..api import load

    return load(directory)


def _rows(data, pipeline) -> tuple[pd.DataFrame, str]:
    """Rows to check on, and a description of them."""
    if data is None:
        return synthetic_rows(pipeline), "256 synthetic rows (no --data given: pass real rows, " \
                                         "e.g. your test split, for a real check)"
    from ..data.ingest import read_table

    frame = read_table(data).reset_index(drop=True)
    what = f" of {Path(data).name}" if isinstance(data, (str, os.PathLike)) else " given"
    if len(frame) > MAX_CHECK_ROWS:
        frame = frame.sample(MAX_CHECK_ROWS, random_state=0).reset_index(drop=True)
        return frame, f"{MAX_CHECK_ROWS} sampled rows{what}"
    return frame, f"{len(frame)} rows{what}"


def _scores(result, sess, pipeline, frame: pd.DataFrame, target: str) -> dict:
    """The metric of the saved model and of the export on labelled rows (when labelled)."""
    if target not in frame.columns:
        return {}
    task = pipeline.task
    labelled = frame[frame[target].notna()]
    if task.is_classification:
        known = set(task.classes)
        labelled = labelled[[v in known for v in _normalise(labelled[target])]]
    if len(labelled) < 2:
        return {}
    labelled = labelled.reset_index(drop=True)
    y = task.encode(labelled[target])
    metric = get_metric(pipeline.metric, task.kind)
    got = run(sess, pipeline, labelled)
    exported = got["probabilities" if task.is_classification else "value"]
    try:
        return {"metric": metric.name, "rows": len(labelled),
                "python": metric.score(y, result.pipeline.predict_output(labelled)),
                "onnx": metric.score(y, exported)}
    except ValueError:  # e.g. a single class among the labelled rows
        return {}


def _faults(pipeline, frame: pd.DataFrame, tolerance: float) -> dict[str, str]:
    """Members whose own export disagrees with their Python outputs, with the reason."""
    faults = {}
    for member in pipeline.members:
        single = restrict(pipeline, [member.name])
        check = compare(session(build_model(single).SerializeToString()), single, frame, tolerance)
        if not check.passed:
            worst = check.max_rel_diff if check.max_rel_diff is not None else check.max_abs_diff
            hint = MISMATCH_HINTS.get(member.family, "")
            faults[member.name] = (f"its ONNX outputs differ from Python by up to {worst:.3g} on "
                                   f"the check rows{hint}")
    return faults


def _mismatch(check: Agreement, checked_on: str, faults: dict, tolerance: float,
              others: bool) -> str:
    what = "relative difference" if check.max_rel_diff is not None else "probability difference"
    worst = check.max_rel_diff if check.max_rel_diff is not None else check.max_abs_diff
    blame = "".join(f" {name}: {reason}." for name, reason in faults.items())
    fix = ("Export without them (--fallback members or best), or raise --tolerance if that is "
           "acceptable." if others else "Raise --tolerance if that is acceptable, or report it.")
    return (f"The ONNX model disagrees with the Python model: largest {what} {worst:.3g} on "
            f"{checked_on} (tolerance {tolerance:g}); nothing was written.{blame} {fix}")


def _python_size(result: FitResult) -> int | None:
    if result.path is not None and (Path(result.path) / "model.pkl").exists():
        return (Path(result.path) / "model.pkl").stat().st_size
    from ..artifacts import pickled_size

    return pickled_size(result.pipeline)
