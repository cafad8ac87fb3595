"""Number and label formatting shared by the report's renderers."""

from __future__ import annotations

import math

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae", "median_absolute_error",
                             "mape", "mse"})

SPLIT_TITLES = {"cross_validation": "Cross-validation (out-of-fold predictions)",
                "test": "Test set"}
METRIC_LABELS = {
    "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "f1": "F1 (positive class)",
    "f1_macro": "F1 (macro)", "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)", "log_loss": "Log loss", "brier": "Brier score (summed over classes)",
    "roc_auc": "ROC AUC", "pr_auc": "PR AUC (average precision)", "rmse": "RMSE", "mae": "MAE",
    "median_absolute_error": "Median absolute error", "r2": "R²", "mape": "MAPE",
}


def is_number(value) -> bool:
    """A finite int or float (not a bool, not NaN)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def num(value, digits: int = 4) -> str:
    """A compact number: ``digits`` significant figures, thousands separators, '' when absent."""
    if not is_number(value):
        return "" if value is None else str(value)
    if value == 0:
        return "0"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def approx(value: float) -> str:
    """A rough everyday figure: two significant figures, e.g. 2.1, 15, 3,400."""
    if not is_number(value):
        return "?"
    if value == 0:
        return "0"
    rounded = float(f"{value:.2g}")
    if abs(rounded) >= 10:
        return f"{rounded:,.0f}"
    decimals = 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f}"


def pct(fraction: float, decimals: int = 0) -> str:
    """``0.873`` -> ``'87%'``."""
    if not is_number(fraction):
        return "?"
    return f"{fraction * 100:.{decimals}f}%"


def per_100(fraction: float) -> int:
    """How many out of 100, rounded."""
    return int(round(fraction * 100))


def seconds(value) -> str:
    """``73.2`` -> ``'1 min 13 s'``; short values keep one decimal."""
    if not is_number(value):
        return ""
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def join_words(items: list[str]) -> str:
    """``['a', 'b', 'c']`` -> ``'a, b and c'``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(3, 'row')`` -> ``'3 rows'``, with thousands separators."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " "))


def metric_num(value) -> str:
    """Metric values: three decimals below 10 (0.788, 2.555), else four significant figures."""
    if not is_number(value):
        return "" if value is None else str(value)
    return f"{value:.3f}" if abs(value) < 10 else num(value, 4)


def timestamp(text: str) -> str:
    """``'2026-11-21T21:42:19+00:00'`` -> ``'2026-11-21 21:42 UTC'`` (other text unchanged)."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def unavailable(what: str) -> dict:
    return {"available": False, "reason": f"{what} is not available for this model."}
