"""The responsible-use sections of the technical report as plain data: fairness across
groups of the sensitive columns, and the model card (intended use, data, evaluation,
limitations, ethical considerations, versions)."""

from __future__ import annotations

import re

from ._format import SPLIT_TITLES, is_number, join_words, num, timestamp, unavailable
from .summary import caveat_sentences, task_words

HEADLINE_GAPS = {"binary": ("demographic_parity_difference", "equalized_odds_difference"),
                 "multiclass": ("accuracy_gap",), "regression": ("mae_gap_relative",)}
REDUNDANT_GROUP_METRICS = ("share", "false_negative_rate", "error_rate")  # 1 - another column
SENSITIVE_HINTS = ("sex", "gender", "race", "ethnic", "religion", "nationality", "marital",
                   "disab", "pregnan", "age")
DROPPED_KINDS = ("id", "constant", "ignored", "leakage")


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
