"""Rich rendering: the live search display and the final leaderboard."""

from __future__ import annotations

import math
import time

import pandas as pd
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

console = Console(highlight=False, soft_wrap=True)


class SearchDisplay:
    """A live line: stage, trials done, best score so far, time left (when ``time_limit``
    is known)."""

    def __init__(self, time_limit: float | None, enabled: bool = True, verbose: bool = False):
        self.time_limit = time_limit
        self.verbose = verbose
        self.start = time.monotonic()
        self.state = {"stage": "reading data", "trials": 0, "failed": 0, "best": "-", "last": ""}
        self.live = Live(self, console=console, refresh_per_second=4, transient=True) if enabled else None

    def __enter__(self):
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)

    def on_event(self, event) -> None:
        s = self.state
        s["stage"] = {"default": "trying strong defaults", "tuned": "tuning the best families"}.get(
            event.stage, event.stage)
        s["trials"] = event.n_trials
        s["failed"] += event.trial.status != "ok"
        if event.best is not None:
            s["best"] = f"{event.best.name} {event.best.score:.4f}"
        t = event.trial
        s["last"] = f"{t.name}: {t.score:.4f}" if t.status == "ok" else f"{t.name}: {t.status}"
        if self.verbose:
            outcome = f"{t.score:.4f} ± {t.score_std:.4f}" if t.status == "ok" else f"{t.status}: {t.reason}"
            console.print(f"[dim]{time.monotonic() - self.start:6.1f}s[/] {event.stage:7} {t.name:18} "
                          f"{outcome}  ({t.fit_time:.1f}s) {t.params}")

    def __rich__(self) -> Text:
        s = self.state
        clock: tuple = ()
        if self.time_limit:
            left = max(0.0, self.time_limit - (time.monotonic() - self.start))
            width = 24
            done = min(width, int(width * (1 - left / self.time_limit)))
            clock = ((f"{'█' * done + '░' * (width - done)} ", "cyan"),
                     (f"{left:5.0f}s left", "bold"), " | ")
        return Text.assemble(
            *clock, f"{s['stage']} | trials {s['trials']}",
            (f" ({s['failed']} failed)" if s["failed"] else ""),
            f" | best {s['best']}", (f" | last {s['last']}" if s["last"] else ""),
        )


def _fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def leaderboard_table(board: pd.DataFrame, metric: str, limit: int = 15) -> Table:
    """The top rows of the leaderboard as a Rich table."""
    table = Table(title=f"Leaderboard ({metric}, out-of-fold)", title_justify="left")
    for col, justify in [("rank", "right"), ("model", "left"), ("score", "right"),
                         ("± std", "right"), ("fit s", "right"), ("rows/s", "right"),
                         ("ms/row", "right"), ("MB", "right"), ("weight", "right"),
                         ("status", "left")]:
        table.add_column(col, justify=justify, no_wrap=col != "status", overflow="ellipsis",
                         max_width=48 if col == "status" else None)
    shown = board.head(limit)
    for row in shown.itertuples(index=False):
        status = row.status if row.status == "ok" else f"{row.status}: {row.reason}"
        rate = row.predict_rows_per_s
        table.add_row(str(row.rank), row.model, _fmt(row.score), _fmt(row.score_std),
                      _fmt(row.fit_time_s, 1), "-" if pd.isna(rate) else f"{rate:,.0f}",
                      _fmt(getattr(row, "latency_ms", None), 1), _fmt(getattr(row, "size_mb", None), 1),
                      _fmt(row.weight, 2) if row.weight else "", status)
    if len(board) > limit:
        table.caption = f"{len(board) - limit} more rows in leaderboard.csv"
    return table
