"""Monitoring charts over the windows of one model version, as inline SVG (the report's
drawing helpers: :mod:`mlexpert.report.charts`). The x axis is the window number; the
report's window table gives each window's times."""

from __future__ import annotations

import numpy as np

from ..report.charts import BLUE, GREY, ORANGE, PALETTE, RED, _draw, _short

TOP_FEATURES = 8
SCORE_LABELS = {"shift": "share of rows moved", "psi": "PSI"}


def _x(windows: list[dict]) -> np.ndarray:
    return np.arange(1, len(windows) + 1)


def _window_axis(ax, windows: list[dict]) -> None:
    ax.set_xlabel("window")
    n = len(windows)
    step = max(1, n // 12)
    ax.set_xticks(np.arange(1, n + 1, step))
    ax.set_xlim(0.5, n + 0.5)


def drift_scores(entry: dict, score: str, threshold: float | None, salt: str) -> str | None:
    """The drift ``score`` (a feature field such as ``shift``) of the most changed features
    per window, the windows where a feature drifted circled."""
    windows = [w for w in entry["windows"] if w.get("drift")]
    if not windows:
        return None
    peak: dict[str, float] = {}
    for w in windows:
        for f in w["drift"]["features"]:
            if f.get(score) is not None:
                peak[f["column"]] = max(peak.get(f["column"], 0.0), f[score])
    top = sorted(peak, key=lambda c: -peak[c])[:TOP_FEATURES]
    if not top:
        return None

    def build(fig, axes):
        ax = axes[0, 0]
        x = _x(windows)
        for i, column in enumerate(top):
            rows = [{f["column"]: f for f in w["drift"]["features"]}.get(column, {}) for w in windows]
            psi = np.array([r.get(score) if r.get(score) is not None else np.nan for r in rows], dtype=float)
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(x, psi, color=colour, linewidth=1.6, marker="o", markersize=3, label=_short(column))
            hit = np.array([bool(r.get("drifted")) for r in rows])
            if hit.any():
                ax.scatter(x[hit], psi[hit], s=46, facecolors="none", edgecolors=RED, linewidths=1.4, zorder=3)
        if threshold is not None:
            ax.axhline(threshold, color=GREY, linestyle="--", linewidth=1, label=f"threshold {threshold}")
        ax.set_ylabel(f"drift score ({SCORE_LABELS.get(score, score)})")
        ax.set_ylim(bottom=0)
        _window_axis(ax, windows)
        ax.legend(loc="upper left", frameon=False, fontsize=7, ncol=2)

    return _draw(build, salt, "drift score per feature over time", width=6.4, height=3.4)


def predictions(entry: dict, salt: str) -> str | None:
    """Class shares per window (classification) or the p10-p90 band of predicted values."""
    windows = [w for w in entry["windows"] if w.get("predictions")]
    if not windows:
        return None
    x = _x(windows)
    reference = entry.get("reference_predictions") or {}

    def build_classes(fig, axes):
        ax = axes[0, 0]
        labels = list(windows[0]["predictions"]["shares"])
        bottom = np.zeros(len(windows))
        for i, label in enumerate(labels):
            share = np.array([w["predictions"]["shares"].get(label) or 0.0 for w in windows])
            colour = PALETTE[i % len(PALETTE)]
            ax.bar(x, share, bottom=bottom, color=colour, width=0.8, label=_short(label, 16))
            bottom += share
        cumulative = 0.0
        for label in labels[:-1]:
            cumulative += (reference.get("shares") or {}).get(label, 0.0) or 0.0
            if reference.get("shares"):
                ax.axhline(cumulative, color="#111827", linestyle="--", linewidth=1)
        ax.set(ylim=(0, 1), ylabel="share of predictions")
        _window_axis(ax, windows)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)

    def build_values(fig, axes):
        ax = axes[0, 0]
        rows = [w["predictions"] for w in windows]
        get = lambda k: np.array([r.get(k, np.nan) if r.get(k) is not None else np.nan for r in rows], dtype=float)  # noqa: E731
        ax.fill_between(x, get("p10"), get("p90"), color=BLUE, alpha=0.18, label="10th to 90th percentile")
        ax.plot(x, get("p50"), color=BLUE, linewidth=1.8, marker="o", markersize=3, label="median")
        ax.plot(x, get("mean"), color=ORANGE, linewidth=1.2, linestyle=":", label="mean")
        if reference.get("mean") is not None:
            ax.axhline(reference["mean"], color=GREY, linestyle="--", linewidth=1, label="validation mean")
        ax.set_ylabel("predicted value")
        _window_axis(ax, windows)
        ax.legend(loc="best", frameon=False, fontsize=7)

    classes = "shares" in windows[0]["predictions"]
    return _draw(build_classes if classes else build_values, salt, "predictions over time",
                 width=6.4, height=3.2)


def performance(entry: dict, salt: str) -> str | None:
    """The metric per window with its 95% CI, the validation estimate and the decay line."""
    windows = [w for w in entry["windows"] if (w.get("performance") or {}).get("value") is not None]
    if not windows:
        return None
    perf = [w["performance"] for w in windows]
    x = np.array([w["index"] + 1 for w in windows])

    def build(fig, axes):
        ax = axes[0, 0]
        value = np.array([p["value"] for p in perf], dtype=float)
        low = np.array([p["ci_low"] if p["ci_low"] is not None else p["value"] for p in perf], dtype=float)
        high = np.array([p["ci_high"] if p["ci_high"] is not None else p["value"] for p in perf], dtype=float)
        decay = np.array([p["verdict"] == "decay" for p in perf])
        ax.errorbar(x, value, yerr=[value - low, high - value], fmt="o-", color=BLUE, ecolor="#93c5fd",
                    elinewidth=2, capsize=3, markersize=4, linewidth=1.4, label=f"{perf[0]['metric']} (95% CI)")
        if decay.any():
            ax.scatter(x[decay], value[decay], s=60, facecolors="none", edgecolors=RED, linewidths=1.5,
                       zorder=3, label="decay")
        reference = perf[0].get("reference")
        if reference is not None:
            ax.axhline(reference, color="#111827", linestyle="--", linewidth=1, label="validation estimate")
            margin = perf[0]["tolerance"] * abs(reference)
            bound = reference - margin if perf[0]["greater_is_better"] else reference + margin
            ax.axhline(bound, color=RED, linestyle=":", linewidth=1, label="decay threshold")
        ax.set_ylabel(perf[0]["metric"])
        _window_axis(ax, entry["windows"])
        ax.legend(loc="best", frameon=False, fontsize=7)

    return _draw(build, salt, "performance over time", width=6.4, height=3.2)


def row_counts(entry: dict, salt: str) -> str | None:
    """Predictions per window, and how many of them have a known outcome."""
    windows = entry["windows"]
    if not windows:
        return None

    def build(fig, axes):
        ax = axes[0, 0]
        x = _x(windows)
        ax.bar(x, [w["n"] for w in windows], color="#bfdbfe", width=0.8, label="predictions")
        ax.bar(x, [w["labelled"] for w in windows], color=BLUE, width=0.5, label="with a known outcome")
        ax.set_ylabel("rows")
        _window_axis(ax, windows)
        ax.legend(loc="best", frameon=False, fontsize=7)

    return _draw(build, salt, "rows per window", width=6.4, height=2.6)
