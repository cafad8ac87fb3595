"""What stops a fitted pipeline from being exported, and the smaller models that can be.

Columns block everything (every member reads every column): free text is the one kind
without a faithful ONNX form (scikit-learn's TF-IDF tokenizer and the text-length features
have no exact ONNX equivalent). Members block only themselves: they can be left out
(``fallback="members"``: the others, their weights scaled to sum to 1) or replaced by the
best exportable member alone (``fallback="best"``).
"""

from __future__ import annotations

from dataclasses import replace

from ..evaluation.metrics import get_metric
from ..models.registry import get_family
from ..predictor import FittedPipeline
from ._families import member_problem
from .errors import ExportError

FALLBACKS = ("none", "members", "best")
EXPORTABLE = "lightgbm, xgboost, linear, random_forest, extra_trees, knn, mlp"
TEXT = ("free text is encoded with a TF-IDF tokenizer and text statistics that have no exact "
        "ONNX equivalent")


def find_blockers(pipeline: FittedPipeline) -> dict[str, str]:
    """The members of ``pipeline`` that have no faithful ONNX conversion, with the reason."""
    found = {}
    for member in pipeline.members:
        reason = member_problem(member)
        if reason:
            found[member.name] = reason
    return found


def member_scores(result) -> dict[str, float]:
    """Cross-validated score of each trial (and of "ensemble") from the leaderboard."""
    board = result.leaderboard
    if board is None or "model" not in board or "score" not in board:
        return {}
    return {str(m): float(s) for m, s in zip(board["model"], board["score"]) if s == s}


def restrict(pipeline: FittedPipeline, names: list[str]) -> FittedPipeline:
    """``pipeline`` with only the members called ``names``, weights rescaled to sum to 1."""
    kept = [m for m in pipeline.members if m.name in names]
    total = sum(m.weight for m in kept)
    members = [replace(m, weight=m.weight / total if total > 0 else 1.0 / len(kept)) for m in kept]
    fold = {get_family(m.family).profile for m in members if not m.refit}
    full = {get_family(m.family).profile for m in members if m.refit}
    return FittedPipeline(
        pipeline.schema, pipeline.task, pipeline.metric,
        {p: pps for p, pps in pipeline.preprocessors.items() if p in fold}, members,
        info=dict(pipeline.info),
        full_preprocessors={p: pp for p, pp in pipeline.full_preprocessors.items() if p in full},
        threshold=pipeline.threshold)


def best_member(pipeline: FittedPipeline, candidates: list[str], scores: dict[str, float]) -> str:
    """The candidate with the best cross-validated score (else the heaviest weight)."""
    metric = get_metric(pipeline.metric, pipeline.task.kind)
    weights = {m.name: m.weight for m in pipeline.members}

    def key(name: str):
        score = scores.get(name)
        if score is None:
            return (1, -weights[name])
        return (0, -score if metric.greater_is_better else score)

    return min(candidates, key=key)


def plan_export(result, left_out: dict[str, str], fallback: str):
    """The pipeline to export without the ``left_out`` members (name -> reason), and notices.

    Raises :class:`ExportError` for text columns, when nothing is left, or when members
    are left out and ``fallback`` is "none" (the message offers the alternatives).
    """
    pipeline = result.pipeline
    text = pipeline.schema.names("text")
    if text:
        names = ", ".join(repr(c) for c in text)
        raise ExportError(
            f"Cannot export: column(s) {names} are free text, and {TEXT}. Refit without them "
            f"(--ignore {','.join(text)}) or as categories (--categorical {','.join(text)}).")
    if not left_out:
        return pipeline, []
    listed = "; ".join(f"{name}: {reason}" for name, reason in left_out.items())
    ok = [m.name for m in pipeline.members if m.name not in left_out]
    if not ok:
        raise ExportError(f"No member of this model can be exported ({listed}). Refit with "
                          f"exportable families (--families {EXPORTABLE.replace(', ', ',')}).")
    scores = member_scores(result)
    metric = get_metric(pipeline.metric, pipeline.task.kind)
    best = best_member(pipeline, ok, scores)
    share = sum(m.weight for m in pipeline.members if m.name in ok)
    if fallback == "none":
        raise ExportError(
            f"{len(left_out)} of {len(pipeline.members)} ensemble members cannot be "
            f"exported ({listed}). Use --fallback members to export the other {len(ok)} "
            f"({share:.0%} of the weight, rescaled), or --fallback best for {best} alone"
            f"{_cost(scores, best, metric)}.")
    kept = f" The decision threshold tuned for the whole ensemble ({pipeline.threshold:g}) is kept." \
        if pipeline.threshold is not None else ""
    if fallback == "best":
        return restrict(pipeline, [best]), [f"Exported {best} alone{_cost(scores, best, metric)}.{kept}"]
    notice = (f"Exported {len(ok)} of {len(pipeline.members)} members ({share:.0%} of the "
              "weight, rescaled to 1); the cross-validated score of this subset is unknown (the "
              f"fold outputs are not saved): pass --data with the target column to measure it.{kept}")
    return restrict(pipeline, ok), [notice]


def _cost(scores: dict, name: str, metric) -> str:
    if name not in scores or "ensemble" not in scores:
        return ""
    delta = scores[name] - scores["ensemble"]
    return (f" (cross-validated {metric.name} {scores[name]:.4f} vs {scores['ensemble']:.4f} for "
            f"the ensemble, {delta:+.4f})")
