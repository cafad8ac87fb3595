"""``mlexpert predict``: score a table with a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import console
from ._errors import handle_errors, split_names


def predict_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
    data: Annotated[Path, typer.Argument(help="Rows to score: .csv/.tsv (.gz), .parquet, .json or .jsonl.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write predictions here (.csv, .parquet or .jsonl); default: print CSV.")] = None,
    proba: Annotated[bool, typer.Option("--proba/--no-proba", help="Add one probability column per class.")] = True,
    keep: Annotated[Optional[list[str]], typer.Option(help="Input columns to copy into the output (e.g. an ID).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Predict the target for every row of DATA with the model in MODEL_DIR."""
    from .. import api
    from ..data.ingest import read_table
    from ..io import predictions_frame, write_table

    with handle_errors(verbose):
        model = api.load(model_dir)
        frame = read_table(data)
        preds = predictions_frame(model, frame, proba=proba, keep=split_names(keep))
        if out is None:
            typer.echo(preds.to_csv(index=False), nl=False)
            return
        write_table(preds, out)
        console.print(f"Wrote {len(preds)} predictions to {out}.")
