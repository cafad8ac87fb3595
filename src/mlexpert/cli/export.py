"""``mlexpert export``: the saved model as one ONNX file, checked against the Python model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._display import console
from ._errors import handle_errors


def export_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Export format: onnx.")] = "onnx",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the model here (default: MODEL_DIR/model.onnx).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", "-d", help="Real rows to check the export on, e.g. your test split (.csv, .parquet, ...); with the target column, both models are also scored.")] = None,
    fallback: Annotated[str, typer.Option(help="If some ensemble members cannot be exported: none (stop and explain), members (export the others, reweighted) or best (the best exportable member alone).")] = "none",
    tolerance: Annotated[float, typer.Option(help="Largest accepted difference from the Python model: absolute for probabilities, relative for regression values.")] = 1e-5,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Export the model in MODEL_DIR (preprocessing and ensemble) to ONNX, check it with
    onnxruntime against the Python model, and report its size and latency."""
    from ..exceptions import InvalidParameterError
    from ..export import export_onnx

    with handle_errors(verbose):
        if fmt.strip().lower() != "onnx":
            raise InvalidParameterError(f"The '--format' option must be 'onnx'. Got {fmt!r} instead.")
        report = export_onnx(model_dir, out, data=data, fallback=fallback.strip().lower(),
                             tolerance=tolerance)
        for notice in report.notices:
            console.print(f"[yellow]note:[/] {notice}")
        for name, reason in report.left_out.items():
            console.print(f"[yellow]left out:[/] {name}: {reason}")
        console.print(_summary(report))
        console.print(_table(report))


def _summary(report) -> str:
    kinds = list(report.inputs.values())
    members = ", ".join(f"{n} ({w:.2f})" for n, w in report.members.items())
    check = report.check
    diff = (f"largest relative difference {check.max_rel_diff:.2g}" if check.max_rel_diff is not None
            else f"largest probability difference {check.max_abs_diff:.2g}")
    labels = (f", labels agree on {check.labels_agree}/{check.rows}"
              if check.max_rel_diff is None else "")
    return (f"Wrote {report.path} ({_mb(report.size_bytes)}): {len(report.members)} member(s): "
            f"{members}.\nInputs: {len(kinds)} columns, one (n, 1) tensor each "
            f"({kinds.count('double')} double, {kinds.count('string')} string); outputs: "
            f"{'label, probabilities' if check.max_rel_diff is None else 'value'}.\n"
            f"[green]Checked[/] on {report.checked_on}: {diff} (tolerance {check.tolerance:g}){labels}.")


def _table(report) -> Table:
    table = Table(title="ONNX Runtime vs the Python model", title_justify="left")
    for col in ("", "ONNX", "Python (saved model)"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("size", _mb(report.size_bytes),
                  _mb(report.python_size_bytes) if report.python_size_bytes else "-")
    t = report.timing
    if t is not None:
        table.add_row("1 row (median)", f"{t.onnx_row_ms:.3f} ms", f"{t.python_row_ms:.3f} ms")
        table.add_row(f"{t.batch_rows} rows (median)", f"{t.onnx_batch_ms:.2f} ms",
                      f"{t.python_batch_ms:.2f} ms")
    s = report.scores
    if s:
        table.add_row(f"{s['metric']} on {s['rows']} labelled rows", f"{s['onnx']:.4f}", f"{s['python']:.4f}")
    return table


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 10_000 else f"{n / 1e3:.1f} kB"
