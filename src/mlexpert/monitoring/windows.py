"""Windows over the log, and the times that bound a monitoring run.

A window is a row count (``10000``: consecutive predictions), a duration (``15m``, ``1h``,
``1d``, ``1w``: calendar slices aligned on UTC multiples of the duration) or ``auto``
(about ``AUTO_WINDOWS`` equal row-count windows over the selected rows of each model
version, at least ``AUTO_MIN_ROWS`` rows each). Rows are assigned to windows chunk by
chunk as the log streams, so a window may span any number of chunks.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError

AUTO_WINDOWS = 10
AUTO_MIN_ROWS = 200
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)")


@dataclass(frozen=True)
class WindowSpec:
    """``kind`` is ``rows``, ``time`` or ``auto``; ``size`` is rows or seconds."""

    kind: str
    size: float = 0.0
    text: str = "auto"


def parse_window(value) -> WindowSpec:
    """``auto``, a positive row count, or a duration such as ``15m``, ``1h``, ``1d``."""
    text = str(value).strip().lower()
    if text in ("", "auto"):
        return WindowSpec("auto")
    if text.isdigit() and int(text) > 0:
        return WindowSpec("rows", int(text), text)
    seconds = parse_span(text, "window")
    return WindowSpec("time", seconds, text)


def parse_span(text: str, name: str = "duration") -> float:
    """Seconds in a duration such as ``90s``, ``15m``, ``1h30m``, ``7d`` or ``2w``."""
    compact = str(text).strip().lower().replace(" ", "")
    parts = _SPAN.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidParameterError(
            f"--{name} must be a row count (e.g. 10000), a duration (e.g. 15m, 1h, 1d, 2w) or "
            f"auto; got {text!r}." if name == "window" else
            f"--{name} must be a duration such as 90s, 15m, 1h, 7d or 2w; got {text!r}.")
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise InvalidParameterError(f"--{name} must be a positive duration; got {text!r}.")
    return seconds


def parse_time(value, name: str = "since", now: float | None = None) -> float | None:
    """UNIX seconds for an ISO 8601 time (UTC unless it says otherwise), UNIX seconds, or a
    duration before now (``7d``, ``7d ago``, ``36h``); ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    now = time.time() if now is None else now
    if text == "now":
        return now
    if re.fullmatch(r"\d+(\.\d+)?", text) and float(text) > 1e8:  # a UNIX timestamp
        return float(text)
    span = text.removesuffix("ago").strip()
    if _SPAN.match(span):
        try:
            return now - parse_span(span, name)
        except InvalidParameterError:
            pass
    try:
        stamp = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        raise InvalidParameterError(
            f"--{name} must be an ISO 8601 time (e.g. 2024-05-31 or 2024-05-31T14:00:00Z) or "
            f"a duration before now (e.g. 7d, 36h, '2w ago'); got {value!r}.")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.timestamp()


def iso(ts: float | None) -> str | None:
    """UNIX seconds as an ISO 8601 UTC time (second precision)."""
    if ts is None or not math.isfinite(ts):
        return None
    return pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


class Windower:
    """Assigns the rows of one stream (one model version, oldest first) to window keys."""

    def __init__(self, spec: WindowSpec, total_rows: int):
        self.spec = spec
        self.seen = 0
        if spec.kind == "auto":
            count = max(1, min(AUTO_WINDOWS, total_rows // AUTO_MIN_ROWS))
            self.rows = max(1, math.ceil(total_rows / count))
        else:
            self.rows = int(spec.size) if spec.kind == "rows" else 0

    def keys(self, ts: np.ndarray) -> np.ndarray:
        """Window keys (increasing integers) of the next rows, whose times are ``ts``."""
        n = len(ts)
        if self.rows:
            keys = (self.seen + np.arange(n)) // self.rows
        else:
            keys = np.floor(np.asarray(ts, dtype=float) / self.spec.size).astype(np.int64)
        self.seen += n
        return keys

    def bounds(self, key: int, first_ts: float, last_ts: float) -> tuple[float, float]:
        """Start and end time of a window: its calendar slice, or its first and last row."""
        if self.rows:
            return first_ts, last_ts
        return key * self.spec.size, (key + 1) * self.spec.size

    def merge_into(self, sizes: dict[int, int]) -> dict[int, int]:
        """For row-count windows, a trailing window under half the size joins the one before
        it (so the last window is never a noisy handful of rows): ``{key: kept key}``."""
        keys = sorted(sizes)
        plan = {k: k for k in keys}
        if self.rows and len(keys) > 1 and sizes[keys[-1]] < self.rows / 2:
            plan[keys[-1]] = keys[-2]
        return plan
