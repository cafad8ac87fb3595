"""``mlexpert audit``: check a table for quality problems, leakage and train/serve skew."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._display import console
from ._errors import handle_errors, split_names

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}
FAIL_LEVELS = {"never": (), "critical": ("critical",), "warning": ("critical", "warning")}


def audit_command(
    data: Annotated[Optional[Path], typer.Argument(
        help="Table to audit: .csv/.tsv (also .gz), .parquet, .json or .jsonl. Omit with --sql.",
        show_default=False)] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="Column to predict.")] = ...,
    test: Annotated[Optional[Path], typer.Option(help="A test or new-data file: adds train/serve skew checks.")] = None,
    task: Annotated[Optional[str], typer.Option(help="binary, multiclass or regression (inferred if omitted).")] = None,
    sql: Annotated[Optional[str], typer.Option(help="Read the rows with this SQL query.")] = None,
    db: Annotated[Optional[str], typer.Option(help="Database for --sql: a .duckdb file or a SQLAlchemy URL.")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(help="Columns to keep although they look like IDs or constants.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the findings as JSON here.")] = None,
    markdown: Annotated[Optional[Path], typer.Option("--markdown", help="Write the findings as Markdown here.")] = None,
    fail_on: Annotated[str, typer.Option(help="Exit with code 1 when a finding is this serious: never, critical or warning.")] = "never",
    show_info: Annotated[bool, typer.Option("--info/--no-info", help="Also list informational findings.")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the sampled checks.")] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Audit DATA for TARGET: missing values, duplicates, IDs, constants, outliers, imbalance,
    target leakage, and (with --test) train/serve skew. Each finding comes with evidence and
    an action."""
    from ..audit import audit
    from ..exceptions import InvalidParameterError
    from ..io import write_text

    with handle_errors(verbose):
        if fail_on not in FAIL_LEVELS:
            raise InvalidParameterError(
                f"--fail-on must be one of never, critical, warning; got {fail_on!r}.")
        report = audit(data, target=target, test=test, task=task, sql=sql, db=db, seed=seed,
                       keep=split_names(keep))
        if json_out is not None:
            write_text(json.dumps(report.to_dict(), indent=2, default=str), json_out)
        if markdown is not None:
            write_text(report.to_markdown(), markdown)
        console.print(findings_table(report, show_info))
        c = report.counts()
        console.print(f"{report.n_rows} rows, {report.n_columns} columns, {report.task}: "
                      f"{c['critical']} critical, {c['warning']} warnings, {c['info']} notes "
                      f"({report.seconds:.1f}s).")
        for note in report.notes:
            console.print(f"[dim]note: {note}[/]")
        if any(f.severity in FAIL_LEVELS[fail_on] for f in report.findings):
            raise typer.Exit(1)


def findings_table(report, show_info: bool = True) -> Table:
    table = Table(title=f"Data audit: {report.target}", title_justify="left", show_lines=False)
    for col in ("severity", "check", "finding", "action"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        if f.severity == "info" and not show_info:
            continue
        style = _STYLE[f.severity]
        table.add_row(f"[{style}]{f.severity}[/]", f.check, f.message, f.action)
    if not report.findings:
        table.caption = "No problems found."
    return table
