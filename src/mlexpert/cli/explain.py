"""``mlexpert explain``: why the model predicts what it does, row by row (tree SHAP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._display import console
from ._errors import handle_errors

_SPACE = {"log-odds": "log-odds", "raw score per class": "raw score", "value": "units of the target"}


def explain_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
    data: Annotated[Path, typer.Argument(help="Rows to explain: .csv/.tsv (.gz), .parquet, .json or .jsonl.")],
    rows: Annotated[int, typer.Option(help="Explain the first ROWS rows of DATA.")] = 5,
    top: Annotated[int, typer.Option(help="Contributions to show per row (largest first).")] = 8,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every explained row as JSON here.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Explain the predictions for rows of DATA: each column's SHAP contribution, from the
    model's tree members (LightGBM, XGBoost, CatBoost)."""
    from .. import api
    from ..data.ingest import read_table
    from ..exceptions import InvalidParameterError
    from ..io import write_text

    with handle_errors(verbose):
        if rows < 1 or top < 1:
            raise InvalidParameterError("--rows and --top must be at least 1.")
        model = api.load(model_dir)
        frame = read_table(data).head(rows).reset_index(drop=True)
        explained = model.explain(frame, top=top)
        if json_out is not None:
            write_text(json.dumps(explained, indent=2, default=str), json_out)
        for item in explained:
            console.print(_table(item))
        first = explained[0]
        console.print(f"Contributions are in {_SPACE.get(first['space'], first['space'])}, from the "
                      f"tree members ({first['coverage']:.0%} of the ensemble's weight): base + "
                      "contributions = the members' combined score.")
        if json_out is not None:
            console.print(f"Wrote {len(explained)} explanations to {json_out}.")


def _table(item: dict) -> Table:
    title = f"Row {item['row'] + 1}: predicted {item['prediction']!s}"
    if "probability" in item:
        title += f" (probability {item['probability']:.2f})"
    if item.get("class") is not None:
        title += f"; explaining the score of {item['class']!s}"
    table = Table(title=title, title_justify="left")
    table.add_column("column")
    table.add_column("value", overflow="fold", max_width=40)
    table.add_column("contribution", justify="right")
    table.add_row("(base)", "", f"{item['base']:+.4f}")
    for c in item["contributions"]:
        style = "green" if c["contribution"] > 0 else "red"
        table.add_row(str(c["feature"]), str(c["value"]), f"[{style}]{c['contribution']:+.4f}[/]")
    if abs(item["rest"]) > 0:
        table.add_row("(other columns)", "", f"{item['rest']:+.4f}")
    table.add_row("= score", "", f"{item['margin']:+.4f}")
    return table
