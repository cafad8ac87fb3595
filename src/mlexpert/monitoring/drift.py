"""Drift of a window of logged inputs (and model outputs) against the reference profile.

:class:`DriftAccumulator` keeps additive counts only, so a monitor can stream a log chunk
by chunk and merge windows; :meth:`DriftAccumulator.result` turns the counts into
statistics and a verdict per column. The decision rule is in ``_compare`` and
``docs/drift.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ._coerce import NUMERIC_KINDS, prediction_parts
from ._compare import THRESHOLDS, compare, decide
from ._counts import CategoryCounts, NumericCounts
from .profile import check_profile


class DriftAccumulator:
    """Counts of a stream of rows on a reference profile's bins and categories."""

    def __init__(self, profile: dict):
        check_profile(profile)
        self.profile = profile
        self._columns = {c["column"]: _counter(c) for c in profile["columns"]}
        self._prediction = {part: _counter(entry)
                            for part, entry in (profile.get("prediction") or {}).items()}
        self.n = 0

    def update(self, frame: pd.DataFrame, output: np.ndarray | None = None) -> "DriftAccumulator":
        """Count the rows of ``frame`` (feature columns absent from it count as missing), and
        the model ``output`` for them when given (as in :func:`build_profile`)."""
        if frame.columns.has_duplicates:
            duplicated = sorted(set(frame.columns[frame.columns.duplicated()].map(str)))
            raise DataError(f"The frame has duplicated columns {duplicated[:5]}; rename them.")
        n = len(frame)
        parts = None
        if output is not None and self._prediction:
            parts = prediction_parts(output, self.profile["task"], self.profile["classes"], n)
        for name, counter in self._columns.items():
            counter.add(frame[name] if name in frame.columns else None, n)
        if parts is not None:
            for part, counter in self._prediction.items():
                if isinstance(counter, NumericCounts):
                    counter.add(None, n, values=parts[part])
                else:
                    counter.add(parts[part], n)
        self.n += n
        return self

    def merge(self, other: "DriftAccumulator") -> "DriftAccumulator":
        """Add ``other``'s counts (a window over the same profile) to these."""
        if other.profile is not self.profile and other.profile != self.profile:
            raise InvalidParameterError(
                "Cannot merge drift counts made against different reference profiles."
            )
        for name, counter in self._columns.items():
            counter.merge(other._columns[name])
        for part, counter in self._prediction.items():
            counter.merge(other._prediction[part])
        self.n += other.n
        return self

    def result(self, *, alpha: float = THRESHOLDS["alpha"],
               min_shift: float = THRESHOLDS["min_shift"],
               min_rows: int = THRESHOLDS["min_rows"],
               include_time: bool = THRESHOLDS["include_time"]) -> dict:
        """Statistics and verdict per feature and for the prediction distribution
        (JSON-serialisable; see ``docs/drift.md`` for the fields and the rule)."""
        if not 0 < alpha < 1:
            raise InvalidParameterError(f"alpha must be between 0 and 1; got {alpha}.")
        if not 0 <= min_shift <= 1 or min_rows < 0:
            raise InvalidParameterError(
                f"min_shift must be a share between 0 and 1 and min_rows >= 0; got "
                f"min_shift={min_shift}, min_rows={min_rows}."
            )
        t = {"alpha": alpha, "min_shift": min_shift, "min_rows": min_rows,
             "include_time": include_time}
        features = [compare(c) for c in self._columns.values()]
        parts = {part: compare(c) for part, c in self._prediction.items() if c.n}
        alarming = [e for e in features if include_time or not e["time"]]
        tests = len(alarming) + len(parts)
        cutoff = alpha / max(tests, 1)
        for entry in [*features, *parts.values()]:
            decide(entry, cutoff, t)
        prediction = _prediction_entry(parts)
        drifted = [e["column"] for e in alarming if e["drifted"]]
        alarm = bool(drifted) or bool(prediction and prediction["drifted"])
        return {"n": int(self.n), "features": features, "prediction": prediction,
                "drifted": drifted, "alarm": alarm,
                "thresholds": {**t, "tests": tests, "pvalue_cutoff": cutoff}}


def drift_report(profile: dict, frame: pd.DataFrame, output: np.ndarray | None = None,
                 **thresholds) -> dict:
    """Drift of one frame (and its model output) against ``profile``."""
    return DriftAccumulator(profile).update(frame, output).result(**thresholds)


def _counter(entry: dict) -> NumericCounts | CategoryCounts:
    return NumericCounts(entry) if entry["kind"] in NUMERIC_KINDS else CategoryCounts(entry)


def _prediction_entry(parts: dict) -> dict | None:
    """The regression value entry, or the label entry with the probability under ``score``;
    ``drifted`` when either part drifted."""
    if not parts:
        return None
    if "value" in parts:
        return parts["value"]
    labels, score = parts["labels"], parts["score"]
    entry = {**labels, "score": score}
    if score["drifted"] and not labels["drifted"]:
        entry["drifted"], entry["reason"] = True, f"probability: {score['reason']}"
    return entry
