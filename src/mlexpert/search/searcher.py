"""The time-budgeted search: strong defaults first, then Bayesian optimisation (Optuna TPE)
concentrated on the families that did best.

Trials run one after another, each using every allowed thread (no oversubscription), and
each gets a deadline: a share of the time left, never past the search deadline.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..evaluation.metrics import Metric
from ..models._base import ModelFamily
from .trial import TrialResult, run_trial
from .workspace import Workspace

DEFAULT_SHARE = 0.3  # at most this share of the time left for one default trial
TUNE_SHARE = 0.2
KEEP_TOP = 25  # trials whose models are kept as ensemble candidates
FIRST_SHARE = 0.8  # share of the time left while no trial has succeeded yet
TOP_FAMILIES = 3
MIN_TRIAL_SECONDS = 0.5


@dataclass
class SearchEvent:
    """Progress report sent to the ``on_event`` callback after each trial."""

    stage: str
    trial: TrialResult
    n_trials: int
    best: TrialResult | None
    seconds_left: float


class Search:
    """Runs trials until the deadline, the trial limit, or nothing is left to try."""

    def __init__(self, ws: Workspace, families: list[ModelFamily], metric: Metric, *,
                 deadline: float, n_threads: int, seed: int, max_trials: int | None = None,
                 on_event: Callable[[SearchEvent], None] | None = None,
                 reserve: Callable[[TrialResult | None], float] | None = None,
                 first_share: float = FIRST_SHARE):
        self.ws = ws
        self.families = families
        self.metric = metric
        self.deadline = deadline
        self.n_threads = n_threads
        self.seed = seed
        self.max_trials = max_trials
        self.on_event = on_event
        self.reserve = reserve or (lambda best: 0.0)
        self.first_share = first_share
        self.results: list[TrialResult] = []

    # -- bookkeeping -------------------------------------------------------------------
    @property
    def end(self) -> float:
        """The search deadline, less the time held back to refit the best trial."""
        return self.deadline - self.reserve(self.best)

    def seconds_left(self) -> float:
        return self.end - time.monotonic()

    def _done(self) -> bool:
        limit_hit = self.max_trials is not None and len(self.results) >= self.max_trials
        return limit_hit or self.seconds_left() < MIN_TRIAL_SECONDS

    @property
    def best(self) -> TrialResult | None:
        ok = [r for r in self.results if r.status == "ok"]
        return min(ok, key=lambda r: r.loss) if ok else None

    def _run(self, family: ModelFamily, params: dict, stage: str, share: float) -> TrialResult:
        if self.best is None:  # nothing to fall back on yet: this trial may use most of the time
            share = max(share, self.first_share)
        left = self.seconds_left()
        trial_deadline = time.monotonic() + max(left * share, min(left, MIN_TRIAL_SECONDS * 4))
        end = self.end
        trial_deadline = min(trial_deadline, end)
        trial_id = len(self.results) + 1
        result = run_trial(trial_id, family, params, stage, self.ws, self.metric,
                           n_threads=self.n_threads, seed=self.seed + trial_id,
                           deadline=trial_deadline, hard_deadline=end)
        self.results.append(result)  # (its fold models went to disk as they were fitted)
        self._prune()
        if self.on_event:
            self.on_event(SearchEvent(stage, result, len(self.results), self.best, self.seconds_left()))
        return result

    def _prune(self) -> None:
        """Free the fold models and out-of-fold outputs of trials that cannot make the ensemble."""
        ok = sorted((r for r in self.results if r.status == "ok"), key=lambda r: r.loss)
        for r in ok[KEEP_TOP:]:
            self.ws.spill.discard(r.models)
            r.models, r.oof = [], None

    # -- stages ------------------------------------------------------------------------
    def run(self) -> list[TrialResult]:
        self._defaults()
        self._tune()
        return self.results

    def _defaults(self) -> None:
        """Round-robin over families: every family's best default first, then the next."""
        configs = {f.key: f.default_configs(self.ws.task, self.ws.n_rows, self.ws.n_features)
                   for f in self.families}
        depth = max((len(c) for c in configs.values()), default=0)
        for round_ in range(depth):
            pending = [f for f in self.families if round_ < len(configs[f.key])]
            for j, family in enumerate(pending):
                if self._done():
                    return
                if round_ > 0 and not self._worth_more(family):
                    continue
                share = max(DEFAULT_SHARE / (round_ + 1), 1.0 / (len(pending) - j + 1))
                self._run(family, configs[family.key][round_], "default", min(share, 0.5))

    def _worth_more(self, family: ModelFamily) -> bool:
        """After the first round, spend time only on families in the top half that finished fast."""
        ranked = self._family_ranking()
        if family.key not in ranked[: max(TOP_FAMILIES, math.ceil(len(ranked) / 2))]:
            return False
        last = [r for r in self.results if r.family == family.key][-1]
        return last.fit_time < self.seconds_left() * 0.5

    def _family_ranking(self) -> list[str]:
        best: dict[str, float] = {}
        for r in self.results:
            if r.status == "ok":
                best[r.family] = min(best.get(r.family, math.inf), r.loss)
        return sorted(best, key=best.get)

    def _tune(self) -> None:
        """Optuna TPE per family, visiting the top families in a 3:2:1 weighted rotation."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        by_key = {f.key: f for f in self.families}
        studies: dict[str, optuna.Study] = {}
        step = 0
        while not self._done():
            ranked = [k for k in self._family_ranking() if self._affordable(k)][:TOP_FAMILIES]
            if not ranked:
                return
            rotation = [ranked[i] for i in (0, 1, 0, 2, 0, 1) if i < len(ranked)]
            key = rotation[step % len(rotation)]
            step += 1
            if key not in studies:
                studies[key] = _study(optuna, self.seed + zlib.crc32(key.encode()) % 10_000)
            study = studies[key]
            trial = study.ask()
            params = by_key[key].search_space(trial, self.ws.task, self.ws.n_rows, self.ws.n_features)
            result = self._run(by_key[key], params, "tuned", TUNE_SHARE)
            if result.status == "ok":
                study.tell(trial, result.loss)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def _affordable(self, key: str) -> bool:
        """A family whose typical trial still fits in the time left."""
        times = [r.fit_time for r in self.results if r.family == key and r.status == "ok"]
        return bool(times) and float(np.median(times)) < self.seconds_left()


def _study(optuna, seed: int):
    """A seeded multivariate TPE study (quietly: multivariate TPE is flagged experimental)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=4, multivariate=True)
    return optuna.create_study(direction="minimize", sampler=sampler)
