"""``mlexpert feedback``: join true outcomes to logged predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import console
from ._errors import handle_errors


def feedback_command(
    root: Annotated[Path, typer.Argument(help="The served folder (or registry) whose store holds the log.")],
    labels: Annotated[Path, typer.Argument(help="A table (csv, parquet, jsonl...) with request_id, "
                                                "row (optional) and the true outcome.")],
    store: Annotated[Optional[str], typer.Option(envvar="MLEXPERT_STORE", show_envvar=True,
                     help="Store URL or SQLite file (default: ROOT/mlexpert.db).")] = None,
    actual: Annotated[Optional[str], typer.Option(help="Column with the true outcome (default: "
                                                       "'actual', or the only other column).")] = None,
    request_id: Annotated[str, typer.Option(help="Column with the request ids.")] = "request_id",
    row: Annotated[str, typer.Option(help="Column with the record's position in its request.")] = "row",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Record the true outcomes in LABELS for predictions logged by `mlexpert serve ROOT`,
    so that `mlexpert monitor` can measure accuracy over time."""
    with handle_errors(verbose):
        from ..exceptions import DataError
        from ..monitoring.feedback import read_feedback_file, record_feedback
        from ..store import open_store, store_url

        if not root.is_dir():
            raise DataError(f"{str(root)!r} is not a folder; pass the folder `mlexpert serve` served.")
        items = read_feedback_file(labels, actual=actual, request_id=request_id, row=row)
        counts = {"received": 0, "matched": 0}
        the_store = open_store(store_url(root, store))
        for start in range(0, len(items), 50_000):
            part = record_feedback(the_store, items[start:start + 50_000], source="file")
            counts = {k: counts[k] + part[k] for k in counts}
        console.print(f"Recorded {counts['received']} outcomes; {counts['matched']} match a logged "
                      "prediction.")
        if counts["received"] and not counts["matched"]:
            console.print("[yellow]None matched: check the request ids, and that the server logged "
                          "these requests (--log-sample).[/]")
