"""Numeric, boolean and datetime columns: the ``NumericBlock`` (and ``DatetimeBlock``) of a
fitted ``TablePreprocessor`` in ONNX ops, computed in double and cast to float32 at the end,
as the Python blocks do."""

from __future__ import annotations

import numpy as np

from ._quantile import quantile_normal


def numeric_part(g, pp, inputs: dict[str, str]) -> str | None:
    """The numeric block's float32 output (n, d) for ``pp``, or None when it has no column."""
    sources = [inputs[c] for c in _cols(pp, "numeric") + _cols(pp, "boolean")]
    dates = _cols(pp, "datetime")
    if dates:
        parts, days = [], []
        for c in dates:
            calendar = calendar_parts(g, inputs[c])
            parts += [_as_float32(g, calendar[p]) for p in pp.datetime_.parts_[c]]
            days.append(_as_float32(g, calendar["days"]))
        sources += parts + days  # every column's parts first, then every column's days
    if not sources:
        return None
    m = g.concat(sources)
    m = g.where(g.op("IsInf", m), g.const(np.nan), m)
    block = pp.numeric_
    missing = g.op("IsNaN", m)
    if block.impute or block.scale:
        m = g.where(missing, g.const(block.medians_[None, :].astype(np.float64)), m)
    if block.scale == "standard":
        z = g.op("Div", g.op("Sub", m, g.const(block.mean_[None, :])), g.const(block.std_[None, :]))
        m = g.op("Clip", z, g.const(-10.0), g.const(10.0))
    elif block.scale == "quantile":
        m = quantile_normal(g, block.quantile_, m)
    out = [m]
    if len(block.indicator_columns_):
        out.append(g.cast(g.columns(missing, block.indicator_columns_), "double"))
    return g.cast(g.concat(out), "float")


def calendar_parts(g, seconds: str) -> dict[str, str]:
    """Calendar parts (as :func:`mlexpert.features.datetime.calendar_parts`) of double epoch
    seconds (n, 1), with integer arithmetic done exactly in doubles; NaN stays NaN."""
    def c(v):
        return g.const(float(v))

    def add(a, b):
        return g.op("Add", a, b)

    def sub(a, b):
        return g.op("Sub", a, b)

    def mul(a, v):
        return g.op("Mul", a, c(v))

    def fdiv(a, v):  # floor(a / v)
        return g.op("Floor", g.op("Div", a, c(v)))

    day = fdiv(seconds, 86400)  # days since the epoch
    # civil date from a day count (H. Hinnant's days -> y/m/d algorithm)
    z = add(day, c(719468))
    era = fdiv(z, 146097)
    doe = sub(z, mul(era, 146097))
    yoe = fdiv(add(sub(doe, fdiv(doe, 1460)), sub(fdiv(doe, 36524), fdiv(doe, 146096))), 365)
    doy = sub(doe, add(mul(yoe, 365), sub(fdiv(yoe, 4), fdiv(yoe, 100))))
    mp = fdiv(add(mul(doy, 5), c(2)), 153)
    month = add(mp, g.where(g.op("Less", mp, c(10)), c(3), c(-9)))
    year = add(add(yoe, mul(era, 400)), g.cast(g.op("LessOrEqual", month, c(2)), "double"))
    day_of_month = add(sub(doy, fdiv(add(mul(mp, 153), c(2)), 5)), c(1))
    # day count of January 1st of that year (days from civil, month 1)
    prev = sub(year, c(1))
    era1 = fdiv(prev, 400)
    yoe1 = sub(prev, mul(era1, 400))
    jan1 = add(add(mul(era1, 146097), mul(yoe1, 365)), sub(fdiv(yoe1, 4), fdiv(yoe1, 100)))
    jan1 = add(jan1, c(306 - 719468))
    minutes = fdiv(sub(seconds, mul(day, 86400)), 60)
    hour = fdiv(minutes, 60)
    return {
        "year": year, "month": month, "day": day_of_month,
        "day_of_week": sub(add(day, c(3)), mul(fdiv(add(day, c(3)), 7), 7)),
        "day_of_year": add(sub(day, jan1), c(1)),
        "hour": hour, "minute": sub(minutes, mul(hour, 60)),
        "days": g.op("Div", seconds, c(86400)),
    }


def _as_float32(g, x: str) -> str:
    """Round to float32 and back, as the datetime block's float32 output is read again."""
    return g.cast(g.cast(x, "float"), "double")


def _cols(pp, kind: str) -> list[str]:
    return list(pp.columns.get(kind, []))
