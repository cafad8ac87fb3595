"""``mlexpert predict``: score a table with a saved model, chunk by chunk (constant memory)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

from ..batch import DEFAULT_CHUNK_ROWS
from ._display import console
from ._errors import handle_errors, split_names


def predict_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
    data: Annotated[Path, typer.Argument(help="Rows to score: .csv/.tsv (.gz), .parquet, .json or .jsonl.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write predictions here (.csv, .parquet or .jsonl); default: print CSV.")] = None,
    proba: Annotated[bool, typer.Option("--proba/--no-proba", help="Add one probability column per class.")] = True,
    keep: Annotated[Optional[list[str]], typer.Option(help="Input columns to copy into the output (e.g. an ID).")] = None,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1, help="Rows read, scored and written at a time; memory grows with it.")] = DEFAULT_CHUNK_ROWS,
    store: Annotated[Optional[str], typer.Option(help="Log the inputs and predictions to this store "
                     "(SQLAlchemy URL or SQLite file), for `mlexpert monitor` and feedback.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Predict the target for every row of DATA with the model in MODEL_DIR.

    Rows stream through in chunks, so files larger than memory work; progress goes to stderr.
    """
    from .. import api
    from ..batch import iter_prediction_chunks, score_file

    options = {"chunk_rows": chunk_rows, "proba": proba, "keep": split_names(keep)}
    with handle_errors(verbose):
        model = api.load(model_dir)
        with _prediction_log(store, model_dir, model) as on_chunk:
            if out is None:  # CSV on stdout; a bar only when stderr is a terminal
                with _Bar(enabled=not quiet and _BAR_CONSOLE.is_terminal) as bar:
                    _print_all(iter_prediction_chunks(model, data, out_fmt="csv", progress=bar.update,
                                                      on_chunk=on_chunk, **options))
                return
            with _Bar(enabled=not quiet) as bar:
                summary = score_file(model, data, out, progress=bar.update, on_chunk=on_chunk,
                                     **options)
        console.print(f"Wrote {summary.rows} predictions to {out}.")


@contextlib.contextmanager
def _prediction_log(store: str | None, model_dir: Path, model):
    """With --store: a hook logging every chunk as one batch request, flushed at the end."""
    if store is None:
        yield None
        return
    import uuid

    from ..monitoring.log import BatchLog, PredictionLogger
    from ..store import open_store, store_url

    logger = PredictionLogger(open_store(store_url(url=store)))
    path = model_dir.resolve()
    # named as `mlexpert serve` names it: NAME/VERSION in a registry, else the folder's name, 1
    name, version = (path.parent.name, path.name) if path.name.isdigit() else (path.name, "1")
    hook = BatchLog(logger, f"batch-{uuid.uuid4().hex}", name, version, model.pipeline)
    try:
        yield hook
    finally:
        logger.close(timeout=600)
    _BAR_CONSOLE.print(f"Logged {hook.rows} rows to the store as request {hook.request_id}.")


def _print_all(blocks) -> None:
    stdout = sys.stdout.buffer
    try:
        for block in blocks:
            stdout.write(block)
        stdout.flush()
    except BrokenPipeError:  # e.g. `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


_BAR_CONSOLE = Console(stderr=True, highlight=False)


class _RowRate(ProgressColumn):
    """Rows scored so far and rows per second."""

    def render(self, task) -> Text:
        rows = task.fields.get("rows", 0)
        rate = rows / task.elapsed if task.elapsed else 0.0
        return Text(f"{rows:,} rows  {rate:,.0f} rows/s", style="cyan")


class _Bar:
    """A Rich progress bar on stderr fed with :class:`mlexpert.batch.BatchProgress`.

    Where stderr is not a terminal (a log file) only the final state is printed, and
    nothing when scoring fails, so that an error stays a single line.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("scoring"), BarColumn(), TaskProgressColumn(), _RowRate(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=_BAR_CONSOLE, disable=not enabled,
        )
        self.task = None

    def __enter__(self) -> "_Bar":
        if self.enabled and _BAR_CONSOLE.is_terminal:
            self.progress.start()
        return self

    def __exit__(self, exc_type, *_) -> None:
        if self.progress.live.is_started:
            self.progress.live.transient = exc_type is not None
            self.progress.stop()
        elif self.enabled and exc_type is None and self.task is not None:
            _BAR_CONSOLE.print(self.progress)

    def update(self, state) -> None:
        if self.task is None:
            self.task = self.progress.add_task("scoring", total=state.total, rows=0)
        self.progress.update(self.task, completed=state.done, total=state.total, rows=state.rows)
