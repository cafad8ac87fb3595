"""One place that turns exceptions into a one-line message and an exit code."""

from __future__ import annotations

import contextlib
import sys
import traceback
import warnings

import typer
from rich.console import Console

from ..exceptions import MLExpertError

INTERNAL_ERROR = 70
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def handle_errors(verbose: bool = False):
    """Print ``error: ...`` on one line and exit non-zero; tracebacks only with --verbose.

    Library warnings are silenced unless --verbose (mlexpert's own notes are printed apart).
    """
    try:
        with warnings.catch_warnings():
            if not verbose:
                warnings.simplefilter("ignore")
            yield
    except MLExpertError as exc:
        if verbose:
            traceback.print_exc(file=sys.stderr)
        err_console.print(f"[bold red]error:[/] {_one_line(exc)}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]error:[/] interrupted; nothing was saved.")
        raise typer.Exit(130) from None
    except MemoryError:
        err_console.print("[bold red]error:[/] out of memory. Use a smaller sample or a bigger machine.")
        raise typer.Exit(INTERNAL_ERROR) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # unexpected: still one line, traceback on request
        if verbose:
            traceback.print_exc(file=sys.stderr)
        err_console.print(
            f"[bold red]error:[/] internal error: {_one_line(exc)}. Re-run with --verbose for the "
            "traceback and report it."
        )
        raise typer.Exit(INTERNAL_ERROR) from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text else type(exc).__name__


def split_names(values: list[str] | None) -> tuple[str, ...]:
    """Options given as repeated flags and/or comma-separated lists."""
    names: list[str] = []
    for value in values or []:
        names.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(names)
