"""The technical sections as plain data (tables and sentences), shared by the HTML, Markdown
and JSON renderers. Every builder copes with its manifest section being absent: it returns
``{"available": False, "reason": ...}``. Charts are drawn elsewhere (``figures.py``)."""

from __future__ import annotations

import json
import math
import re

import pandas as pd

from ._format import (LOWER_IS_BETTER, is_number, join_words, metric_label, metric_num, num, pct,
                      plural, seconds, timestamp)
from .summary import caveat_sentences, headline_assessment, task_words

SECTION_TITLES = {
    "summary": "Summary", "audit": "Data audit", "leaderboard": "Leaderboard",
    "metrics": "Metrics", "diagnosis": "Diagnosis", "importance": "Feature importance",
    "fairness": "Fairness", "model-card": "Model card", "budget": "Budget, latency and size",
}
SPLIT_TITLES = {"cross_validation": "Cross-validation (out-of-fold predictions)",
                "test": "Test set"}
LEADERBOARD_ROWS = 15
LEADERBOARD_COLUMNS = ("rank", "model", "family", "stage", "status", "score", "score_std",
                       "fit_time_s", "latency_ms", "size_mb", "weight", "reason")
TEXT_COLUMNS = ("model", "family", "stage", "status", "reason")
HEADLINE_GAPS = {"binary": ("demographic_parity_difference", "equalized_odds_difference"),
                 "multiclass": ("accuracy_gap",), "regression": ("mae_gap_relative",)}
REDUNDANT_GROUP_METRICS = ("share", "false_negative_rate", "error_rate")  # 1 - another column
MAX_FEATURE_ROWS = 20
VERDICTS = {"overfitting": "Overfitting", "underfitting": "Underfitting",
            "more_data": "More data would help", "fine": "Fine", "unknown": "Unknown"}
SENSITIVE_HINTS = ("sex", "gender", "race", "ethnic", "religion", "nationality", "marital",
                   "disab", "pregnan", "age")
DROPPED_KINDS = ("id", "constant", "ignored", "leakage")


def unavailable(what: str) -> dict:
    return {"available": False, "reason": f"{what} is not available for this model."}


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


# ---------------------------------------------------------------- fairness

def fairness_section(fairness: dict | None, manifest: dict, schema: dict | None = None) -> dict:
    """Out-of-fold fairness, and on the test rows when ``fairness["test"]`` is there."""
    if not fairness:
        hint = sensitive_hint(schema)
        out = unavailable("A fairness check")
        out["reason"] += (" Pass the sensitive columns to fit (--sensitive COL) to check it."
                          + (f" Columns that may be sensitive: {join_words(hint)}." if hint else ""))
        return out
    threshold = fairness.get("threshold")
    task = fairness.get("task") or (manifest.get("task") or {}).get("kind", "")
    parts = [("cv", "Out-of-fold predictions", fairness)]
    if isinstance(fairness.get("test"), dict):
        parts.append(("test", "Test rows", fairness["test"]))
    blocks = [{"key": key, "title": title, "on": part.get("on", ""),
               "columns": fairness_columns(part, HEADLINE_GAPS.get(task, ()), threshold)}
              for key, title, part in parts]
    mitigation = dict.fromkeys(text_of(m) for _, _, part in parts for m in part.get("mitigation") or [])
    return {"available": True, "threshold": num(threshold, 3) if is_number(threshold) else "",
            "decision_threshold": num(fairness.get("decision_threshold"), 3), "blocks": blocks,
            "flagged": [c["name"] for b in blocks for c in b["columns"] if c["flagged"]],
            "mitigation": list(mitigation),
            "notes": [text_of(n) for n in fairness.get("notes") or []]}


def fairness_columns(part: dict, headline_gaps: tuple, threshold) -> list[dict]:
    """One entry per sensitive column: groups table, differences (headline gaps above the
    threshold flagged), findings and notes."""
    columns = []
    for name, col in (part.get("columns") or {}).items():
        if not isinstance(col, dict):
            continue
        groups = group_rows(col.get("groups"))
        if groups and isinstance(part.get("overall"), dict):
            groups += [{**group_rows({"all rows": part["overall"]})[0], "overall": True}]
        metrics = [k for k in dict.fromkeys(k for g in groups for k in g["values"])
                   if k not in REDUNDANT_GROUP_METRICS]
        differences = []
        for key, value in (col.get("differences") or {}).items():
            value = value.get("value") if isinstance(value, dict) else value
            differences.append({"name": key.replace("_", " "), "value": num(value, 3),
                                "headline": key in headline_gaps,
                                "flagged": key in headline_gaps and is_number(value)
                                and is_number(threshold) and abs(value) > threshold})
        small = list(col.get("small_groups") or [])
        notes = [text_of(n) for n in col.get("notes") or []]
        if small:
            notes.append(f"Groups with too few rows to compare: {join_words(map(str, small))}.")
        if col.get("uncertain"):
            notes.append("The groups are small: the true gap may be below the threshold.")
        columns.append({"name": name, "flagged": bool(col.get("flagged")), "groups": groups,
                        "metrics": metrics, "headers": [m.replace("_", " ") for m in metrics],
                        "differences": differences,
                        "findings": [text_of(f) for f in col.get("findings") or []],
                        "notes": notes})
    return columns


