"""Render the report as Markdown (GitHub flavour): the same sections, tables and sentences as
the HTML page, without the charts."""

from __future__ import annotations

from .sections import SECTION_TITLES


def render_markdown(context: dict) -> str:
    head, summary, sections = context["head"], context["summary"], context["sections"]
    out = [f"# Model report: predicting {head['target']}", "",
           " · ".join(x for x in (head["task"], f"{head['metric']} {head['value']} ({head['split'].lower()})"
                                  if head["value"] else "", f"trained {head['created_at']}"
                                  if head["created_at"] else "", f"mlexpert {head['version']}") if x),
           "", "## Summary", "", summary["what"], "", "**How good is it?**", "",
           *bullets(summary["quality"]), "", "**What drives the predictions?**", "",
           *bullets(summary["drivers"]), "", "**What to watch out for**", "",
           *(bullets(summary["caveats"]) or ["No particular concerns were found."]), ""]
    for key, render in RENDERERS.items():
        section = sections[key]
        out += [f"## {SECTION_TITLES[key]}", ""]
        out += render(section) if section.get("available") else [f"_{section['reason']}_"]
        out.append("")
    out += [f"_{n}_" for n in context["notes"]]
    out.append("_Charts are in the HTML version of this report._")
    text = "\n".join(out).rstrip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def bullets(items) -> list[str]:
    return [f"- {_cell(i)}" for i in items]


def table(headers: list[str], rows: list[list], right: set[int] = frozenset()) -> list[str]:
    if not rows:
        return []
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _audit(s: dict) -> list[str]:
    c = s["counts"]
    out = [f"{s['rows_text']} and {s['columns_text']} checked: {c.get('critical', 0)} critical, "
           f"{c.get('warning', 0)} warning(s), {c.get('info', 0)} note(s).", ""]
    out += table(["severity", "check", "finding", "evidence", "action"],
                 [[f["severity"], f["check"], f["message"], f["evidence"], f["action"]]
                  for f in s["findings"]]) or ["No problems were found.", ""]
    return out + [f"_Note: {n}_" for n in s["notes"]]


def _leaderboard(s: dict) -> list[str]:
    columns = s["columns"]
    right = {i for i, c in enumerate(columns) if c not in s["text_columns"]}
    return [f"Best {len(s['rows'])} of {s['n_total']} by cross-validated {s['metric']} "
            f"({s['direction']}).", ""] + table(
        [s["headers"][c] for c in columns], [[r["cells"][c] for c in columns] for r in s["rows"]],
        right)


def _metrics(s: dict) -> list[str]:
    out = []
    t = s.get("threshold")
    if t:
        out += [f"Decision threshold: **{t['threshold']}** for class {t['positive_class']} "
                f"(tuned for {t['metric']}: {t['default']} at the default, {t['tuned']} tuned).", ""]
    for sp in s["splits"]:
        rows = f"{sp['n_rows']:,} rows" if isinstance(sp.get("n_rows"), int) else "rows: ?"
        out += [f"### {sp['title']} ({rows})", ""]
        out += table(["metric", "value", "95% interval"],
                     [[r["label"] + (" (optimised)" if r["primary"] else ""), r["value"], r["ci"]]
                      for r in sp["rows"]], {1, 2})
        out += table(["class", "precision", "recall", "F1", "rows"],
                     [[r["class"], r["precision"], r["recall"], r["f1"], r["support"]]
                      for r in sp["per_class"]], {1, 2, 3, 4})
        if sp.get("calibration"):
            cal = sp["calibration"]
            out += [f"Calibration ({cal['kind']}): expected calibration error {cal['ece']}, "
                    f"Brier score {cal['brier']}.", ""]
        if sp.get("residuals"):
            r = sp["residuals"]
            out += ["Residuals (actual − predicted): mean " + r["mean"] + ", std " + r["std"] + "; "
                    + ", ".join(f"{q} {v}" for q, v in r["quantiles"]) + ".", ""]
    return out


