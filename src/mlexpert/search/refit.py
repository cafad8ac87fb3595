"""Final models: refit the ensemble's members on every training row when time allows.

During the search each trial trains one model per fold, on (k-1)/k of the rows (or 80%
with a holdout), with early stopping on the held-out fold. After ensemble selection the
chosen members are refit on all rows with the iteration counts that early stopping found
(grown a little for the extra data), in order of ensemble weight. A member whose refit
cannot finish before the deadline keeps its fold models, which are averaged: a refit
stopped half-way would be worse than either.
"""

from __future__ import annotations

import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from ..models._base import FitContext
from ..models.registry import get_family
from .trial import TrialResult, fold_lanes
from .workspace import Workspace

MAX_REFIT_SHARE = 0.35  # never hold back more than this share of the budget for refits
SAFETY = 1.3  # the time held back for a refit is its expected duration times this
ENCODE_SECONDS_PER_CELL = 2e-7  # rough cost of fitting a preprocessor on all rows
REFIT_OVERHEAD = 0.25  # seconds a refit costs whatever its size (measured: linear, 0.2-0.3 s)
# Folds fitted side by side use one thread each; a refit uses them all. Learners that share
# work between threads (boosting, forests) then refit faster than one fold batch: measured
# at 60 s on ames, bike_sharing, cnae9 and weight_lifting, a refit took 0.45-0.9 of a fold
# batch times the data ratio (CatBoost 0.25), so each further thread counts for this much.
THREAD_GAIN = 0.45


def data_ratio(ws: Workspace) -> float:
    """All rows over the mean training rows of a fold."""
    return ws.n_rows / float(np.mean([len(tr) for tr, _ in ws.folds.splits]))


def _speed_up(ws: Workspace, n_threads: int, threaded: bool) -> float:
    """How much faster the refit runs than one batch of fold fits, from threads alone."""
    lanes = fold_lanes(ws.n_rows * max(ws.n_features, 1), n_threads, len(ws.folds))
    return 1.0 + THREAD_GAIN * (lanes - 1) if threaded else 1.0


def estimate_seconds(result: TrialResult, ws: Workspace, n_threads: int = 1) -> float:
    """Expected wall time to refit ``result`` on all rows with ``n_threads`` (from its fold
    fits), padded by SAFETY."""
    if not math.isfinite(result.fold_seconds):
        return math.inf
    encode = ENCODE_SECONDS_PER_CELL * ws.n_rows * max(ws.n_features, 1)
    threaded = get_family(result.family).uses_threads
    fit = result.fold_seconds * data_ratio(ws) / _speed_up(ws, n_threads, threaded)
    return SAFETY * (fit + encode + REFIT_OVERHEAD)


def first_trial_share(ws: Workspace, n_threads: int, total: float) -> float:
    """Share of the search time for the first trial, leaving room for its own refit.

    The first trial and its refit together aim at ``total`` of the time: a trial of b
    sequential fold batches takes about b batch-times, its refit about
    ``SAFETY * data_ratio / speed-up`` batch-times (5 folds on 2 threads: b = 3, a
    threaded learner's refit 1.12, share 0.58 of 0.8). When the refit would need more than
    ``MAX_REFIT_SHARE`` (a holdout: b = 1), no refit is planned and the first trial keeps
    all of ``total``.
    """
    cells = ws.n_rows * max(ws.n_features, 1)
    batches = math.ceil(len(ws.folds) / fold_lanes(cells, n_threads, len(ws.folds)))
    refit = SAFETY * data_ratio(ws) / _speed_up(ws, n_threads, threaded=True)
    share = total * batches / (batches + refit)
    return share if total - share <= MAX_REFIT_SHARE else total


def reserve_seconds(best: TrialResult | None, ws: Workspace, budget: float,
                    n_threads: int = 1) -> float:
    """Time the search leaves for refitting the best trial (0 when it would not fit anyway)."""
    if best is None or not get_family(best.family).refit_final:
        return 0.0
    need = estimate_seconds(best, ws, n_threads)
    return need if need <= MAX_REFIT_SHARE * budget else 0.0


def refit_members(results: list[TrialResult], ws: Workspace, *, n_threads: int, seed: int,
                  deadline: float) -> tuple[dict[str, object], dict[str, str]]:
    """Refit ``results`` (best first) on all rows; skip those that would miss ``deadline``.

    Returns the models refit in time, by trial name (their preprocessors, fitted on all
    rows, are ``ws.full_preprocessor(profile)``), and why the others keep their fold models.
    """
    refits: dict[str, object] = {}
    skipped: dict[str, str] = {}
    ratio = data_ratio(ws)
    for result in results:
        start = time.monotonic()
        family = get_family(result.family)
        if not family.refit_final:
            skipped[result.name] = f"{family.name} keeps its fold models"
            continue
        expected = estimate_seconds(result, ws, n_threads) / SAFETY  # not padded
        if start + expected > deadline:
            skipped[result.name] = "not enough time left"
            continue
        try:
            X = ws.full(family.profile)
            infos = [family.describe(m) for m in result.models]
            params = family.refit_params(result.params, infos, ratio)
            ctx = FitContext(ws.task, ws.n_classes, n_threads, seed, deadline)
            with threadpool_limits(n_threads):
                model = family.fit(X, ws.y, params, ctx)
        except Exception as exc:  # the fold models remain: a failed refit is never fatal
            skipped[result.name] = f"refit failed: {type(exc).__name__}: {exc}"[:200]
            continue
        if time.monotonic() < deadline:  # iterative learners only return early at the deadline
            refits[result.name] = model
        else:
            skipped[result.name] = "refit stopped by the clock"
    return refits, skipped
