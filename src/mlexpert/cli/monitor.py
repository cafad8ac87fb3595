"""``mlexpert monitor``: drift and performance of served models, from the prediction log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import console
from ._errors import handle_errors


def monitor_command(
    root: Annotated[Path, typer.Argument(help="The folder the server serves (a model directory, NAME/ or NAME/VERSION/ folders) or the registry root.")],
    store: Annotated[Optional[str], typer.Option("--store", envvar="MLEXPERT_STORE", help="Store URL (sqlite:///path.db, postgresql://...) or SQLite file. Default: ROOT/mlexpert.db.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Monitor this model name only.")] = None,
    window: Annotated[str, typer.Option("--window", "-w", help="Window: auto (about 10 over the period), a row count (10000) or a duration (15m, 1h, 1d, 1w).")] = "auto",
    since: Annotated[Optional[str], typer.Option("--since", help="Start: an ISO time (2024-05-31, 2024-05-31T14:00Z) or a duration before now (7d, '36h ago').")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="End (excluded): an ISO time or a duration before now.")] = None,
    max_rows: Annotated[Optional[int], typer.Option("--max-rows", min=1, help="Only the most recent N logged predictions.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for monitor.json and monitor.html. Default: ROOT/monitoring (./monitoring when ROOT is a model directory).")] = None,
    alert_file: Annotated[Optional[Path], typer.Option("--alert-file", help="Also write the alerts (JSON, with a timestamp and the exit code) to this file.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit with code 10 on alerts of this kind: drift (inputs or predictions), decay, any or never.")] = "any",
    threshold: Annotated[Optional[list[str]], typer.Option("--threshold", "-t", help="Override a threshold, KEY=VALUE (repeatable): alpha, min_shift, min_rows, include_time, decay_tolerance, min_labelled.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON instead of the summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Check the predictions logged for the models in ROOT: input and prediction drift
    against the training data, performance on the outcomes fed back against the validation
    estimate, latency; per window over time. Writes monitor.json and monitor.html.

    Exit codes: 0 no alert, 10 an alert of a kind --fail-on selects; other codes are errors."""
    from ..monitoring.alerts import check_fail_on, exit_code, write_alert_file
    from ..monitoring.report import to_json, write_monitor_report
    from ..monitoring.runner import run_monitor

    with handle_errors(verbose):
        check_fail_on(fail_on)
        thresholds = parse_thresholds(threshold)
        result = run_monitor(root, store_url=store, name=name, window=window, since=since,
                             until=until, max_rows=max_rows, thresholds=thresholds)
        paths = write_monitor_report(result, out or default_out(root))
        if alert_file is not None:
            write_alert_file(result, alert_file, fail_on)
        code = exit_code(result["summary"]["alerts"], fail_on)
        if as_json:
            typer.echo(to_json(result), nl=False)
        else:
            _print_summary(result, paths, alert_file)
    if code:
        raise typer.Exit(code)


def default_out(root: Path) -> Path:
    """ROOT/monitoring, or ./monitoring when ROOT is one model directory (whose files are
    checksummed) or not a folder."""
    root = Path(root)
    if root.is_dir() and not (root / "manifest.json").exists():
        return root / "monitoring"
    return Path("monitoring")


def parse_thresholds(items: list[str] | None) -> dict:
    """``KEY=VALUE`` options to a dict of numbers (or booleans)."""
    from ..exceptions import InvalidParameterError

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"--threshold must be KEY=VALUE (e.g. alpha=0.01); got {item!r}.")
        text = value.strip().lower()
        if text in ("true", "false", "yes", "no"):
            out[key.strip()] = text in ("true", "yes")
            continue
        try:
            number = float(text)
        except ValueError:
            raise InvalidParameterError(f"--threshold {key.strip()} needs a number; got {value!r}.") from None
        out[key.strip()] = int(number) if number.is_integer() and key.strip() in ("min_rows", "min_labelled") else number
    return out


def _print_summary(result: dict, paths: dict, alert_file: Path | None) -> None:
    from rich.markup import escape

    status = result["summary"]["status"]
    style = {"alert": "bold red", "ok": "bold green"}.get(status, "bold yellow")
    label = {"alert": "ALERT", "ok": "OK"}.get(status, "NO DATA")
    console.print(f"[{style}]{label}[/] {result['selection']['rows']:,} logged predictions "
                  f"({result['elapsed_s']:.1f}s)")
    for line in result["summary"]["text"]:
        console.print(f"  {escape(line)}")
    for alert in result["summary"]["alerts"]:
        console.print(f"  [red]{escape(alert['kind'])}[/] {escape(alert['model'])} "
                      f"v{escape(str(alert['version']))}: {escape(alert['detail'])}")
    console.print(f"Wrote {paths['html']} and {paths['json'].name}")
    if alert_file is not None:
        console.print(f"Wrote {alert_file}")
