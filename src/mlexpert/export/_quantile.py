"""scikit-learn's ``QuantileTransformer(output_distribution="normal")`` in ONNX ops.

Same steps as ``QuantileTransformer._transform_col``, in double precision: the mean of a
forward and a backward ``np.interp`` on the fitted quantiles (positions found by search
trees, :func:`~._trees.step_counts`), the bounds, then the normal quantile function
(Wichura's AS241, accurate to ~1e-15 relative, like SciPy's ``ndtri``) and the clip.
"""

from __future__ import annotations

import numpy as np

from ._trees import step_counts

BOUNDS_THRESHOLD = 1e-7  # scikit-learn's sklearn.preprocessing._data.BOUNDS_THRESHOLD

# AS241 (PPND16) coefficients, lowest order first.
_A = [3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
      13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
      33430.575583588128105, 2509.0809287301226727]
_B = [1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
      21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
      5226.495278852545925]
_C = [1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
      3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
      0.0227238449892691845833, 7.7454501427834140764e-4]
_D = [1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
      0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
      1.05075007164441684324e-9]
_E = [6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
      0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
      2.71155556874348757815e-5, 2.01033439929228813265e-7]
_F = [1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
      2.04426310338993978564e-15]


def quantile_normal(g, transformer, x: str) -> str:
    """Transform double ``x`` (n, d), without missing values, as ``transformer`` does."""
    q = np.asarray(transformer.quantiles_, dtype=np.float64)
    r = np.asarray(transformer.references_, dtype=np.float64)
    n_q, d = q.shape
    refs = np.repeat(r[:, None], d, axis=1)
    knots = [q[:, j] for j in range(d)]
    at_or_below = step_counts(g, x, knots, strict=False)  # quantiles <= x
    below = step_counts(g, x, knots, strict=True)  # quantiles < x
    one = g.const(1.0)
    forward = _interp(g, x, q, refs, g.op("Sub", at_or_below, one))
    # np.interp(-x, -q[::-1], -r[::-1]): there, the knots <= -x are the quantiles >= x
    at_or_above = g.op("Sub", g.const(float(n_q)), below)
    backward = _interp(g, g.op("Neg", x), -q[::-1], -refs[::-1], g.op("Sub", at_or_above, one))
    v = g.op("Mul", g.const(0.5), g.op("Sub", forward, backward))
    threshold = g.const(BOUNDS_THRESHOLD)
    upper = g.op("Greater", g.op("Add", x, threshold), g.const(q[-1][None, :]))
    lower = g.op("Less", g.op("Sub", x, threshold), g.const(q[0][None, :]))
    v = g.where(lower, g.const(0.0), g.where(upper, one, v))
    from scipy import stats

    clip_min = float(stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1)))
    clip_max = float(stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1))))
    z = g.where(g.op("LessOrEqual", v, g.const(0.0)), g.const(-np.inf),
                g.where(g.op("GreaterOrEqual", v, one), g.const(np.inf), normal_ppf(g, v)))
    return g.op("Clip", z, g.const(clip_min), g.const(clip_max))


def _interp(g, x: str, xp: np.ndarray, fp: np.ndarray, j: str) -> str:
    """``np.interp`` per column, given j = (knots <= x) - 1 as doubles (n, d)."""
    n_q = xp.shape[0]
    with np.errstate(all="ignore"):
        slopes = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])
    index = g.op("Clip", g.cast(j, "int64"), g.const(np.int64(0)), g.const(np.int64(n_q - 2)))
    x_j = g.op("GatherElements", g.const(xp), index, axis=0)
    f_j = g.op("GatherElements", g.const(fp), index, axis=0)
    slope = g.op("GatherElements", g.const(slopes), index, axis=0)
    inner = g.op("Add", g.op("Mul", slope, g.op("Sub", x, x_j)), f_j)
    inner = g.where(g.op("Equal", x_j, x), f_j, inner)
    last = g.where(g.op("GreaterOrEqual", j, g.const(float(n_q - 1))), g.const(fp[-1][None, :]), inner)
    return g.where(g.op("Less", j, g.const(0.0)), g.const(fp[0][None, :]), last)


def normal_ppf(g, p: str) -> str:
    """The standard normal quantile of double ``p`` in (0, 1) (AS241)."""
    q = g.op("Sub", p, g.const(0.5))
    r = g.op("Sub", g.const(0.180625), g.op("Mul", q, q))
    central = g.op("Mul", q, g.op("Div", _poly(g, r, _A), _poly(g, r, _B)))
    tail_p = g.where(g.op("Less", q, g.const(0.0)), p, g.op("Sub", g.const(1.0), p))
    t = g.op("Sqrt", g.op("Neg", g.op("Log", tail_p)))
    near = g.op("Sub", t, g.const(1.6))
    far = g.op("Sub", t, g.const(5.0))
    tail = g.where(g.op("LessOrEqual", t, g.const(5.0)),
                   g.op("Div", _poly(g, near, _C), _poly(g, near, _D)),
                   g.op("Div", _poly(g, far, _E), _poly(g, far, _F)))
    tail = g.where(g.op("Less", q, g.const(0.0)), g.op("Neg", tail), tail)
    return g.where(g.op("LessOrEqual", g.op("Abs", q), g.const(0.425)), central, tail)


def _poly(g, r: str, coefficients: list[float]) -> str:
    """Horner evaluation of the polynomial with ``coefficients`` (lowest order first)."""
    out = g.const(coefficients[-1])
    for c in coefficients[-2::-1]:
        out = g.op("Add", g.op("Mul", out, r), g.const(c))
    return out
