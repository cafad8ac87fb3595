"""The served model (champion) against a shadow challenger, on the same requests.

A shadow challenger predicts every logged request next to the served model without its
answer reaching the client. Where the outcome came back, both are scored with the served
model's metric on exactly the same rows, and a paired bootstrap says whether the
difference is real.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.metrics import get_metric
from ..exceptions import MLExpertError
from .performance import paired_difference


def compare_shadows(trackers: dict, performance_thresholds: dict) -> list[dict]:
    """One entry per (champion version, shadow version) pair with labelled rows in common."""
    out = []
    min_rows = int(performance_thresholds.get("min_labelled", 30))
    for (model, version, shadow), challenger in trackers.items():
        if not shadow:
            continue
        theirs = challenger.labelled()
        for (m, v, s), champion in trackers.items():
            if m != model or s or v == version:
                continue
            entry = _compare(champion, challenger, champion.labelled(), theirs, min_rows)
            if entry is not None:
                out.append(entry)
    return out


def _compare(champion, challenger, ours, theirs, min_rows: int) -> dict | None:
    if ours is None or theirs is None:
        return None
    _, i, j = np.intersect1d(ours[0], theirs[0], assume_unique=False, return_indices=True)
    if not len(i):
        return None
    a, b = champion.info, challenger.info
    entry = {"model": a.name, "champion": a.version, "challenger": b.version, "n": int(len(i)),
             "metric": a.metric, "champion_score": None, "challenger_score": None,
             "improvement": None, "ci_low": None, "ci_high": None, "verdict": None, "detail": ""}
    if a.kind != b.kind or [str(c) for c in a.classes] != [str(c) for c in b.classes]:
        entry["detail"] = "the two versions predict different classes or tasks: not comparable"
        return entry
    if len(i) < min_rows:
        entry["detail"] = f"{len(i)} labelled requests in common (< {min_rows}): too few to compare"
        return entry
    try:
        metric = get_metric(a.metric, a.kind)
    except MLExpertError as exc:
        entry["detail"] = str(exc)
        return entry
    diff = paired_difference(metric, ours[1][i], ours[2][i], theirs[2][j])
    entry.update(champion_score=diff["base"], challenger_score=diff["other"],
                 improvement=diff["improvement"], ci_low=diff["ci_low"], ci_high=diff["ci_high"])
    if diff["ci_low"] is None:
        entry["detail"] = "the metric is undefined on these rows"
    elif diff["ci_low"] > 0:
        entry["verdict"] = "challenger better"
    elif diff["ci_high"] < 0:
        entry["verdict"] = "champion better"
    else:
        entry["verdict"] = "no clear difference"
    if entry["verdict"]:
        entry["detail"] = (f"{metric.name}: champion {diff['base']:.4g}, challenger "
                           f"{diff['other']:.4g} on {len(i):,} labelled requests; improvement "
                           f"{diff['improvement']:+.4g} (95% CI {diff['ci_low']:+.4g} to "
                           f"{diff['ci_high']:+.4g})")
    return entry
