"""Single-row prediction latency: measured per candidate, and capped during selection.

Latency here is the wall time of one ``predict`` call on one row, the case of a
real-time service: input checks, preprocessing and every member's models. It is measured,
not modelled: each candidate's fold model is timed on one encoded row (all k fold models
and k preprocessors for a member that will keep its folds), and the ensemble's estimate
is the sum of its parts, counting each preprocessing step once. The final pipeline is
timed again end to end, and members are dropped until it meets the cap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..data.validate import prepare_prediction_table
from ..models.registry import get_family

REPEATS = 7  # timed calls after one warm-up; the median is kept


def time_ms(fn: Callable[[], object], repeats: int = REPEATS, max_seconds: float = 0.3) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one untimed warm-up call; slow
    calls stop repeating after ``max_seconds`` (at least 3 are timed)."""
    fn()
    times: list[float] = []
    while len(times) < repeats and (len(times) < 3 or sum(times) < max_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times))


@dataclass
class LatencyModel:
    """Measured parts of single-row latency, by candidate trial name."""

    base_ms: float  # input checks and column alignment
    step_ms: dict = field(default_factory=dict)  # (profile, refit) -> preprocessing ms
    member_ms: dict = field(default_factory=dict)  # trial name -> ms of its models
    member_step: dict = field(default_factory=dict)  # trial name -> (profile, refit)

    def estimate(self, names) -> float:
        """Expected latency of an ensemble of the trials ``names``."""
        names = set(names)
        steps = {self.member_step[n] for n in names}
        return (self.base_ms + sum(self.step_ms[s] for s in steps)
                + sum(self.member_ms[n] for n in names))

    def __contains__(self, name: str) -> bool:
        return name in self.member_ms


def measure_candidates(candidates: list, ws, schema, *, refit: bool,
                       deadline: float | None = None) -> LatencyModel:
    """Time each candidate's final form on one training row, until ``deadline``.

    A candidate that will be refit is timed with one fold model (the refit model has the
    same structure and about as many iterations); one that keeps its folds with all of
    them. Candidates not reached by the deadline are left out of the model.
    """
    row = ws.X.iloc[:1]
    model = LatencyModel(base_ms=time_ms(lambda: prepare_prediction_table(row, schema)))
    encoded: dict = {}
    for result in candidates:
        if deadline is not None and time.monotonic() > deadline:
            break
        family = get_family(result.family)
        keeps_folds = not (refit and family.refit_final) or not result.models
        step = (family.profile, not keeps_folds)
        if step not in encoded:
            pps = ws.preprocessors(family.profile)
            pps = pps if keeps_folds else pps[:1]
            encoded[step] = [pp.transform(row) for pp in pps]
            model.step_ms[step] = time_ms(lambda: [pp.transform(row) for pp in pps])
        inputs = encoded[step]
        models = list(result.models) if keeps_folds else result.models[:1]  # read from disk once
        model.member_ms[result.name] = time_ms(
            lambda: [family.predict(m, inputs[i], ws.task) for i, m in enumerate(models)])
        model.member_step[result.name] = step
    return model


def pipeline_latency_ms(pipeline, row) -> float:
    """Measured single-row latency of a fitted pipeline."""
    return time_ms(lambda: pipeline.predict_output(row))


def enforce_cap(pipeline, row, cap_ms: float) -> tuple[float, list[str]]:
    """Drop the lowest-weight members until ``pipeline`` meets ``cap_ms`` (or one is left).

    Returns the final measured latency and the names of the members dropped; the kept
    weights are renormalised to sum to 1.
    """
    dropped = []
    latency = pipeline_latency_ms(pipeline, row)
    while latency > cap_ms and len(pipeline.members) > 1:
        weakest = min(pipeline.members, key=lambda m: m.weight)
        pipeline.members.remove(weakest)
        dropped.append(weakest.name)
        total = sum(m.weight for m in pipeline.members)
        for m in pipeline.members:
            m.weight = m.weight / total
        latency = pipeline_latency_ms(pipeline, row)
    if dropped:
        _prune_preprocessors(pipeline)
    return latency, dropped


def _prune_preprocessors(pipeline) -> None:
    """Forget the preprocessors that no remaining member uses."""
    used = {(get_family(m.family).profile, m.refit) for m in pipeline.members}
    pipeline.preprocessors = {p: v for p, v in pipeline.preprocessors.items() if (p, False) in used}
    pipeline.full_preprocessors = {p: v for p, v in pipeline.full_preprocessors.items()
                                   if (p, True) in used}
