"""One trial: a family and its parameters, fitted and scored on every fold."""

from __future__ import annotations

import math
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from ..evaluation.metrics import Metric
from ..models._base import FitContext, ModelFamily
from .workspace import Workspace


@dataclass
class TrialResult:
    """What a trial produced: its score, out-of-fold outputs and fold models."""

    trial_id: int
    family: str
    params: dict
    stage: str
    status: str = "ok"  # ok | failed | timeout
    reason: str = ""
    score: float = float("nan")
    score_std: float = float("nan")
    loss: float = float("inf")
    fit_time: float = 0.0
    predict_rows_per_s: float = float("nan")
    fold_seconds: float = float("nan")  # wall time of one fold fit (one batch of parallel folds)
    info: dict = field(default_factory=dict)
    oof: np.ndarray | None = field(default=None, repr=False)
    models: list = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return f"{self.family}#{self.trial_id}"


def run_trial(trial_id: int, family: ModelFamily, params: dict, stage: str, ws: Workspace,
              metric: Metric, *, n_threads: int, seed: int, deadline: float,
              hard_deadline: float | None = None) -> TrialResult:
    """Fit ``family`` on every fold, aiming at ``deadline``; never raises.

    Each fold gets an equal share of the time left, so iterative learners stop early rather
    than overrun. ``deadline`` is the trial's share of the budget: the first-time
    preprocessing of a profile does not count against it, and a fold that starts late still
    gets a short slot, up to ``hard_deadline`` (the end of the search), after which the trial
    is abandoned. Errors and out-of-memory become a failed result with a reason.
    """
    result = TrialResult(trial_id, family.key, dict(params), stage)
    start = time.monotonic()
    try:
        _fit_folds(result, family, ws, n_threads, seed, deadline, hard_deadline or deadline)
        _score(result, ws, metric)
    except MemoryError:
        result.status, result.reason = "failed", "out of memory"
    except _TrialTimeout as exc:
        result.status, result.reason = "timeout", str(exc)
    except Exception as exc:  # a failing trial is recorded, never fatal
        result.status, result.reason = "failed", _one_line(exc)
    result.fit_time = time.monotonic() - start
    if result.status != "ok":
        result.oof, result.models = None, []
    return result


MIN_FOLD_SECONDS = 0.25
PARALLEL_FOLDS_MAX_CELLS = 2_000_000


class _TrialTimeout(Exception):
    pass


def _fit_folds(result, family, ws, n_threads, seed, deadline, hard_deadline):
    shape = (ws.n_rows, ws.n_classes) if ws.n_classes else (ws.n_rows,)
    oof = np.full(shape, np.nan)
    k = len(ws.folds)
    cells = ws.n_rows * max(ws.n_features, 1)
    lanes = fold_lanes(cells, n_threads, k)
    infos: list[dict] = [{}] * k
    predicted = [0, 0.0]  # validation rows scored, seconds spent scoring them
    models = ws.spill.collector(result.trial_id, k)  # each fold model goes to disk once fitted

    def fit_one(j, fold, fold_deadline, threads):
        ctx = FitContext(ws.task, ws.n_classes, threads, seed + j, fold_deadline)
        model = family.fit(fold.X_train, fold.y_train, result.params, ctx, fold.X_valid, fold.y_valid)
        t0 = time.monotonic()
        return model, family.predict(model, fold.X_valid, ws.task), time.monotonic() - t0

    def keep(j, fold, model, out, seconds):
        oof[fold.valid_index] = out
        infos[j] = family.describe(model)
        predicted[0] += len(fold.valid_index)
        predicted[1] += seconds
        models.add(j, model)

    try:
        batch_times = _fit_batches(family, ws, lanes, n_threads, deadline, hard_deadline, fit_one, keep)
    except BaseException:
        models.discard()
        raise
    result.models = models.models()
    result.oof = oof
    result.fold_seconds = float(np.mean(batch_times))
    result.predict_rows_per_s = predicted[0] / max(predicted[1], 1e-9)
    if infos[0]:
        result.info = {key: [i[key] for i in infos] for key in infos[0]}


def _fit_batches(family, ws, lanes, n_threads, deadline, hard_deadline, fit_one, keep) -> list[float]:
    """Fit the folds ``lanes`` at a time, each batch within its share of the time left; each
    fitted fold goes to ``keep`` before the next batch starts. Returns the batches' wall times."""
    k, batch_times = len(ws.folds), []
    with ThreadPoolExecutor(lanes) as pool:
        for first in range(0, k, lanes):
            if time.monotonic() >= hard_deadline:
                raise _TrialTimeout(f"stopped by the clock before fold {first + 1}/{k}")
            t0 = time.monotonic()
            batch = list(range(first, min(first + lanes, k)))
            folds = [ws.fold(family.profile, j) for j in batch]
            deadline = min(deadline + (time.monotonic() - t0), hard_deadline)  # encoding is shared
            now = time.monotonic()
            slot = max((deadline - now) / math.ceil((k - first) / lanes), MIN_FOLD_SECONDS)
            fold_deadline = min(now + slot, hard_deadline)
            threads = max(1, n_threads // lanes)
            with threadpool_limits(threads):
                outs = list(pool.map(fit_one, batch, folds, [fold_deadline] * len(batch),
                                     [threads] * len(batch)))
            batch_times.append(time.monotonic() - now)
            for j, fold, out in zip(batch, folds, outs):
                keep(j, fold, *out)
            del outs, out  # the fold models now live on disk only
    return batch_times


def fold_lanes(cells: int, n_threads: int, n_folds: int) -> int:
    """How many folds to fit side by side, one thread each.

    On small tables a learner gains little from a second thread (thread start-up and
    synchronisation cost more than the work), so folds run in parallel instead; large
    tables use every thread inside one fit.
    """
    if cells > PARALLEL_FOLDS_MAX_CELLS or n_threads < 2:
        return 1
    return max(1, min(n_threads, n_folds))


def _score(result, ws, metric):
    scores = []
    for _, va in ws.folds.splits:
        scores.append(metric.score(ws.y[va], result.oof[va]))
    mask = ws.folds.validated
    result.score = metric.score(ws.y[mask], result.oof[mask])
    result.score_std = float(np.std(scores)) if len(scores) > 1 else float("nan")
    result.loss = -result.score if metric.greater_is_better else result.score
    if not np.isfinite(result.loss):
        raise ValueError(f"the {metric.name} score is not finite ({result.score})")


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    suffix = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return (text[0] if text else type(exc).__name__)[:300] + suffix
