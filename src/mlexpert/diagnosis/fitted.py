"""Diagnose the model a fit chose: learning curve of its best affordable trial, on the
fit's own folds (their encoded matrices are reused), within a deadline."""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from ..models._base import FitContext
from ..models.registry import get_family
from .curve import FRACTIONS, Split, learning_curve, take_rows
from .verdict import judge

CANDIDATES = 5  # the best trials considered; the best one that fits in the time is used


def diagnose_fit(results: list, ws, metric, *, deadline: float, n_threads: int,
                 seed: int = 0) -> dict:
    """The ``diagnosis`` section of the manifest (JSON-ready)."""
    ok = sorted((r for r in results if r.status == "ok" and r.models), key=lambda r: r.loss)
    chosen = _affordable(ok[:CANDIDATES], ws, deadline)
    if chosen is None:
        return {**judge([]), "model": None, "metric": metric.name,
                "greater_is_better": metric.greater_is_better, "curve": []}
    family = get_family(chosen.family)
    views = [ws.fold(family.profile, i) for i in range(len(ws.folds))]
    def full(view, model):  # the search's fold model: its validation outputs are known
        def outputs():
            with threadpool_limits(n_threads):
                return family.predict(model, view.X_train, ws.task), chosen.oof[view.valid_index]
        return outputs

    splits = [Split(view.y_train, view.y_valid, full(view, model))
              for view, model in zip(views, chosen.models)]

    def fit_predict(s: int, rows: np.ndarray):
        view = views[s]
        X = take_rows(view.X_train, rows)
        ctx = FitContext(ws.task, ws.n_classes, n_threads, seed + s, deadline)
        with threadpool_limits(n_threads):
            model = family.fit(X, view.y_train[rows], chosen.params, ctx, view.X_valid, view.y_valid)
            return family.predict(model, X, ws.task), family.predict(model, view.X_valid, ws.task)

    points = learning_curve(fit_predict, splits, n_classes=ws.n_classes, fractions=FRACTIONS,
                            seed=seed, deadline=deadline, seconds_per_row=_seconds_per_row(chosen, ws),
                            score=metric.score)
    verdict = judge(points, metric=metric.name)
    if verdict["verdict"] == "underfitting":
        verdict = _limited_signal(verdict, chosen, ok, metric)
    return {"model": chosen.name, "metric": metric.name,
            "greater_is_better": metric.greater_is_better,
            "curve": [p.to_dict() for p in points], **verdict}


FLEXIBLE = ("lightgbm", "xgboost", "catboost", "random_forest", "extra_trees", "mlp")


def _limited_signal(verdict: dict, chosen, ok: list, metric) -> dict:
    """An underfit-looking best model is not underfitting when flexible families were tried
    and did no better on validation: the data, not the model, limits the score."""
    others = [r for r in ok if r.family in FLEXIBLE and r.family != chosen.family]
    if not others or chosen is not ok[0]:
        return verdict
    rival = others[0]  # ok is sorted by loss
    evidence = verdict["evidence"] + [
        f"More flexible models did no better on validation: the best, {rival.name}, scored "
        f"{metric.name} {rival.score:.4g} against {chosen.score:.4g}."
    ]
    return {"verdict": "fine",
            "headline": "The model does about as well as these columns allow: even on its training "
                        "rows much of the outcome stays unexplained, and more flexible models did "
                        "no better, so the rest looks like noise or missing information.",
            "evidence": evidence,
            "advice": ["Add columns that carry more information about the target; more tuning "
                       "or more flexible models are unlikely to help much."]}


def _seconds_per_row(result, ws) -> float:
    rows = float(np.mean([len(tr) for tr, _ in ws.folds.splits]))
    return result.fold_seconds / max(rows, 1.0)


def _affordable(candidates: list, ws, deadline: float):
    """The best candidate whose smaller fits on one fold should end before ``deadline``."""
    left = deadline - time.monotonic()
    share = sum(f for f in FRACTIONS if f < 1.0)
    for r in candidates:
        if np.isfinite(r.fold_seconds) and r.fold_seconds * share * 1.2 < left:
            return r
    return None
