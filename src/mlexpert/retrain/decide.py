"""``retrain``: fit a challenger, compare it with the champion, promote it or keep the champion.

The order makes an interrupted retrain harmless: the challenger is fitted into a temporary
directory and scored before the registry is touched; only then is it registered (a
candidate whose parent is the champion), promoted when it wins, and the decision recorded
as a ``retrain`` event. A failed or killed fit registers nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..evaluation.metrics import get_metric
from ..exceptions import ChampionChangedError, InvalidParameterError
from ..registry import Registry
from ..registry.versions import default_actor, utc_now
from .challenger import fit_challenger, fit_settings, paired_outputs
from .compare import RESAMPLES, paired_bootstrap
from .data import assemble, unix_seconds


def retrain(registry: Registry | str | os.PathLike, name: str, data, *, eval_data=None,
            eval_from_log: bool = False, include_log: bool = False, window: int | None = None,
            time_limit=None, alpha: float = 0.05, min_improvement: float = 0.0,
            promote: bool = True, seed: int | None = None, n_jobs: int = -1,
            by: str | None = None, on_event=None) -> dict:
    """Retrain ``name`` on new data and promote the challenger only if it is significantly better.

    Parameters
    ----------
    registry : Registry or path
        The registry holding ``name`` (its store also holds the prediction log).
    data : path, DataFrame, or a list of them
        The new labelled rows (the champion's target column included).
    eval_data, eval_from_log
        The evaluation rows: a labelled table, or the labelled prediction log since the
        champion was registered; by default the most recent 20% of ``data``, held out.
    include_log : bool
        Also train on every labelled prediction-log row.
    window : int, optional
        Train on the most recent ``window`` rows only.
    time_limit, seed
        Override the champion's budget and seed (its other fit settings are repeated).
    alpha, min_improvement
        Promote when the paired bootstrap p-value is below ``alpha`` and the challenger
        beats the champion by at least ``min_improvement`` (in metric units).
    promote : bool
        False: register and compare, but never promote.

    Returns the decision (JSON-serialisable), also recorded in the registry.
    """
    _check_rule(alpha, min_improvement)
    if not isinstance(registry, Registry):
        registry = Registry(registry)
    by = by or default_actor()
    champion = registry.get(name)  # the champion; clear errors for unknown names
    from .. import api

    champion_model = api.load(champion.path)
    settings = fit_settings(champion_model.manifest, time_limit=time_limit, seed=seed)
    target = settings["target"]
    rows = assemble(data, target=target, time_column=settings.get("time_column"),
                    eval_data=eval_data, eval_from_log=eval_from_log, include_log=include_log,
                    window=window, store=registry.store, name=name,
                    since=unix_seconds(champion.created_at))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlexpert-retrain-") as work:
        model = fit_challenger(rows.train, settings, Path(work) / "model", n_jobs=n_jobs,
                               on_event=on_event)
        fit_seconds = time.monotonic() - started
        truth, champ_out, chall_out, _ = paired_outputs(champion_model, model, rows.eval, target)
        metric = get_metric(champion_model.pipeline.metric, champion_model.pipeline.task.kind)
        test = paired_bootstrap(metric, truth, champ_out, chall_out, resamples=RESAMPLES,
                                seed=int(settings.get("seed") or 0))
        wins, reason = promotion_rule(test, alpha=alpha, min_improvement=min_improvement)
        challenger = registry.register(model.path, name, parent=champion.version,
                                       note="retrain", by=by)
    decision = _decision(name, champion, challenger, model, test, rows, settings, fit_seconds,
                         alpha=alpha, min_improvement=min_improvement, by=by)
    outcome, reason = _outcome(wins, reason, promote=promote, compared=champion.version,
                               current=registry.champion(name))
    decision.update(promoted=outcome == "promoted", outcome=outcome, reason=reason)
    if outcome == "promoted":
        try:  # conditional: a champion promoted since the check above is never archived
            registry.promote(name, challenger.version, evidence={"retrain": decision}, by=by,
                             if_champion=champion.version)
        except ChampionChangedError as exc:
            outcome, reason = _outcome(wins, reason, promote=promote, compared=champion.version,
                                       current=exc.current)
            decision.update(promoted=False, outcome=outcome, reason=reason)
    registry.record(name, "retrain", version=challenger.version, evidence=decision, by=by)
    return decision


def promotion_rule(test: dict, *, alpha: float, min_improvement: float) -> tuple[bool, str]:
    """Whether the challenger wins (p < alpha and improvement >= min_improvement), and why."""
    p, gain = test["bootstrap"]["p_value"], test["improvement"]["value"]
    metric = test["metric"]
    if not p < alpha:
        return False, (f"the challenger is not significantly better on "
                       f"{metric} (p = {p:.4g} >= alpha {alpha:g}; improvement {gain:+.4g})")
    if not gain >= min_improvement:
        return False, (f"the challenger is better on {metric} (p = {p:.4g}) "
                       f"but by {gain:.4g}, under the required improvement {min_improvement:g}")
    return True, (f"the challenger is significantly better on {metric}: improvement {gain:+.4g} "
                  f"(p = {p:.4g} < alpha {alpha:g}, required improvement {min_improvement:g})")


def _outcome(wins: bool, reason: str, *, promote: bool, compared: int, current) -> tuple[str, str]:
    """promoted, champion_stays, challenger_better_not_promoted or champion_changed (another
    version was promoted while the challenger was fitted: it beat a retired champion).
    ``current``: the champion now (a VersionInfo, its version number, or None)."""
    if not wins:
        return "champion_stays", reason
    if not promote:
        return "challenger_better_not_promoted", f"{reason}; not promoted (promote=False)"
    now = getattr(current, "version", current)
    if now != compared:
        return "champion_changed", (f"{reason}; not promoted: the champion changed during the "
                                    f"retrain (now version {now}, compared with {compared})")
    return "promoted", reason


def _decision(name, champion, challenger, model, test, rows, settings, fit_seconds, *,
              alpha, min_improvement, by) -> dict:
    manifest = model.manifest
    return {
        "model": name, "at": utc_now(), "by": by, "metric": test["metric"],
        "greater_is_better": test["greater_is_better"],
        "rule": {"test": "paired bootstrap over the evaluation rows, one-sided",
                 "alpha": alpha, "min_improvement": min_improvement},
        "champion": {"version": champion.version, **test["champion"],
                     "data_fingerprint": champion.data_fingerprint},
        "challenger": {"version": challenger.version, **test["challenger"],
                       "data_fingerprint": manifest.get("data_fingerprint"),
                       "cv_score": manifest.get("cv_score"), "fit_seconds": round(fit_seconds, 3),
                       "time_limit": settings.get("time_limit"), "seed": settings.get("seed")},
        "improvement": test["improvement"], "p_value": test["bootstrap"]["p_value"],
        "bootstrap": test["bootstrap"], "wilcoxon": test["wilcoxon"],
        "evaluation": rows.evaluation, "training": rows.training,
    }


def _check_rule(alpha, min_improvement) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InvalidParameterError(f"alpha must be a number between 0 and 1 (e.g. 0.05). Got {alpha!r}.")
    if (isinstance(min_improvement, bool) or not isinstance(min_improvement, (int, float))
            or not min_improvement >= 0):
        raise InvalidParameterError("min_improvement must be a number >= 0, in the metric's units. "
                                    f"Got {min_improvement!r}.")
