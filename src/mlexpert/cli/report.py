"""``mlexpert report``: write a model's report (HTML, Markdown and/or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import console
from ._errors import handle_errors


def report_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Report file; with --format all, its suffix is replaced by .html, .md and .json. Default: report.<ext> in MODEL_DIR.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="html (self-contained page), md, json or all.")] = "html",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Write the report of the model in MODEL_DIR: a plain-language summary, then the data
    audit, leaderboard, metrics and charts, diagnosis, importance, fairness and model card.
    The HTML page is self-contained (no network needed to view it)."""
    from ..exceptions import InvalidParameterError
    from ..report import FORMATS, write_report

    with handle_errors(verbose):
        if format not in (*FORMATS, "all"):
            raise InvalidParameterError(
                f"--format must be one of html, md, json or all; got {format!r}.")
        paths = write_report(model_dir, out, format=format)
        for path in paths:
            console.print(f"Wrote {path}")
