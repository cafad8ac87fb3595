"""Parse human durations such as ``60``, ``90s``, ``5m``, ``1h30m``."""

from __future__ import annotations

import re

from ..exceptions import InvalidParameterError

_UNITS = {"s": 1, "m": 60, "h": 3600}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smh])")


def parse_duration(value: str | float | int, *, name: str = "time") -> float:
    """Return seconds for ``value``; bare numbers are seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise InvalidParameterError(
                    f"The {name!r} parameter must be a duration such as 60, 90s, 5m or 1h. "
                    f"Got {value!r} instead."
                ) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise InvalidParameterError(
            f"The {name!r} parameter must be a positive duration. Got {value!r} instead."
        )
    return seconds
