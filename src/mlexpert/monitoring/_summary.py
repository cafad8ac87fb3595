"""The plain-language summary of a monitoring result: a few sentences a non-specialist
can act on, in the report, the JSON and the command's output."""

from __future__ import annotations


def summary_text(models: list[dict], comparisons: list[dict], alerts: list[dict]) -> list[str]:
    """Sentences: what was checked, then per served version inputs, predictions and
    performance, then shadow comparisons and the alerts."""
    if not models:
        return ["No logged predictions match the selection: nothing to monitor. Check the "
                "store, the model name and the time range (and that the server logs "
                "predictions)."]
    lines = []
    for m in models:
        if m["shadow"]:
            continue
        head = (f"{m['model']} version {m['version']}: {m['n']:,} predictions from {_day(m['first'])} "
                f"to {_day(m['last'])} in {len(m['windows'])} window{'s' * (len(m['windows']) != 1)}; "
                f"{m['labelled']:,} with a known outcome.")
        lines.append(head)
        lines.append(_inputs(m))
        lines.append(_predictions(m))
        lines.append(_performance(m))
    for c in comparisons:
        if c["verdict"]:
            lines.append(f"Shadow test of {c['model']}: version {c['challenger']} against the served "
                         f"version {c['champion']}: {c['verdict']} ({c['detail']}).")
    if alerts:
        kinds = sorted({a["kind"].replace("_", " ") for a in alerts})
        lines.append(f"{len(alerts)} alert{'s' * (len(alerts) != 1)} ({', '.join(kinds)}): see below.")
    else:
        lines.append("No alert.")
    return [line for line in lines if line]


def _inputs(m: dict) -> str:
    drift = m.get("drift")
    if m.get("path") is None:
        return ("Drift and performance were not measured: no model directory for this version "
                "(see the notes).")
    if drift is None:
        return "Input drift was not measured: this version has no reference profile (see the notes)."
    flagged = [w for w in m["windows"] if (w.get("drift") or {}).get("drifted")]
    if not flagged and not drift["drifted"]:
        return "Inputs: no feature drifted; the data looks like the training data."
    columns = drift["drifted"] or flagged[-1]["drift"]["drifted"]
    shown = ", ".join(columns[:5]) + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
    when = f" in {len(flagged)} of {len(m['windows'])} windows" if flagged else " over the whole period"
    return (f"Inputs: {len(columns)} feature{'s' * (len(columns) != 1)} drifted{when} ({shown}): "
            "the data the model sees now differs from its training data, so its accuracy may "
            "differ too.")


def _predictions(m: dict) -> str:
    prediction = (m.get("drift") or {}).get("prediction")
    if not prediction:
        return ""
    if prediction["drifted"]:
        return f"Predictions: their distribution moved away from validation ({prediction['reason']})."
    return "Predictions: their distribution is in line with validation."


def _performance(m: dict) -> str:
    p = m.get("performance")
    if p is None:
        return ""
    if p["verdict"] is None:
        return f"Performance: not judged ({p['detail']})."
    decayed = [w for w in m["windows"] if (w.get("performance") or {}).get("verdict") == "decay"]
    if p["verdict"] == "decay" or decayed:
        where = f" in {len(decayed)} of {len(m['windows'])} windows" if decayed else ""
        return (f"Performance: decayed{where}; {p['detail']}. Consider retraining on recent "
                "data.")
    return f"Performance: in line with validation; {p['detail']}."


def _day(stamp: str | None) -> str:
    return (stamp or "?").replace("T", " ").removesuffix("Z") + (" UTC" if stamp else "")
