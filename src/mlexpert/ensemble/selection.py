"""From trials to an ensemble: greedy selection over the best trials, under an optional
single-row latency cap."""

from __future__ import annotations

import time

from ..evaluation.leaderboard import combined_rows_per_s
from ..evaluation.metrics import Metric
from ..exceptions import NoModelTrainedError
from ..search.searcher import KEEP_TOP
from ..search.workspace import Workspace
from .greedy import BAG_MAX_ROWS, bagged_selection, greedy_selection
from .latency import LatencyModel


def select_ensemble(results: list, ws: Workspace, metric: Metric, seed: int, deadline: float,
                    latency: LatencyModel | None = None,
                    cap_ms: float | None = None) -> tuple[list, dict, list[str]]:
    """Greedy ensemble selection over the out-of-fold outputs of the best trials, bagged
    over bootstrap resamples of the rows on tables of up to ``BAG_MAX_ROWS`` rows.

    With ``cap_ms`` (and the ``latency`` measured for the candidates), only ensembles
    whose estimated single-row latency stays under the cap are built; if no single
    candidate meets it, the fastest one is used alone. Returns the kept (trial, weight)
    pairs, the ensemble's summary and notices for the user.
    """
    ok = sorted((r for r in results if r.status == "ok"), key=lambda r: r.loss)
    if not ok:
        reasons = "; ".join(f"{r.name}: {r.status} ({r.reason})" for r in results[:8]) or "no trial ran"
        raise NoModelTrainedError(
            f"No model could be trained: {reasons}. Give more time (--time) or fix the data."
        )
    t0 = time.monotonic()
    candidates, notices, allowed = ok[:KEEP_TOP], [], None
    if cap_ms is not None and latency is not None:
        candidates, allowed, notices = _under_cap(candidates, latency, cap_ms)
    mask = ws.folds.validated
    outputs = [r.oof[mask] for r in candidates]
    if allowed is None and len(mask) <= BAG_MAX_ROWS:  # a cap is checked per ensemble: no bags
        weights_arr, _ = bagged_selection(outputs, ws.y[mask], metric, seed=seed, deadline=deadline)
    else:
        weights_arr, _ = greedy_selection(outputs, ws.y[mask], metric, seed=seed,
                                          deadline=deadline, allowed=allowed)
    kept = [(r, float(w)) for r, w in zip(candidates, weights_arr) if w > 0]
    kept, pruned = prune_members(kept, ws.y[mask], mask, metric)
    blended = blend_oof(kept, {r.name: w for r, w in kept}, mask)
    loss = metric.loss(ws.y[mask], blended)
    if loss > candidates[0].loss:  # subsampled selection can be worse on all rows
        kept, loss, pruned = [(candidates[0], 1.0)], candidates[0].loss, {}
    ensemble = {"score": -loss if metric.greater_is_better else loss, "loss": loss,
                "weights": {r.name: w for r, w in kept}, "fit_time": round(time.monotonic() - t0, 3),
                "rows_per_s": combined_rows_per_s([r.predict_rows_per_s for r, _ in kept]),
                "pruned": pruned}
    if latency is not None:
        ensemble["latency_estimate_ms"] = round(latency.estimate(r.name for r, _ in kept), 3)
    return kept, ensemble, notices


PRUNE_TOLERANCE = 0.001  # relative loss a member must buy to stay (the benchmark's tie)


def prune_members(kept: list, y, mask, metric: Metric,
                  tolerance: float | None = None) -> tuple[list, dict[str, float]]:
    """Drop members whose out-of-fold contribution is below ``tolerance``, least weight
    first (ties by name: the order never depends on measured timings, so the same seed
    gives the same ensemble).

    Every member multiplies prediction time (by five when it keeps its fold models), and
    greedy selection adds members for gains far below the noise of a validation score.
    A member goes when the ensemble without it (weights renormalised) loses at most
    ``tolerance`` of the selected ensemble's loss; drops are measured against that
    original loss, so together they cost at most ``tolerance`` (default
    :data:`PRUNE_TOLERANCE`; ``-inf`` keeps every member). Returns the kept pairs and the
    relative loss change of each dropped member.
    """
    tolerance = PRUNE_TOLERANCE if tolerance is None else tolerance
    full = metric.loss(y, blend_oof(kept, {r.name: w for r, w in kept}, mask))
    allowance = tolerance * max(abs(full), 1e-12)
    pruned: dict[str, float] = {}
    for r, _ in sorted(kept, key=lambda pair: (pair[1], pair[0].name)):
        if len(kept) == 1:
            break
        rest = [(m, w) for m, w in kept if m is not r]
        total = sum(w for _, w in rest)
        rest = [(m, w / total) for m, w in rest]
        loss = metric.loss(y, blend_oof(rest, {m.name: w for m, w in rest}, mask))
        if loss - full <= allowance:
            kept = rest
            pruned[r.name] = round((loss - full) / max(abs(full), 1e-12), 6)
    return kept, pruned


def blend_oof(kept: list, weights: dict[str, float], mask):
    """Out-of-fold outputs of the ``kept`` (trial, weight) pairs, averaged with ``weights``
    by trial name (members absent from ``weights`` are left out)."""
    return sum(weights[r.name] * r.oof[mask] for r, _ in kept if r.name in weights)


def _under_cap(candidates: list, latency: LatencyModel, cap_ms: float):
    """Candidates that meet the cap alone (best first), and the rule for adding more."""
    measured = [r for r in candidates if r.name in latency]
    fits = [r for r in measured if latency.estimate([r.name]) <= cap_ms]
    if not fits:
        fastest = min(measured, key=lambda r: latency.estimate([r.name]))
        return [fastest], None, [
            f"No model meets --max-latency-ms {cap_ms:g}: the fastest, {fastest.name}, takes "
            f"about {latency.estimate([fastest.name]):.1f} ms per row and is used alone. "
            "Raise the cap or allow a larger time budget for faster models."]

    def allowed(chosen: set[int], i: int) -> bool:
        names = [fits[j].name for j in chosen] + [fits[i].name]
        return latency.estimate(names) <= cap_ms

    return fits, allowed, []
