"""The technical sections as plain data (tables and sentences), shared by the HTML, Markdown
and JSON renderers. Every builder copes with its manifest section being absent: it returns
``{"available": False, "reason": ...}``. Charts are drawn elsewhere (``figures.py``)."""

from __future__ import annotations

import json
import math

import pandas as pd

from ._format import (LOWER_IS_BETTER, SPLIT_TITLES, is_number, metric_label, metric_num, num,
                      pct, plural, seconds, timestamp, unavailable)
from .responsible import fairness_section, model_card_section
from .summary import headline_assessment

SECTION_TITLES = {
    "summary": "Summary", "audit": "Data audit", "leaderboard": "Leaderboard",
    "metrics": "Metrics", "diagnosis": "Diagnosis", "importance": "Feature importance",
    "fairness": "Fairness", "model-card": "Model card", "budget": "Budget, latency and size",
}
LEADERBOARD_ROWS = 15
LEADERBOARD_COLUMNS = ("rank", "model", "family", "stage", "status", "score", "score_std",
                       "fit_time_s", "latency_ms", "size_mb", "weight", "reason")
TEXT_COLUMNS = ("model", "family", "stage", "status", "reason")
MAX_FEATURE_ROWS = 20
VERDICTS = {"overfitting": "Overfitting", "underfitting": "Underfitting",
            "more_data": "More data would help", "fine": "Fine", "unknown": "Unknown"}


# ---------------------------------------------------------------- audit

def audit_section(audit: dict | None) -> dict:
    if not audit:
        return unavailable("A data audit")
    findings = [{"severity": f.get("severity", "info"), "check": f.get("check", ""),
                 "message": f.get("message", ""), "action": f.get("action", ""),
                 "columns": list(f.get("columns") or []),
                 "evidence": evidence_text(f.get("evidence"))}
                for f in audit.get("findings") or []]
    counts = audit.get("counts") or {s: sum(f["severity"] == s for f in findings)
                                      for s in ("critical", "warning", "info")}
    n_rows, n_columns = audit.get("n_rows"), audit.get("n_columns")
    return {"available": True, "n_rows": n_rows, "n_columns": n_columns,
            "rows_text": plural(int(n_rows), "row") if is_number(n_rows) else "The rows",
            "columns_text": plural(int(n_columns), "column") if is_number(n_columns) else "columns",
            "counts": counts, "findings": findings, "notes": list(audit.get("notes") or []),
            "seconds": audit.get("seconds")}


def evidence_text(evidence) -> str:
    """``{'distinct_values': 2000, 'rows': 2000}`` -> ``'distinct values 2,000; rows 2,000'``."""
    if not isinstance(evidence, dict):
        return "" if evidence is None else str(evidence)
    parts = []
    for key, value in evidence.items():
        if isinstance(value, float):
            value = num(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, default=str)
            value = value if len(value) <= 80 else value[:77] + "..."
        parts.append(f"{str(key).replace('_', ' ')} {value}")
    return "; ".join(parts)


# ---------------------------------------------------------------- leaderboard

def leaderboard_section(leaderboard: pd.DataFrame | None, manifest: dict) -> dict:
    if leaderboard is None or leaderboard.empty:
        return unavailable("The leaderboard")
    frame = leaderboard.sort_values("rank") if "rank" in leaderboard else leaderboard
    top = frame.head(LEADERBOARD_ROWS)
    columns = [c for c in LEADERBOARD_COLUMNS if c in top.columns and _shown(c, top[c])]
    rows = []
    for _, row in top.iterrows():
        cells = {c: cell_text(c, row[c]) for c in columns}
        weight = row.get("weight")
        rows.append({"cells": cells, "params": cell_text("params", row.get("params")),
                     "member": is_number(weight) and weight > 0 and row.get("family") != "ensemble",
                     "ensemble": row.get("family") == "ensemble",
                     "failed": str(row.get("status", "ok")) != "ok"})
    metric = manifest.get("metric", "score")
    headers = {c: column_header(c, metric) for c in columns}
    return {"available": True, "columns": columns, "headers": headers, "rows": rows,
            "n_total": int(len(frame)), "metric": metric, "text_columns": list(TEXT_COLUMNS),
            "direction": "lower is better" if metric in LOWER_IS_BETTER else "higher is better"}


def _shown(column: str, values: pd.Series) -> bool:
    """Always the key columns; others only when they say something in the rows shown."""
    if column in ("rank", "model", "score"):
        return True
    if column == "status":
        return bool((values.astype(str) != "ok").any())
    present = values.dropna()  # empty text counts as nothing (a leaderboard read from CSV has NaN)
    return bool((present.astype(str).str.strip() != "").any())


