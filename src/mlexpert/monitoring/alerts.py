"""Alerts from a monitoring result, the alert file a scheduler reads, and the exit code.

Kinds: ``drift`` (input features drifted), ``prediction_drift`` (the distribution of the
predictions moved) and ``decay`` (performance on fed-back outcomes is worse than the
validation estimate). One alert per kind and served model version, naming the latest
window where it happened and listing all of them. Shadow challengers raise no alerts.

Exit codes of ``mlexpert monitor``: ``0`` no alert (of the kinds ``--fail-on`` selects),
``ALERT_EXIT_CODE`` (10) an alert was raised; other non-zero codes are errors.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..exceptions import InvalidParameterError
from ..io import write_text

ALERT_EXIT_CODE = 10
FAIL_ON = {"drift": ("drift", "prediction_drift"), "decay": ("decay",),
           "any": ("drift", "prediction_drift", "decay"), "never": ()}
ALERT_FILE_FORMAT = 1


def build_alerts(models: list[dict]) -> list[dict]:
    """The alerts of the served model versions of a :func:`run_monitor` result."""
    alerts = []
    for entry in models:
        if entry["shadow"]:
            continue
        for kind, flagged in (("drift", _drifted_features), ("prediction_drift", _prediction_moved),
                              ("decay", _decayed)):
            alert = _alert(kind, entry, flagged)
            if alert is not None:
                alerts.append(alert)
    return alerts


def _alert(kind: str, entry: dict, flagged) -> dict | None:
    hits = [(w, flagged(w)) for w in entry["windows"]]
    hits = [(w, what) for w, what in hits if what]
    if hits:
        window, what = hits[-1]
        where = f"window {window['index'] + 1} of {len(entry['windows'])} ({window['start']} to {window['end']})"
        count = f"in {len(hits)} of {len(entry['windows'])} windows" if len(entry["windows"]) > 1 else ""
    else:
        what = flagged(entry)  # not in any window alone, but over all of them together
        if not what:
            return None
        window = {"index": "all", "start": entry["first"], "end": entry["last"]}
        where, count = f"all rows together ({entry['first']} to {entry['last']})", ""
    label = {"drift": "Input drift", "prediction_drift": "Prediction drift",
             "decay": "Performance decay"}[kind]
    detail = f"{label} {count + ', latest' if count else 'in'} {where}: {what}"
    return {"kind": kind, "model": entry["model"], "version": entry["version"],
            "window": window["index"], "start": window["start"], "end": window["end"],
            "windows": [w["index"] for w, _ in hits], "detail": detail}


def _drifted_features(w: dict) -> str:
    drift = w.get("drift") or {}
    if not drift.get("drifted"):
        return ""
    reasons = {f["column"]: f.get("reason", "") for f in drift.get("features", [])}
    shown = drift["drifted"][:5]
    more = f" and {len(drift['drifted']) - 5} more" if len(drift["drifted"]) > 5 else ""
    return "; ".join(f"{c} ({reasons.get(c, '')})" for c in shown) + more


def _prediction_moved(w: dict) -> str:
    prediction = (w.get("drift") or {}).get("prediction") or {}
    return prediction.get("reason", "changed") if prediction.get("drifted") else ""


def _decayed(w: dict) -> str:
    performance = w.get("performance") or {}
    return performance.get("detail", "") if performance.get("verdict") == "decay" else ""


def check_fail_on(fail_on: str) -> str:
    if fail_on not in FAIL_ON:
        raise InvalidParameterError(f"--fail-on must be one of {', '.join(FAIL_ON)}; got {fail_on!r}.")
    return fail_on


def exit_code(alerts: list[dict], fail_on: str = "any") -> int:
    """``ALERT_EXIT_CODE`` when an alert of a kind ``fail_on`` selects was raised, else 0."""
    kinds = FAIL_ON[check_fail_on(fail_on)]
    return ALERT_EXIT_CODE if any(a["kind"] in kinds for a in alerts) else 0


def alert_document(result: dict, fail_on: str = "any") -> dict:
    """What the alert file holds: when, the status, the alerts and the exit code."""
    alerts = result["summary"]["alerts"]
    return {"format": ALERT_FILE_FORMAT, "generated_at": result["generated_at"],
            "status": result["summary"]["status"], "fail_on": fail_on,
            "exit_code": exit_code(alerts, fail_on), "selection": result["selection"],
            "store": result["store"], "alerts": alerts}


def write_alert_file(result: dict, path: str | Path, fail_on: str = "any") -> Path:
    """Write the alert file atomically (JSON; see :func:`alert_document`)."""
    text = json.dumps(alert_document(result, fail_on), indent=2, allow_nan=False)
    return write_text(text + "\n", path)