def _diagnosis(s: dict) -> list[str]:
    out = [f"**Verdict: {s['verdict_label']}.** {s['headline']}", ""]
    if s["evidence"]:
        out += ["Evidence:", "", *bullets(s["evidence"]), ""]
    if s["advice"]:
        out += ["Advice:", "", *bullets(s["advice"]), ""]
    out += table(["training rows", "share", "training score", "held-out score"],
                 [[p["n_train"], p["fraction"], p["train"], p["valid"]] for p in s["curve"]],
                 {0, 1, 2, 3})
    return out


def _importance(s: dict) -> list[str]:
    out = []
    if s.get("permutation"):
        p = s["permutation"]
        out += [f"Permutation importance (how much worse {p['metric']} gets when shuffled"
                + (f", on {p['on']}" if p["on"] else "") + "):", ""]
        out += table(["feature", "mean", "std"], [[r["feature"], r["mean"], r["std"]] for r in p["rows"]], {1, 2})
    if s.get("permutation_note"):
        out += [f"_{s['permutation_note']}_", ""]
    if s.get("shap"):
        sh = s["shap"]
        out += [f"SHAP (mean |value|, {sh['space']}; {sh['coverage']} of the ensemble weight):", ""]
        out += table(["feature", "mean |SHAP|"], [[r["feature"], r["mean_abs"]] for r in sh["rows"]], {1})
    if s.get("partial_dependence"):
        out += ["Partial dependence computed for: " + ", ".join(map(str, s["partial_dependence"])) + ".", ""]
    return out or ["_No importance was computed for this model._"]


def _fairness(s: dict) -> list[str]:
    out = []
    if s["threshold"]:
        out += [f"Headline gaps between groups above {s['threshold']} are flagged.", ""]
    for b in s["blocks"]:
        if len(s["blocks"]) > 1:
            out += [f"### {b['title']}", ""]
        if b["on"]:
            out += [f"Measured on {b['on']}.", ""]
        for c in b["columns"]:
            out += [f"#### {c['name']}: {'gap flagged' if c['flagged'] else 'within threshold'}", ""]
            out += table(["group", *c["headers"]],
                         [[g["group"], *[g["values"].get(m, "") for m in c["metrics"]]] for g in c["groups"]],
                         set(range(1, len(c["metrics"]) + 1)))
            out += table(["difference", "value"], [[d["name"] + (" **(flagged)**" if d["flagged"] else ""),
                                                    d["value"]] for d in c["differences"]], {1})
            out += bullets(c["findings"]) + ([""] if c["findings"] else [])
            out += [f"_Note: {n}_" for n in c["notes"]] + ([""] if c["notes"] else [])
    if s["mitigation"]:
        out += ["### Mitigation options", "", *bullets(s["mitigation"]), ""]
    return out


def _model_card(s: dict) -> list[str]:
    return ["### Intended use", "", s["intended_use"], "", "### Training data", "",
            *table(["item", "value"], s["data"]), "### Evaluation", "",
            *(bullets(s["evaluation"]) or ["Not available for this model."]), "",
            "### Limitations", "", *bullets(s["limitations"]), "",
            "### Ethical considerations", "", *bullets(s["ethics"]), "",
            "### Versions", "", " · ".join(f"{k} {v}" for k, v in s["versions"]), ""]


def _budget(s: dict) -> list[str]:
    out = table(["item", "value"], s["rows"])
    if s["members"]:
        out += ["Ensemble members:", ""]
        out += table(["model", "weight", "final model"],
                     [[m["model"], m["weight"], m["final_model"]] for m in s["members"]], {1})
    return out


RENDERERS = {"audit": _audit, "leaderboard": _leaderboard, "metrics": _metrics,
             "diagnosis": _diagnosis, "importance": _importance, "fairness": _fairness,
             "model-card": _model_card, "budget": _budget}
