"""Model reports: a plain-language summary for everyone, then the technical evidence (data
audit, leaderboard, metrics and charts, diagnosis, importance, fairness, model card), as one
self-contained HTML page, Markdown or JSON.

Reports are made from what ``fit`` saved (manifest.json, leaderboard.csv, schema.json); the
pickled model is never loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import InvalidParameterError
from .sections import build_sections, headline
from .source import ReportSource, read_source
from .summary import executive_summary

__all__ = ["FORMATS", "ReportSource", "build_context", "build_report", "write_report"]

FORMATS = ("html", "md", "json")
SUFFIXES = {"html": ".html", "md": ".md", "json": ".json"}


def build_context(source, *, leaderboard=None, schema=None) -> dict:
    """Everything a renderer needs: title facts, summary sentences and section tables.

    ``source`` is a model directory, a manifest dict (with optional ``leaderboard`` DataFrame
    and ``schema`` dict) or a ``FitResult``.
    """
    src = read_source(source, leaderboard, schema)
    manifest = src.manifest
    return {"manifest": manifest, "head": headline(manifest),
            "summary": executive_summary(manifest),
            "sections": build_sections(manifest, src.leaderboard, src.schema),
            "notes": list(src.notes), "source_name": src.path.name if src.path else ""}


def build_report(source, format: str = "html", *, leaderboard=None, schema=None) -> str:
    """The report as text: ``format`` is ``"html"`` (self-contained page), ``"md"`` or ``"json"``.

    Examples
    --------
    >>> html = build_report("models/churn")  # doctest: +SKIP
    """
    _check_formats((format,))
    return _render(build_context(source, leaderboard=leaderboard, schema=schema), format)


def write_report(source, out: str | os.PathLike | None = None, *,
                 format: str | tuple[str, ...] = "html", leaderboard=None, schema=None) -> list[Path]:
    """Write the report atomically and return the paths written.

    ``format`` is one of ``"html"``, ``"md"``, ``"json"``, ``"all"`` or a tuple of them.
    ``out`` defaults to ``report.<ext>`` inside the model directory; with several formats its
    suffix is replaced by each format's (``out=x.html, format="all"`` writes x.html, x.md and
    x.json).
    """
    from ..io import write_text

    formats = FORMATS if format == "all" else (format,) if isinstance(format, str) else tuple(format)
    _check_formats(formats)
    src = read_source(source, leaderboard, schema)
    if out is None:
        if src.path is None:
            raise InvalidParameterError(
                "write_report needs an output path for a model that was not saved to a "
                "directory. Pass out='report.html'.")
        base = src.path / "report.html"
    else:
        base = Path(out)
    context = build_context(src)
    written = []
    for fmt in formats:
        path = base if len(formats) == 1 and out is not None else base.with_suffix(SUFFIXES[fmt])
        written.append(write_text(_render(context, fmt), path))
    return written


def _render(context: dict, format: str) -> str:
    if format == "html":
        from .html import render_html
        return render_html(context)
    if format == "md":
        from .markdown import render_markdown
        return render_markdown(context)
    from .export import render_json
    return render_json(context)


def _check_formats(formats) -> None:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidParameterError(
            f"The 'format' parameter must be one of html, md, json or all. Got {bad[0] if bad else formats!r} "
            "instead.")
