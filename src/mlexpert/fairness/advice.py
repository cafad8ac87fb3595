"""Findings in plain words for gaps above the threshold, and the mitigation options that
fit what was found."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .groups import format_value


class Flag(NamedTuple):
    """One headline gap above the threshold."""

    criterion: str  # "demographic_parity" | "equalized_odds" | "accuracy" | "error"
    sentence: str
    uncertain: bool  # the true gap may be below the threshold (groups too small to tell)


def findings(task: str, column: str, table: pd.DataFrame, diffs: dict, max_gap: float,
             positive: str = "", odds_groups: list | None = None) -> list[Flag]:
    """A :class:`Flag` for each headline gap of ``column`` above ``max_gap``.

    ``table`` holds the compared groups; ``odds_groups`` those in the equalized odds
    difference (binary); ``positive`` names the positive class.
    """
    out = []
    if task == "binary":
        if _above(diffs.get("demographic_parity_difference"), max_gap):
            out.append(_parity(column, table, diffs, max_gap, positive))
        if _above(diffs.get("equalized_odds_difference"), max_gap):
            out.append(_odds(column, table.loc[odds_groups], diffs, max_gap, positive))
    elif task == "multiclass" and _above(diffs.get("accuracy_gap"), max_gap):
        high, low = _extremes(table, "accuracy")
        acc, n = table["accuracy"], table["n"]
        half = _half_width(_proportion_se(acc[high], n[high]), _proportion_se(acc[low], n[low]))
        text = (f"Accuracy is {acc[high]:.2f} for {column}={high} and {acc[low]:.2f} for {column}={low}: "
                f"a gap of {diffs['accuracy_gap']:.2f}, above {max_gap:.2f}.")
        out.append(_flag("accuracy", text, diffs["accuracy_gap"], half, max_gap, n[high], n[low]))
    elif task == "regression" and _above(diffs.get("mae_gap_relative"), max_gap):
        high, low = _extremes(table, "mae")
        mae, n = table["mae"], table["n"]
        overall = diffs["mae_gap"] / diffs["mae_gap_relative"]
        half = _half_width(table.loc[high, "_mae_se"], table.loc[low, "_mae_se"]) / overall
        text = (f"Mean absolute error is {format_value(mae[high])} for {column}={high} and "
                f"{format_value(mae[low])} for {column}={low}: a gap of {format_value(diffs['mae_gap'])}, "
                f"{diffs['mae_gap_relative']:.0%} of the overall error, above {max_gap:.0%}.")
        out.append(_flag("error", text, diffs["mae_gap_relative"], half, max_gap, n[high], n[low], "{:.0%}"))
    return out


def mitigation(task: str, criteria: set[str], small_groups: bool, min_rows: int) -> list[str]:
    """Plain-language options for the flagged ``criteria``; notes on small groups."""
    out = []
    if "demographic_parity" in criteria or "equalized_odds" in criteria:
        constraint = ("equalized_odds" if "equalized_odds" in criteria else "demographic_parity")
        out.append(
            f"Post-processing: fairlearn's ThresholdOptimizer (constraints='{constraint}') keeps the "
            "model and picks a separate decision threshold per group so the flagged rates line up. "
            "It needs the sensitive attribute for every prediction, which may be unavailable or "
            "not allowed where the model is used.")
        out.append(
            "Retraining under a constraint: fairlearn's ExponentiatedGradient or GridSearch refits "
            "the model with a DemographicParity or EqualizedOdds constraint; the sensitive attribute "
            "is needed only for training.")
    if "accuracy" in criteria:
        out.append(
            "fairlearn's ThresholdOptimizer and constraint-based retraining handle yes/no decisions; "
            "with several classes, study the errors of the worse-served group (its confusion matrix), "
            "give its rows more weight or collect more of them, or recast the decision that matters "
            "as a yes/no one and mitigate that.")
    if "error" in criteria:
        out.append(
            "Retraining under a constraint: fairlearn's ExponentiatedGradient or GridSearch with a "
            "BoundedGroupLoss constraint caps the error of every group; weighting the rows of the "
            "worse-served groups more during training is a simpler first step.")
    if criteria:
        out.append(
            "Reweighting or more data: give under-served groups larger sample weights, or collect "
            "more examples of them, especially where a group is small or its outcomes are rare.")
        out.append(
            "Dropping the sensitive column does not remove the bias: other columns that correlate "
            "with it (proxies) carry the same signal, and without the column the gap can no longer "
            "be measured or corrected.")
        out.append(
            "Each option trades some overall accuracy for smaller gaps, and the criteria can conflict "
            "(when groups differ in their actual outcome rates, equal selection rates and equal error "
            "rates cannot both hold); pick the criterion that matches the harm, then re-run this check.")
    if small_groups:
        out.append(
            f"Some groups have fewer than {min_rows} rows, too few to judge their gaps: collect more "
            "data for them, or weight their rows more during training so the model does not neglect them.")
    return out


def _parity(column, table, diffs, max_gap, positive) -> Flag:
    high, low = _extremes(table, "selection_rate")
    rates, base, n = table["selection_rate"], table["base_rate"], table["n"]
    gap = diffs["demographic_parity_difference"]
    if base[high] - base[low] >= gap / 2:
        reading = ("so much of this gap reflects the outcomes in the data; the error rates "
                   "(equalized odds) show whether the model treats the groups differently")
    else:
        reading = "so the gap is larger than the outcomes in the data explain"
    text = (f"Selection rate (share predicted {positive!r}) is {rates[high]:.2f} for {column}={high} "
            f"and {rates[low]:.2f} for {column}={low}: a demographic parity difference of {gap:.2f}, "
            f"above {max_gap:.2f}. The actual shares are {base[high]:.2f} and {base[low]:.2f}, {reading}.")
    half = _half_width(_proportion_se(rates[high], n[high]), _proportion_se(rates[low], n[low]))
    return _flag("demographic_parity", text, gap, half, max_gap, n[high], n[low])


def _odds(column, table, diffs, max_gap, positive) -> Flag:
    if diffs["true_positive_rate_gap"] >= diffs["false_positive_rate_gap"]:
        metric, words = "true_positive_rate", f"True positive rate (share of actual {positive!r} found)"
        rows = table["n"] * table["base_rate"]
    else:
        metric, words = "false_positive_rate", f"False positive rate (share wrongly predicted {positive!r})"
        rows = table["n"] * (1 - table["base_rate"])
    high, low = _extremes(table, metric)
    rate = table[metric]
    gap = diffs["equalized_odds_difference"]
    text = (f"{words} is {rate[high]:.2f} for {column}={high} and {rate[low]:.2f} for {column}={low}: "
            f"an equalized odds difference of {gap:.2f}, above {max_gap:.2f}.")
    half = _half_width(_proportion_se(rate[high], rows[high]), _proportion_se(rate[low], rows[low]))
    return _flag("equalized_odds", text, gap, half, max_gap, rows[high], rows[low])


def _flag(criterion, text, gap, half, max_gap, n_high, n_low, fmt="{:.2f}") -> Flag:
    """Add a caution when the gap minus its 95% margin of error is not above ``max_gap``."""
    uncertain = gap - half <= max_gap
    if uncertain:
        text += (f" With {int(round(n_high)):,} and {int(round(n_low)):,} rows behind these rates, "
                 f"chance alone moves this gap by about ±{fmt.format(half)}, so the real gap may be "
                 f"below {fmt.format(max_gap)}: confirm it on more data.")
    return Flag(criterion, text, bool(uncertain))


def _proportion_se(rate: float, n: float) -> float:
    return float(np.sqrt(rate * (1 - rate) / n)) if n > 0 else np.inf


def _half_width(se_high: float, se_low: float) -> float:
    """95% margin of error of the difference between two independent group estimates."""
    return 1.96 * float(np.hypot(se_high, se_low))


def _extremes(table: pd.DataFrame, metric: str) -> tuple[str, str]:
    values = table[metric].dropna()
    return values.idxmax(), values.idxmin()


def _above(value, max_gap: float) -> bool:
    return value is not None and not pd.isna(value) and value > max_gap
