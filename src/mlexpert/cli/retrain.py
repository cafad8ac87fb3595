"""``mlexpert retrain``: fit a challenger on new data and promote it only if it is
significantly better than the champion on the same recent labelled rows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ._display import SearchDisplay, console
from ._errors import err_console, handle_errors


def retrain_command(
    name: Annotated[str, typer.Option("--name", "-n", help="The registered model to retrain.")] = ...,
    data: Annotated[list[Path], typer.Option("--data", "-d", help="New labelled rows (csv, tsv, parquet, json, jsonl); repeat for several tables with the same columns.")] = ...,
    registry: Annotated[Path, typer.Option("--registry", "-r", envvar="MLEXPERT_REGISTRY", show_envvar=True, help="The registry folder (models in NAME/VERSION/).")] = Path("registry"),
    store: Annotated[Optional[str], typer.Option("--store", envvar="MLEXPERT_STORE", show_envvar=True, help="Store URL (postgresql://user@host/db) or SQLite file; default REGISTRY/mlexpert.db.")] = None,
    eval_file: Annotated[Optional[Path], typer.Option("--eval", help="Compare the models on this labelled table (default: the most recent 20% of --data, held out).")] = None,
    eval_from_log: Annotated[bool, typer.Option("--eval-from-log", help="Compare on the prediction-log rows with feedback, logged since the champion was registered.")] = False,
    include_log: Annotated[bool, typer.Option("--include-log", help="Also train on every prediction-log row with feedback.")] = False,
    window: Annotated[Optional[int], typer.Option("--window", min=1, help="Train on the most recent ROWS rows only (by the model's time column, else input order).")] = None,
    time: Annotated[Optional[str], typer.Option("--time", help="Budget of the challenger's fit: 60, 90s, 5m (default: the champion's).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Promote only when the test's p-value is below this.")] = 0.05,
    min_improvement: Annotated[float, typer.Option("--min-improvement", help="...and the challenger beats the champion by at least this much (metric units).")] = 0.0,
    promote: Annotated[bool, typer.Option("--promote/--no-promote", help="Promote a winning challenger (default), or only register and compare.")] = True,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the fit and the test (default: the champion's).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Threads to use; -1 = all cores.")] = -1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON on stdout.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the decision (JSON) to this file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final line.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Retrain NAME on new data with the champion's settings; promote the challenger only if a
    paired bootstrap test on the same evaluation rows finds it significantly better."""
    with handle_errors(verbose):
        from ..io import write_text
        from ..registry import Registry
        from ..retrain import retrain
        from ..utils._duration import parse_duration

        budget = parse_duration(time, name="time") if time is not None else None
        _require_registry(registry, store)
        live = not (quiet or as_json) and console.is_terminal
        with SearchDisplay(budget, enabled=live) as progress:
            decision = retrain(Registry(registry, store), name, list(data), eval_data=eval_file,
                               eval_from_log=eval_from_log, include_log=include_log,
                               window=window, time_limit=budget, alpha=alpha,
                               min_improvement=min_improvement, promote=promote, seed=seed,
                               n_jobs=jobs, on_event=progress.on_event)
        text = json.dumps(decision, indent=2, default=str)
        if out is not None:
            write_text(text + "\n", out)
        if as_json:
            typer.echo(text)
        else:
            _show(decision, quiet)


def _require_registry(root: Path, store: str | None) -> None:
    """Refuse to create an empty registry by mistake."""
    from ..exceptions import InvalidParameterError
    from ..store.engine import DEFAULT_FILE

    if not (store or os.environ.get("MLEXPERT_STORE")) and not (root / DEFAULT_FILE).exists():
        raise InvalidParameterError(
            f"No registry at {str(root)!r} ({DEFAULT_FILE} not found). Point --registry (or "
            "MLEXPERT_REGISTRY) at the registry that holds the model.")


def _show(d: dict, quiet: bool) -> None:
    champ, chall, gain = d["champion"], d["challenger"], d["improvement"]
    if not quiet:
        table = Table(title=escape(f"{d['model']}: {d['metric']} on {d['evaluation']['rows']} "
                                   f"evaluation rows ({d['evaluation']['source']})"),
                      title_justify="left")
        for col in ("model", "version", d["metric"], "95% interval"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for label, part in (("champion", champ), ("challenger", chall)):
            table.add_row(label, str(part["version"]), _num(part["score"]), _interval(part["ci95"]))
        console.print(table)
        wil = d["wilcoxon"]
        console.print(f"Improvement {_num(gain['value'], signed=True)} "
                      f"(95% interval {_interval(gain['ci95'])}); paired bootstrap p = "
                      f"{_num(d['p_value'])} ({d['bootstrap']['resamples']} resamples); Wilcoxon "
                      f"p = {_num(wil.get('p_value'))} on per-row {wil.get('loss') or '-'}.")
        console.print(escape(f"Evaluated on {d['evaluation']['description']}; trained on "
                             f"{d['training']['rows']} rows."))
    colour = "green" if d["promoted"] else "yellow"
    line = (f"Promoted version {chall['version']} to champion" if d["promoted"] else
            f"Registered version {chall['version']} as a candidate; version {champ['version']} "
            "stays champion")
    console.print(f"[bold {colour}]{escape(line)}[/]: {escape(d['reason'])}.")
    if d["outcome"] == "challenger_better_not_promoted":
        err_console.print("[yellow]note:[/] --no-promote: promote it with `mlexpert registry "
                          f"promote {d['model']} {chall['version']}`.")


def _num(value, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _interval(pair) -> str:
    return "-" if not pair else f"[{pair[0]:.4g}, {pair[1]:.4g}]"
