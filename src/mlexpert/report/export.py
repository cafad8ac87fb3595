"""Render the report as JSON: the summary sentences and section tables, for machines and
version control (deterministic: no timestamps of its own, no chart data)."""

from __future__ import annotations

import json

REPORT_FORMAT = 1


def render_json(context: dict) -> str:
    payload = {"report_format": REPORT_FORMAT, "model": context["head"],
               "summary": context["summary"], "sections": context["sections"],
               "notes": context["notes"]}
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