def column_header(column: str, metric: str) -> str:
    return {"rank": "#", "score": f"CV {metric}", "score_std": "± std", "fit_time_s": "fit (s)",
            "latency_ms": "latency (ms)", "size_mb": "size (MB)", "weight": "weight",
            "reason": "note"}.get(column, column)


def cell_text(column: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column == "rank":
        return str(int(value))
    if column == "weight":
        return "" if value == 0 else num(value, 3)
    if is_number(value):
        return num(value, 4)
    return str(value)


# ---------------------------------------------------------------- metrics

def metrics_section(manifest: dict) -> dict:
    evaluation = manifest.get("evaluation") or {}
    splits = [split_table(name, evaluation[name], manifest)
              for name in ("cross_validation", "test") if isinstance(evaluation.get(name), dict)]
    if not splits:
        return unavailable("An evaluation")
    return {"available": True, "splits": splits, "threshold": threshold_table(manifest.get("threshold")),
            "primary": manifest.get("metric")}


def split_table(name: str, ev: dict, manifest: dict) -> dict:
    primary = manifest.get("metric")
    rows = []
    for key, m in (ev.get("metrics") or {}).items():
        value, low, high = m.get("value"), m.get("ci_low"), m.get("ci_high")
        rows.append({"metric": key, "label": metric_label(key), "value": metric_num(value),
                     "ci": f"{metric_num(low)} – {metric_num(high)}"
                     if is_number(low) and is_number(high) else "",
                     "primary": key == primary,
                     "direction": "lower is better" if key in LOWER_IS_BETTER else "higher is better"})
    per_class = []
    for label, stats in (ev.get("per_class") or {}).items():
        per_class.append({"class": label, "precision": metric_num(stats.get("precision")),
                          "recall": metric_num(stats.get("recall")),
                          "f1": metric_num(stats.get("f1-score")),
                          "support": f"{int(stats.get('support', 0)):,}"})
    out = {"key": "cv" if name == "cross_validation" else name, "name": name,
           "decision_threshold": num(ev.get("decision_threshold"), 3),
           "title": SPLIT_TITLES.get(name, name), "n_rows": ev.get("n_rows"), "rows": rows,
           "per_class": per_class}
    cal = ev.get("calibration") or {}
    if is_number(cal.get("expected_calibration_error")):
        out["calibration"] = {"kind": cal.get("kind", ""), "ece": num(cal["expected_calibration_error"], 3),
                              "brier": num(((ev.get("metrics") or {}).get("brier") or {}).get("value"), 3)}
    res = ev.get("residuals") or {}
    if res:
        quantiles = res.get("quantiles") or {}
        out["residuals"] = {"mean": num(res.get("mean"), 3), "std": num(res.get("std"), 3),
                            "quantiles": [(f"{float(q) * 100:g}%", num(v, 3)) for q, v in quantiles.items()],
                            "spread_corr": num(res.get("abs_residual_vs_prediction_corr"), 2),
                            "largest": [{k: (num(v) if k != "row" else v) for k, v in r.items()}
                                        for r in (res.get("largest") or [])[:5]]}
    return out


def threshold_table(threshold: dict | None) -> dict | None:
    if not threshold or not is_number(threshold.get("threshold")):
        return None
    metric = threshold.get("metric", "")
    default = (threshold.get("default") or {}).get(metric)
    tuned = (threshold.get("tuned") or {}).get(metric)
    return {"metric": metric, "threshold": num(threshold["threshold"], 3),
            "positive_class": threshold.get("positive_class", ""),
            "default": num(default), "tuned": num(tuned)}


# ---------------------------------------------------------------- diagnosis

def diagnosis_section(diagnosis: dict | None) -> dict:
    if not diagnosis:
        return unavailable("A diagnosis (learning curve)")
    verdict = diagnosis.get("verdict", "unknown")
    curve = [{"n_train": f"{int(p['n_train']):,}" if is_number(p.get("n_train")) else "",
              "fraction": pct(p.get("fraction")), "train": num(p.get("train")),
              "valid": num(p.get("valid"))} for p in diagnosis.get("curve") or []]
    return {"available": True, "model": diagnosis.get("model", ""),
            "metric": diagnosis.get("metric", ""), "verdict": verdict,
            "verdict_label": VERDICTS.get(verdict, str(verdict)),
            "headline": diagnosis.get("headline", ""),
            "evidence": list(diagnosis.get("evidence") or []),
            "advice": list(diagnosis.get("advice") or []), "curve": curve}


# ---------------------------------------------------------------- importance

def importance_section(importance: dict | None) -> dict:
    if not importance:
        return unavailable("Feature importance")
    perm = importance.get("permutation") or {}
    shap = importance.get("shap") or {}
    out = {"available": True, "permutation": None, "shap": None,
           "partial_dependence": [p.get("feature") for p in importance.get("partial_dependence") or []]}
    if perm and not perm.get("features"):
        out["permutation_note"] = perm.get("note") or (
            "Permutation importance was not computed (the review ran out of time).")
    if perm.get("features"):
        out["permutation"] = {
            "on": perm.get("on", ""), "metric": perm.get("metric", ""),
            "n_repeats": perm.get("n_repeats"), "not_computed": list(perm.get("not_computed") or []),
            "rows": [{"feature": f.get("feature"), "mean": num(f.get("mean"), 3),
                      "std": num(f.get("std"), 2)} for f in perm["features"][:MAX_FEATURE_ROWS]],
            "n_features": len(perm["features"])}
    if shap.get("features"):
        out["shap"] = {
            "space": shap.get("space", ""), "coverage": pct(shap.get("coverage")),
            "members": list(shap.get("members") or []),
            "rows": [{"feature": f.get("feature"), "mean_abs": num(f.get("mean_abs"), 3)}
                     for f in shap["features"][:MAX_FEATURE_ROWS]],
            "n_features": len(shap["features"])}
    return out


# ---------------------------------------------------------------- budget

def budget_section(manifest: dict, leaderboard: pd.DataFrame | None) -> dict:
    budget = manifest.get("budget") or {}
    trials = manifest.get("trials") or {}
    latency = (manifest.get("latency") or {}).get("latency_ms")
    rows = [("Time limit", seconds(budget.get("limit_s"))),
            ("Search", seconds(budget.get("search_s"))),
            ("Ensembling", seconds(budget.get("ensemble_s"))),
            ("Refit on all rows", seconds(budget.get("refit_s"))),
            ("Total before saving", seconds(budget.get("elapsed_before_save_s"))),
            ("Trials", ", ".join(f"{v} {k}" for k, v in trials.items() if k != "total" and v)
             + (f" (of {trials['total']})" if "total" in trials else "")),
            ("Latency (one row)", f"{num(latency, 3)} ms" if is_number(latency) else ""),
            ("Model size", f"{num(manifest.get('model_size_mb'), 3)} MB"
             if is_number(manifest.get("model_size_mb")) else "")]
    rows = [r for r in rows if r[1]]
    members = []
    if leaderboard is not None and {"weight", "model"} <= set(leaderboard.columns):
        for _, row in leaderboard.iterrows():
            if row.get("family") != "ensemble" and is_number(row["weight"]) and row["weight"] > 0:
                members.append({"model": row["model"], "weight": num(row["weight"], 3),
                                "final_model": cell_text("final_model", row.get("final_model"))})
    if not rows and not members:
        return unavailable("Budget information")
    return {"available": True, "rows": rows, "members": members}


# ---------------------------------------------------------------- all of them

def build_sections(manifest: dict, leaderboard: pd.DataFrame | None, schema: dict | None) -> dict:
    """Every technical section, keyed by its stable id."""
    return {"audit": audit_section(manifest.get("audit")),
            "leaderboard": leaderboard_section(leaderboard, manifest),
            "metrics": metrics_section(manifest),
            "diagnosis": diagnosis_section(manifest.get("diagnosis")),
            "importance": importance_section(manifest.get("importance")),
            "fairness": fairness_section(manifest.get("fairness"), manifest, schema),
            "model-card": model_card_section(manifest, schema),
            "budget": budget_section(manifest, leaderboard)}


def headline(manifest: dict) -> dict:
    """Title facts: target, task, metric and its value on the headline split."""
    split, ev = headline_assessment(manifest)
    metric = manifest.get("metric", "")
    value = ((ev or {}).get("metrics") or {}).get(metric, {}).get("value", manifest.get("cv_score"))
    return {"target": manifest.get("target", ""), "task": (manifest.get("task") or {}).get("kind", ""),
            "metric": metric, "value": metric_num(value),
            "split": {"cross_validation": "cross-validation", "test": "test set"}.get(split, split),
            "created_at": timestamp(manifest.get("created_at", "")),
            "version": manifest.get("mlexpert_version", "")}
