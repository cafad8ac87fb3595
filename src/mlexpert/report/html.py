"""Render the report as one self-contained HTML page (inline CSS and SVG, no scripts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .figures import build_figures
from .sections import SECTION_TITLES

TEMPLATES = Path(__file__).parent / "templates"
WIDE_CHARTS = ("partial-dependence",)


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=False, lstrip_blocks=False)


def render_html(context: dict) -> str:
    """The HTML page for a report context (see :func:`mlexpert.report.build_context`)."""
    charts, notes = build_figures(context["manifest"])
    env = _environment()
    return env.get_template("report.html.j2").render(
        head=context["head"], summary=context["summary"], sections=context["sections"],
        charts=charts, notes=context["notes"] + notes, toc=list(SECTION_TITLES.items()),
        wide_charts=WIDE_CHARTS, source_name=context.get("source_name", ""),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))
