"""Per model version: what a monitoring run accumulates while the log streams past, window
by window, and the summaries it turns into at the end.

Only additive state is kept: drift counts (:class:`DriftAccumulator`), class counts, and
for the rows that need them the few numbers a summary cannot be built from counts (the
labelled rows' outputs and outcomes, regression predictions, latencies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._coerce import category_key
from ._models import ModelInfo
from .drift import DriftAccumulator
from .performance import class_codes, encode_actual, evaluate, model_output
from .windows import Windower, iso

LATENCY_QUANTILES = (50, 90, 95, 99)


@dataclass
class _Window:
    n: int = 0
    outcomes: int = 0  # rows with feedback (scored or not)
    first_ts: float = math.inf
    last_ts: float = -math.inf
    drift: DriftAccumulator | None = None
    class_counts: np.ndarray | None = None  # per class, then "not a class"
    values: list = field(default_factory=list)
    latency: list = field(default_factory=list)
    y: list = field(default_factory=list)
    out: list = field(default_factory=list)
    keys: list = field(default_factory=list)

    def absorb(self, other: "_Window") -> None:
        self.n += other.n
        self.outcomes += other.outcomes
        self.first_ts, self.last_ts = min(self.first_ts, other.first_ts), max(self.last_ts, other.last_ts)
        if self.drift is not None and other.drift is not None:
            self.drift.merge(other.drift)
        if self.class_counts is not None:
            self.class_counts += other.class_counts
        for name in ("values", "latency", "y", "out", "keys"):
            getattr(self, name).extend(getattr(other, name))


class VersionTracker:
    """Accumulates one (model, version, shadow) stream of the log."""

    def __init__(self, info: ModelInfo, shadow: bool, windower: Windower, keep_keys: bool = False):
        self.info, self.shadow, self.windower, self.keep_keys = info, shadow, windower, keep_keys
        self.windows: dict[int, _Window] = {}
        self.rows_without_probabilities = 0
        self.unknown_outcomes = 0

    @property
    def can_score(self) -> bool:
        return self.info.kind is not None

    def update(self, meta: pd.DataFrame, inputs: pd.DataFrame, proba: pd.DataFrame | None) -> None:
        """Count the next rows of this stream (oldest first)."""
        info = self.info
        ts = meta["ts"].to_numpy(dtype=float)
        keys = self.windower.keys(ts)
        output = None
        if self.can_score:
            output = model_output(meta["prediction"].to_numpy(), proba, info.kind, info.classes)
        if output is not None and info.kind != "regression":
            missing = proba is None or len(proba.columns) == 0
            without = len(meta) if missing else int((~proba.notna().any(axis=1)).sum())
            self.rows_without_probabilities += without
        unique = np.unique(keys)
        if len(unique) == 1:  # the usual case: the whole chunk in one window, no copies
            self._add(int(unique[0]), meta, inputs, output, ts)
            return
        for key in unique:
            rows = np.flatnonzero(keys == key)
            self._add(int(key), meta.iloc[rows], inputs.iloc[rows],
                      None if output is None else output[rows], ts[rows])

    def _add(self, key: int, meta, inputs, output, ts) -> None:
        info = self.info
        w = self.windows.get(key)
        if w is None:
            w = self.windows[key] = _Window()
            if info.profile is not None:
                w.drift = DriftAccumulator(info.profile)
            if info.kind not in (None, "regression"):
                w.class_counts = np.zeros(len(info.classes) + 1, dtype=np.int64)
        w.n += len(meta)
        w.first_ts, w.last_ts = min(w.first_ts, float(ts.min())), max(w.last_ts, float(ts.max()))
        w.latency.append(meta["latency_ms"].to_numpy(dtype=float))
        if w.drift is not None:
            scored = output is not None and (info.kind == "regression" or np.isfinite(output).all())
            w.drift.update(inputs, output if scored else None)
        actual = meta["actual"].to_numpy() if "actual" in meta.columns else None
        labelled = None if actual is None else pd.notna(pd.Series(actual, dtype=object)).to_numpy()
        if labelled is not None:
            w.outcomes += int(labelled.sum())
        if output is None:
            return
        if info.kind == "regression":
            w.values.append(output.astype(np.float32))
        else:
            codes = class_codes(meta["prediction"].to_numpy(), info.classes)
            w.class_counts += np.bincount(np.where(codes < 0, len(info.classes), codes),
                                          minlength=len(info.classes) + 1)
        if labelled is None or not labelled.any():
            return
        y, usable = encode_actual(actual[labelled], info.kind, info.classes)
        self.unknown_outcomes += int((~usable).sum())
        w.y.append(y[usable])
        w.out.append(output[labelled][usable])
        if self.keep_keys:
            sub = meta[labelled][usable]
            w.keys.append((sub["request_id"].astype(str) + "\x1f" + sub["row"].astype(str)).to_numpy())

    def finish(self, drift_thresholds: dict, performance_thresholds: dict) -> dict:
        """The JSON-ready result of this stream: windows, overall drift and performance,
        prediction counts and latency."""
        info = self.info
        plan = self.windower.merge_into({k: w.n for k, w in self.windows.items()})
        for key, into in plan.items():
            if key != into:
                self.windows[into].absorb(self.windows.pop(key))
        overall = _Window(drift=DriftAccumulator(info.profile) if info.profile is not None else None,
                          class_counts=None if info.kind in (None, "regression")
                          else np.zeros(len(info.classes) + 1, dtype=np.int64))
        windows = []
        for index, key in enumerate(sorted(self.windows)):
            w = self.windows[key]
            start, end = self.windower.bounds(key, w.first_ts, w.last_ts)
            windows.append({"index": index, "start": iso(start), "end": iso(end),
                            "first": iso(w.first_ts), "last": iso(w.last_ts), "n": w.n,
                            "labelled": w.outcomes,
                            **self._summaries(w, drift_thresholds, performance_thresholds)})
            overall.absorb(w)
        notes = list(info.notes)
        if self.rows_without_probabilities:
            notes.append(f"{self.rows_without_probabilities:,} predictions were logged without "
                         "probabilities: their labels count as certain (probability 1).")
        if self.unknown_outcomes:
            notes.append(f"{self.unknown_outcomes:,} outcomes are not a class or a number the "
                         "model knows and were left out of the performance.")
        return {"model": info.name, "version": info.version, "shadow": self.shadow,
                "path": str(info.path) if info.path else None, "task": info.kind,
                "classes": info.classes, "target": info.target, "metric": info.metric,
                "cv_score": info.cv_score, "n": overall.n if self.windows else 0,
                "first": iso(overall.first_ts), "last": iso(overall.last_ts),
                "labelled": overall.outcomes, "windows": windows,
                "reference_predictions": reference_predictions(info),
                **self._summaries(overall, drift_thresholds, performance_thresholds),
                "notes": notes}

    def labelled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(keys, y, output)`` of every labelled row (for the shadow comparison)."""
        parts = [w for w in self.windows.values() if w.y]
        if not parts or not self.keep_keys:
            return None
        return (np.concatenate([k for w in parts for k in w.keys]),
                np.concatenate([y for w in parts for y in w.y]),
                np.concatenate([o for w in parts for o in w.out]))

    def _summaries(self, w: _Window, drift_t: dict, perf_t: dict) -> dict:
        info = self.info
        drift = w.drift.result(**drift_t) if w.drift is not None and w.n else None
        performance = None
        if self.can_score:
            y = np.concatenate(w.y) if w.y else np.empty(0)
            out = np.concatenate(w.out) if w.out else (
                np.empty((0, len(info.classes))) if info.kind != "regression" else np.empty(0))
            performance = evaluate(info.metric, info.kind, y, out, info.cv_score, **perf_t)
        return {"drift": drift, "performance": performance, "predictions": self._predictions(w),
                "latency": latency_summary(w.latency)}

    def _predictions(self, w: _Window) -> dict | None:
        info = self.info
        if info.kind is None:
            return None
        if info.kind != "regression":
            total = int(w.class_counts.sum())
            labels = [str(c) for c in info.classes]
            counts = dict(zip(labels, w.class_counts[:-1].tolist()))
            return {"counts": counts, "other": int(w.class_counts[-1]),
                    "shares": {k: (v / total if total else None) for k, v in counts.items()}}
        values = np.concatenate(w.values).astype(float) if w.values else np.empty(0)
        values = values[np.isfinite(values)]
        if not len(values):
            return {"n": 0}
        p = np.percentile(values, [10, 50, 90])
        return {"n": int(len(values)), "mean": float(values.mean()), "p10": float(p[0]),
                "p50": float(p[1]), "p90": float(p[2]), "min": float(values.min()),
                "max": float(values.max())}


def reference_predictions(info: ModelInfo) -> dict | None:
    """The validation (out-of-fold) prediction distribution the profile holds: class shares,
    or the mean predicted value."""
    prediction = (info.profile or {}).get("prediction") or {}
    if "value" in prediction:
        return {"mean": prediction["value"].get("mean")}
    labels = prediction.get("labels")
    if not labels:
        return None
    counts = dict(zip(labels["categories"], labels["counts"]))
    total = sum(labels["counts"]) + labels.get("other", 0)
    return {"shares": {str(c): counts.get(category_key(c), 0) / total if total else None
                       for c in info.classes}}


def latency_summary(parts: list) -> dict | None:
    """Percentiles of logged latencies (milliseconds per request, on each of its rows)."""
    values = np.concatenate(parts) if parts else np.empty(0)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    q = np.percentile(values, LATENCY_QUANTILES)
    return {"n": int(len(values)), "mean_ms": float(values.mean()), "max_ms": float(values.max()),
            **{f"p{p}_ms": float(v) for p, v in zip(LATENCY_QUANTILES, q)}}
