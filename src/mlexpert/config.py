"""The one frozen configuration of a fit, built and validated once at the API boundary."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .exceptions import InvalidParameterError
from .utils._duration import parse_duration


@dataclass(frozen=True)
class FitConfig:
    """Every setting of :func:`mlexpert.fit` (see its docstring for their meaning)."""

    target: str
    task: str | None = None
    metric: str | None = None
    time_limit: float = 60.0
    seed: int = 0
    n_jobs: int = 1
    families: tuple[str, ...] | None = None
    max_trials: int | None = None
    n_folds: int = 5
    holdout_rows: int = 100_000
    groups: str | None = None
    time_column: str | None = None
    refit: bool = True
    max_latency_ms: float | None = None
    optimize_threshold: str | None = None
    sensitive: tuple[str, ...] = ()
    review: bool = True
    ignore: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    datetime: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    @classmethod
    def build(cls, **kwargs) -> "FitConfig":
        """Normalise and validate user values (durations, jobs, lists)."""
        kwargs["time_limit"] = parse_duration(kwargs.get("time_limit", 60.0), name="time_limit")
        kwargs["n_jobs"] = resolve_jobs(kwargs.get("n_jobs", -1))
        for name in ("ignore", "categorical", "text", "datetime", "keep", "sensitive"):
            kwargs[name] = tuple(kwargs.get(name) or ())
        families = kwargs.get("families")
        kwargs["families"] = tuple(families) if families else None
        if kwargs.get("n_folds", 5) < 2:
            raise InvalidParameterError(
                f"The 'n_folds' parameter must be an int >= 2. Got {kwargs['n_folds']!r} instead."
            )
        cap = kwargs.get("max_latency_ms")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float))
                                or not cap > 0):
            raise InvalidParameterError(
                f"The 'max_latency_ms' parameter must be a number > 0 or None. Got {cap!r} instead."
            )
        max_trials = kwargs.get("max_trials")
        if max_trials is not None and max_trials < 1:
            raise InvalidParameterError(
                f"The 'max_trials' parameter must be an int >= 1 or None. Got {max_trials!r} instead."
            )
        if not isinstance(kwargs.get("target"), str) or not kwargs["target"]:
            raise InvalidParameterError(
                f"The 'target' parameter must be a column name. Got {kwargs.get('target')!r} instead."
            )
        return cls(**kwargs)


def resolve_jobs(n_jobs: int | None) -> int:
    """Threads to use: -1 (or None) means every core."""
    cores = os.cpu_count() or 1
    if n_jobs is None or n_jobs == -1:
        return cores
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise InvalidParameterError(
            f"The 'n_jobs' parameter must be -1 or an int >= 1. Got {n_jobs!r} instead."
        )
    return min(n_jobs, cores)