def group_rows(groups) -> list[dict]:
    """Groups given as ``{group: {metric: value}}`` or ``[{"group": g, metric: value}]``."""
    if isinstance(groups, dict):
        items = list(groups.items())
    elif isinstance(groups, list):
        items = [(g.get("group", g.get("name", "")), {k: v for k, v in g.items()
                                                      if k not in ("group", "name")}) for g in groups
                 if isinstance(g, dict)]
    else:
        items = []
    rows = []
    for group, values in items:
        values = values if isinstance(values, dict) else {"value": values}
        rows.append({"group": str(group),
                     "values": {k: (f"{int(v):,}" if k == "n" and is_number(v) else num(v, 3))
                                for k, v in values.items()
                                if not str(k).startswith("_") and not isinstance(v, (dict, list))}})
    return rows


def text_of(item) -> str:
    """A finding or mitigation given as a string or as a dict with a message."""
    if isinstance(item, dict):
        title = item.get("title") or item.get("name") or item.get("option") or ""
        body = item.get("message") or item.get("description") or item.get("text") or ""
        return f"{title}: {body}" if title and body else str(title or body or item)
    return str(item)


def sensitive_hint(schema: dict | None) -> list[str]:
    """Input columns whose name suggests a protected attribute (sex, race, age, ...)."""
    out = []
    for column in (schema or {}).get("columns") or []:
        if column.get("kind") in DROPPED_KINDS:
            continue
        tokens = re.split(r"[^a-z]+", str(column.get("name", "")).lower())
        if any(t == h or (len(h) > 3 and t.startswith(h)) for t in tokens for h in SENSITIVE_HINTS):
            out.append(column["name"])
    return out


# ---------------------------------------------------------------- model card

def model_card_section(manifest: dict, schema: dict | None) -> dict:
    task = manifest.get("task") or {}
    target = manifest.get("target", "the target")
    columns = (schema or {}).get("columns") or []
    used = [c["name"] for c in columns if c.get("kind") not in DROPPED_KINDS]
    dropped = [f"{c['name']} ({c.get('kind')})" for c in columns if c.get("kind") in DROPPED_KINDS]
    inputs = f" ({join_words(used)})" if used and len(used) <= 12 else ""
    n_inputs = len(used) or manifest.get("n_features")
    intended = (f"Predicts {task_words(task, target)}. Use it on new rows that look like the "
                f"training data: the same {n_inputs} input columns{inputs}, collected the same way "
                "and from the same population. Use it as a decision aid; a person should review "
                "decisions with serious consequences for individuals.")
    data = [("Target", target), ("Task", task.get("kind", "")),
            ("Rows", f"{manifest['n_rows']:,}" if is_number(manifest.get("n_rows")) else ""),
            ("Input columns used", str(n_inputs or "")),
            ("Columns dropped", join_words(dropped) if dropped else "none"),
            ("Data fingerprint", manifest.get("data_fingerprint", "")),
            ("Trained on", timestamp(manifest.get("created_at", ""))),
            ("Validation", manifest.get("cv_strategy", ""))]
    evaluation = []
    metric = manifest.get("metric")
    for name, ev in (manifest.get("evaluation") or {}).items():
        m = ((ev or {}).get("metrics") or {}).get(metric) or {}
        if is_number(m.get("value")):
            ci = (f" (95% interval {num(m['ci_low'])} – {num(m['ci_high'])})"
                  if is_number(m.get("ci_low")) and is_number(m.get("ci_high")) else "")
            evaluation.append(f"{SPLIT_TITLES.get(name, name)}: {metric} {num(m['value'])}{ci} "
                              f"on {int(ev.get('n_rows', 0)):,} rows.")
    if not evaluation and is_number(manifest.get("cv_score")):
        evaluation.append(f"Cross-validation {metric}: {num(manifest['cv_score'])}.")
    limitations = caveat_sentences(manifest) + [
        "Quality was measured on data like the training data; it may degrade when the data "
        "change over time or come from a different source. Re-check it on recent data."]
    versions = [("mlexpert", manifest.get("mlexpert_version", "")),
                ("model format", str(manifest.get("format_version", "")))]
    versions += [(k, str(v)) for k, v in (manifest.get("libraries") or {}).items()]
    return {"available": True, "intended_use": intended, "data": [r for r in data if r[1]],
            "evaluation": evaluation, "limitations": limitations,
            "ethics": ethics_sentences(manifest, schema), "versions": versions}


def ethics_sentences(manifest: dict, schema: dict | None) -> list[str]:
    fairness = manifest.get("fairness")
    if fairness:
        columns = fairness.get("columns") or {}
        flagged = [n for n, c in columns.items() if isinstance(c, dict) and c.get("flagged")]
        out = [f"Fairness was checked across groups of {join_words(list(columns))}."]
        out.append(f"Gaps above the threshold were found for {join_words(flagged)}; see the "
                   "Fairness section for mitigation options." if flagged else
                   "No gap above the threshold was found.")
        return out
    out = ["No sensitive columns were declared, so fairness across groups was not checked."]
    hint = sensitive_hint(schema)
    if hint:
        out.append(f"The inputs include columns that may be sensitive ({join_words(hint)}); "
                   f"check them with `mlexpert fit ... --sensitive {hint[0]}` before using the "
                   "model for decisions about people.")
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
