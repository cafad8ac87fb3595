"""Charts as inline SVG strings, drawn with matplotlib's object API (no pyplot state).

Each function takes plain lists from the manifest and returns ``<svg ...>...</svg>``: no XML
header, no date, deterministic element ids (salted per chart so that several charts can
share one HTML page), and text drawn as paths so no font is needed to view it.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np

BLUE, ORANGE, GREY, RED, GREEN = "#2563eb", "#ea580c", "#6b7280", "#dc2626", "#16a34a"
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#ca8a04", "#db2777",
           "#4b5563", "#65a30d", "#7c3aed")
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
      "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False,
      "axes.spines.right": False, "axes.grid": True, "grid.color": "#e5e7eb",
      "grid.linewidth": 0.6, "axes.edgecolor": "#9ca3af", "axes.axisbelow": True,
      "svg.fonttype": "path", "figure.dpi": 72}
MAX_LABEL = 22


def _figure(width: float = 4.8, height: float = 3.4, ncols: int = 1, nrows: int = 1,
            sharey: bool = False):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    return fig, axes


def to_svg(fig, salt: str, label: str = "") -> str:
    """The figure as an inline ``<svg>`` element."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"mlx-{salt}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)
    text = _prefix_ids(text, re.sub(r"[^A-Za-z0-9_-]", "_", salt))
    aria = f' role="img" aria-label="{_attr(label)}"' if label else ' role="img"'
    width = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', text)
    if width:  # never drawn larger than its natural size, so text keeps its intended size
        aria += f' style="max-width: {float(width.group(1)) * 4 / 3:.0f}px"'
    return text.replace("<svg", "<svg" + aria, 1).strip()


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make element ids unique across a page that inlines several SVGs (matplotlib numbers
    them from 1 in every file): ``id="x"`` -> ``id="prefix-x"``, and every reference too."""
    svg = re.sub(r'\sid="([^"]+)"', lambda m: f' id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'((?:xlink:)?href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)


def _attr(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _short(text, limit: int = MAX_LABEL) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _draw(build, salt: str, label: str, **size) -> str:
    import matplotlib

    with matplotlib.rc_context(RC):
        fig, axes = _figure(**size)
        build(fig, axes)
        return to_svg(fig, salt, label)


# ---------------------------------------------------------------- classification

def confusion_matrix(labels: list[str], matrix: list[list[int]], salt: str = "cm") -> str:
    """Counts, coloured by the share of each true class (row)."""
    m = np.asarray(matrix, dtype=float)
    k = len(labels)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)

    def build(fig, axes):
        ax = axes[0, 0]
        ax.grid(False)
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ticks = np.arange(k)
        names = [_short(c, 14) for c in labels]
        ax.set_xticks(ticks, names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
        ax.set_yticks(ticks, names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        if k <= 12:
            for i in range(k):
                for j in range(k):
                    colour = "white" if share[i, j] > 0.6 else "#111827"
                    ax.text(j, i, f"{int(m[i, j]):,}\n{share[i, j]:.0%}", ha="center",
                            va="center", color=colour, fontsize=8 if k <= 6 else 6)
        fig.colorbar(image, ax=ax, shrink=0.8)

    side = min(7.0, 2.8 + 0.35 * k)
    return _draw(build, salt, "confusion matrix", width=side + 0.9, height=side)


def _curve_sets(curves: dict, key: str) -> list[tuple[str, dict]]:
    if key in curves:
        return [("", curves[key])]
    return [(label, c[key]) for label, c in (curves.get("one_vs_rest") or {}).items() if key in c]


def roc(curves: dict, auc: float | None = None, salt: str = "roc") -> str:
    """ROC curve (binary) or one-vs-rest curves per class."""
    sets = _curve_sets(curves, "roc")

    def build(fig, axes):
        ax = axes[0, 0]
        ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="chance")
        for i, (label, c) in enumerate(sets):
            name = _short(label) if label else (f"model (AUC {auc:.3f})" if auc is not None else "model")
            ax.plot(c["fpr"], c["tpr"], color=PALETTE[i % len(PALETTE)], linewidth=1.8, label=name)
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate",
               ylabel="true positive rate (recall)")
        ax.legend(loc="lower right", frameon=False)

    return _draw(build, salt, "ROC curve")


def pr(curves: dict, base_rates: dict | None = None, salt: str = "pr") -> str:
    """Precision-recall curve(s), with the base rate (precision of guessing) as reference."""
    sets = _curve_sets(curves, "pr")

    def build(fig, axes):
        ax = axes[0, 0]
        for i, (label, c) in enumerate(sets):
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(c["recall"], c["precision"], color=colour, linewidth=1.8,
                    label=_short(label) if label else "model", drawstyle="steps-post")
            rate = (base_rates or {}).get(label)
            if rate is not None and len(sets) == 1:
                ax.axhline(rate, color=GREY, linestyle="--", linewidth=1,
                           label=f"guessing ({rate:.0%} positive)")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall", ylabel="precision")
        ax.legend(loc="lower left", frameon=False)

    return _draw(build, salt, "precision-recall curve")


def calibration(mean_predicted: list[float], fraction_positive: list[float], kind: str = "",
                salt: str = "calibration") -> str:
    def build(fig, axes):
        ax = axes[0, 0]
        ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfectly calibrated")
        ax.plot(mean_predicted, fraction_positive, color=BLUE, marker="o", markersize=4,
                linewidth=1.8, label="model")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel=f"predicted probability{f' ({kind})' if kind else ''}",
               ylabel="observed frequency")
        ax.legend(loc="upper left", frameon=False)

    return _draw(build, salt, "calibration curve")


# ---------------------------------------------------------------- regression

def residual_scatter(predicted: list[float], actual: list[float], salt: str = "residuals") -> str:
    p, a = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    r = a - p

    def build(fig, axes):
        ax = axes[0, 0]
        ax.axhline(0, color=GREY, linewidth=1)
        ax.scatter(p, r, s=10, color=BLUE, alpha=0.55, linewidths=0, rasterized=False)
        ax.set(xlabel="predicted", ylabel="residual (actual − predicted)")

    return _draw(build, salt, "residuals versus predicted values")


def residual_histogram(predicted: list[float], actual: list[float], salt: str = "reshist") -> str:
    r = np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float)

    def build(fig, axes):
        ax = axes[0, 0]
        ax.hist(r, bins=min(40, max(10, int(math.sqrt(len(r))))), color=BLUE, alpha=0.85,
                edgecolor="white", linewidth=0.4)
        ax.axvline(0, color=GREY, linewidth=1)
        ax.set(xlabel="residual (actual − predicted)", ylabel="rows")

    return _draw(build, salt, "histogram of residuals")


# ---------------------------------------------------------------- diagnosis

def learning_curve(curve: list[dict], metric: str = "score", salt: str = "lc") -> str:
    n = [p.get("n_train") for p in curve]
    train = [p.get("train") for p in curve]
    valid = [p.get("valid") for p in curve]

    def build(fig, axes):
        ax = axes[0, 0]
        ax.plot(n, train, color=ORANGE, marker="o", markersize=4, linewidth=1.8, label="on training rows")
        ax.plot(n, valid, color=BLUE, marker="o", markersize=4, linewidth=1.8, label="on held-out rows")
        ax.set(xlabel="training rows", ylabel=metric)
        ax.legend(frameon=False)

    return _draw(build, salt, "learning curve")


# ---------------------------------------------------------------- importance

def importance_bars(names: list[str], values: list[float], errors: list[float] | None = None,
                    xlabel: str = "importance", salt: str = "imp") -> str:
    """Horizontal bars, most important on top."""
    names, values = [_short(n, 28) for n in names][::-1], list(values)[::-1]
    errors = list(errors)[::-1] if errors is not None else None

    def build(fig, axes):
        ax = axes[0, 0]
        ax.grid(axis="y", visible=False)
        ax.barh(range(len(values)), values, xerr=errors, color=BLUE, alpha=0.85,
                error_kw={"ecolor": GREY, "elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(range(len(values)), names)
        ax.axvline(0, color=GREY, linewidth=0.8)
        ax.set_xlabel(xlabel)

    return _draw(build, salt, xlabel, height=max(2.0, 0.6 + 0.24 * len(values)))


def partial_dependence(items: list[dict], salt: str = "pd", ncols: int = 3) -> str:
    """Small multiples: one panel per feature, on a shared y scale so effects compare; a line
    per class for multiclass outputs."""
    nrows = math.ceil(len(items) / ncols)
    cols = min(ncols, len(items))

    def build(fig, axes):
        for idx, ax in enumerate(axes.flat):
            if idx >= len(items):
                ax.set_visible(False)
                continue
            item = items[idx]
            grid, average = item.get("grid") or [], item.get("average")
            series = average if isinstance(average, dict) else {"": average or []}
            numeric = item.get("kind") == "numeric"
            for i, (label, ys) in enumerate(series.items()):
                colour = PALETTE[i % len(PALETTE)]
                if numeric:
                    ax.plot(grid, ys, color=colour, linewidth=1.6, label=_short(label, 14) or None)
                else:
                    width = 0.8 / len(series)
                    x = np.arange(len(grid)) + i * width - 0.4 + width / 2
                    ax.bar(x, ys, width=width, color=colour, alpha=0.85,
                           label=_short(label, 14) or None)
            if not numeric:
                ax.set_xticks(np.arange(len(grid)), [_short(g, 10) for g in grid],
                              rotation=45 if len(grid) > 3 else 0,
                              ha="right" if len(grid) > 3 else "center")
            ax.set_title(_short(item.get("feature", ""), 30))
            if idx % cols == 0:
                ax.set_ylabel(_short(item.get("output", ""), 30))
            if idx == 0 and isinstance(average, dict):
                ax.legend(frameon=False, fontsize=7)

    return _draw(build, salt, "partial dependence", ncols=cols, nrows=nrows,
                 width=2.6 * cols + 0.4, height=2.3 * nrows, sharey=True)


# ---------------------------------------------------------------- fairness

def group_bars(groups: list[str], metrics: dict[str, list[float]], salt: str = "fair") -> str:
    """Grouped bars: one group of bars per metric, one bar per group."""
    names = list(metrics)

    def build(fig, axes):
        ax = axes[0, 0]
        width = 0.8 / max(1, len(groups))
        for i, group in enumerate(groups):
            x = np.arange(len(names)) + i * width - 0.4 + width / 2
            ax.bar(x, [metrics[n][i] for n in names], width=width,
                   color=PALETTE[i % len(PALETTE)], alpha=0.85, label=_short(group, 16))
        ax.set_xticks(np.arange(len(names)), [n.replace("_", " ") for n in names],
                      rotation=20 if len(names) > 3 else 0, ha="right" if len(names) > 3 else "center")
        ax.grid(axis="x", visible=False)
        ax.legend(frameon=False, ncols=min(4, len(groups)))

    return _draw(build, salt, "metrics by group", width=max(4.8, 1.2 * len(names) + 1.5))
