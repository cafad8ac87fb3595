"""The executive summary: what the model predicts, how good it is, what drives it and what
to watch out for, in short sentences for readers who are not data scientists.

Every function is pure: it reads plain numbers or manifest sections and returns sentences.
"""

from __future__ import annotations

import numpy as np

from ._format import (LOWER_IS_BETTER, approx, is_number, join_words, pct, per_100, plural)

SMALL_DATA_ROWS = 1_000
SMALL_CLASS_ROWS = 30
POOR_CALIBRATION = 0.05  # expected calibration error above which probabilities are called rough
WIDE_INTERVAL = 0.10  # a 95% interval wider than this (AUC, accuracy) is called wide
TREND_RANK_CORR = 0.8  # partial dependence at least this monotone earns a direction sentence
MAX_LISTED_FINDINGS = 3


# ---------------------------------------------------------------- what was predicted

def task_words(task: dict, target: str) -> str:
    """What the model predicts, in words."""
    kind = task.get("kind")
    classes = [str(c) for c in task.get("classes") or []]
    if kind == "binary" and len(classes) == 2:
        return f'whether {target} is "{classes[1]}" or "{classes[0]}"'
    if kind == "multiclass" and classes:
        listed = f" ({join_words(classes)})" if len(classes) <= 6 else ""
        return f"which {target} applies, out of {len(classes)} possibilities{listed}"
    return f"the value of {target} (a number)"


def what_sentence(task: dict, target: str, n_rows, n_features) -> str:
    text = f"This model predicts {task_words(task, target)}."
    if is_number(n_rows):
        text += f" It learned from {plural(int(n_rows), 'example')}"
        if is_number(n_features):
            text += f", each described by {plural(int(n_features), 'input column')}"
        text += "."
    return text


def measured_on_sentence(split: str, n_rows: int) -> str:
    if split == "test":
        return (f"The figures below were measured on {plural(n_rows, 'separate test row')} "
                "that the model never saw while learning.")
    return (f"The figures below were measured on {plural(n_rows, 'row')}, each predicted by a "
            "version of the model that had not seen that row while learning.")


# ---------------------------------------------------------------- how good it is

def case(target: str, label) -> str:
    return f'"{target} = {label}"'


def binary_sentences(precision: float, recall: float, base_rate: float | None,
                     target: str, positive) -> list[str]:
    """Precision and recall at the decision threshold, as counts out of 100."""
    what = case(target, positive)
    out = []
    if is_number(recall) and recall == 0:  # it never flags anyone: precision means nothing
        return [f"At this cut-off it never flags a case as {what}: lower the cut-off (fit with "
                "--optimize-threshold f1) to catch any."] + (
            [f"For comparison, {per_100(base_rate)} of every 100 cases are {what} overall."]
            if is_number(base_rate) else [])
    if is_number(precision):
        out.append(f"Of every 100 cases it flags as {what}, about {per_100(precision)} really are.")
    if is_number(recall):
        out.append(f"It catches about {per_100(recall)} of every 100 real {what} cases.")
    if is_number(base_rate):
        out.append(f"For comparison, {per_100(base_rate)} of every 100 cases are {what} overall.")
    return out


def auc_sentence(auc: float, target: str, positive, negative) -> str:
    return (f"Given one random {case(target, positive)} case and one random "
            f"{case(target, negative)} case, it gives the first a higher score {pct(auc)} of "
            "the time (50% would be a coin toss, 100% is perfect).")


def threshold_sentence(threshold: dict) -> str:
    t = threshold.get("threshold")
    if not is_number(t):
        return ""
    goal = ("to get the best balance of the two figures below (F1)" if threshold.get("metric") == "f1"
            else f"to get the best {threshold.get('metric', 'score')}")
    chance = f"{100 * t:.2g}%" if t < 0.05 else pct(t)
    return (f"It flags a case when its estimated chance is at least {chance}; this cut-off was "
            f"chosen {goal}.")


def regression_sentences(mae: float, median_ae: float | None, r2: float | None,
                         target: str, mape: float | None = None) -> list[str]:
    out = []
    if is_number(mae):
        text = f"Its predictions of {target} are typically off by about {approx(mae)}"
        if is_number(median_ae):
            text += f" (half of them are within {approx(median_ae)} of the true value)"
        out.append(text + ".")
    if is_number(mape) and mape < 1:
        out.append(f"On average that is about {pct(mape)} of the true value.")
    if is_number(r2):
        if r2 <= 0:
            out.append(f"It does no better than always guessing the average {target}.")
        else:
            out.append(f"It explains about {pct(r2)} of the variation in {target} (0% would be "
                       "no better than always guessing the average, 100% is perfect).")
    return out


def multiclass_sentences(accuracy: float, target: str, recalls: dict[str, float] | None = None,
                         majority_rate: float | None = None) -> list[str]:
    out = [f"It picks the right {target} about {per_100(accuracy)} times out of 100."]
    if is_number(majority_rate):
        out.append(f"Always guessing the most common {target} would be right "
                   f"{per_100(majority_rate)} times out of 100.")
    recalls = {k: v for k, v in (recalls or {}).items() if is_number(v)}
    if len(recalls) >= 3:
        hardest = min(recalls, key=recalls.get)
        if recalls[hardest] < accuracy - 0.03:
            out.append(f'The hardest to recognise is "{hardest}": it finds about '
                       f"{per_100(recalls[hardest])} of every 100 such cases.")
    return out


def quality_sentences(manifest: dict) -> list[str]:
    """Everyday-terms quality from the test assessment if there is one, else out-of-fold."""
    split, ev = headline_assessment(manifest)
    if ev is None:
        return ["Its quality was not measured for this model."]
    task = manifest.get("task") or {}
    target = manifest.get("target", "the target")
    values = {k: v.get("value") for k, v in (ev.get("metrics") or {}).items()}
    out = [measured_on_sentence(split, int(ev.get("n_rows", 0)))]
    kind = task.get("kind")
    classes = [str(c) for c in task.get("classes") or []]
    if kind == "binary" and len(classes) == 2:
        precision, recall = binary_operating_point(ev, manifest.get("threshold"), classes[1])
        if manifest.get("threshold"):
            out.append(threshold_sentence(manifest["threshold"]))
        out += binary_sentences(precision, recall, base_rate(ev, classes[1]), target, classes[1])
        if is_number(values.get("roc_auc")):
            out.append(auc_sentence(values["roc_auc"], target, classes[1], classes[0]))
    elif kind == "multiclass":
        recalls = {k: v.get("recall") for k, v in (ev.get("per_class") or {}).items()}
        out += multiclass_sentences(values.get("accuracy"), target, recalls,
                                    majority_rate(ev))
    else:
        out += regression_sentences(values.get("mae"), values.get("median_absolute_error"),
                                    values.get("r2"), target, values.get("mape"))
    return [s for s in out if s]


def headline_assessment(manifest: dict) -> tuple[str, dict | None]:
    evaluation = manifest.get("evaluation") or {}
    for split in ("test", "cross_validation"):
        if isinstance(evaluation.get(split), dict) and evaluation[split].get("metrics"):
            return split, evaluation[split]
    return "", None


def binary_operating_point(ev: dict, threshold: dict | None, positive: str):
    """Precision and recall of the positive class at the decision threshold: the per-class
    report when it was computed at that threshold (or there is no tuned one), else read off
    the PR curve at the tuned threshold."""
    t = (threshold or {}).get("threshold")
    pr = ((ev.get("curves") or {}).get("pr") or {})
    if is_number(t) and ev.get("decision_threshold") is None and pr.get("threshold"):
        best = None
        for p, r, th in zip(pr["precision"], pr["recall"], pr["threshold"]):
            if th is not None and th >= t and (best is None or th < best[2]):
                best = (p, r, th)
        if best is not None:
            return best[0], best[1]
    stats = (ev.get("per_class") or {}).get(positive) or {}
    return stats.get("precision"), stats.get("recall")


def base_rate(ev: dict, positive: str) -> float | None:
    support = {k: v.get("support", 0) for k, v in (ev.get("per_class") or {}).items()}
    total = sum(support.values())
    return support.get(positive, 0) / total if total and positive in support else None


def majority_rate(ev: dict) -> float | None:
    support = [v.get("support", 0) for v in (ev.get("per_class") or {}).values()]
    return max(support) / sum(support) if support and sum(support) else None


# ---------------------------------------------------------------- main drivers

def driver_sentences(importance: dict | None) -> list[str]:
    """The top three features, and the direction of their effect where it is clear."""
    names = top_features(importance, 3)
    if not names:
        return ["Which inputs matter most was not measured for this model."]
    out = [f"The predictions depend most on {join_words(names)}."]
    for pd_ in (importance or {}).get("partial_dependence") or []:
        if pd_.get("feature") in names:
            sentence = trend_sentence(pd_)
            if sentence:
                out.append(sentence)
    return out


def top_features(importance: dict | None, n: int = 3) -> list[str]:
    importance = importance or {}
    perm = (importance.get("permutation") or {}).get("features") or []
    names = [f["feature"] for f in perm if is_number(f.get("mean")) and f["mean"] > 0]
    if not names:
        shap = (importance.get("shap") or {}).get("features") or []
        names = [f["feature"] for f in shap if is_number(f.get("mean_abs")) and f["mean_abs"] > 0]
    return names[:n]


def trend_sentence(pd_: dict) -> str:
    """'Higher X goes with a higher chance of Y.' when a numeric partial dependence is close to
    monotone (rank correlation >= TREND_RANK_CORR); '' otherwise."""
    grid, average = pd_.get("grid") or [], pd_.get("average")
    if pd_.get("kind") != "numeric" or not isinstance(average, list) or len(grid) < 3:
        return ""
    x, y = np.asarray(grid, dtype=float), np.asarray(average, dtype=float)
    if len(x) != len(y) or np.ptp(y) == 0 or not np.isfinite(y).all():
        return ""
    from scipy.stats import spearmanr

    rho = float(spearmanr(x, y).statistic)  # average ranks: plateaus do not make a trend
    if not abs(rho) >= TREND_RANK_CORR:
        return ""
    return (f"Higher {pd_['feature']} goes with {'higher' if rho > 0 else 'lower'} "
            f"{output_words(pd_.get('output', 'predictions'))}.")


def output_words(output: str) -> str:
    """'P(churned = yes)' -> 'chance of churned = yes'."""
    output = str(output)
    if output.startswith("P(") and output.endswith(")"):
        return f"chance of {output[2:-1]}"
    return output


# ---------------------------------------------------------------- caveats

def caveat_sentences(manifest: dict) -> list[str]:
    """What to watch out for, most serious first."""
    out = audit_caveats(manifest.get("audit"))
    diagnosis = manifest.get("diagnosis") or {}
    if diagnosis.get("verdict") in ("overfitting", "underfitting", "more_data") and diagnosis.get("headline"):
        out.append(str(diagnosis["headline"]))
    out += fairness_caveats(manifest.get("fairness"))
    out += data_size_caveats(manifest)
    split, ev = headline_assessment(manifest)
    if ev is not None:
        out += calibration_caveats(ev)
        out += test_gap_caveats(manifest)
        out += uncertainty_caveats(ev, manifest.get("task") or {})
    return out


def audit_caveats(audit: dict | None) -> list[str]:
    findings = (audit or {}).get("findings") or []
    critical = [f for f in findings if f.get("severity") == "critical"]
    warnings = [f for f in findings if f.get("severity") == "warning"]
    out = []
    if critical:
        out.append(f"The data check found {_count(len(critical), 'serious problem')}: "
                   + " ".join(str(f.get("message", "")) + _acted(f)
                              for f in critical[:MAX_LISTED_FINDINGS]))
    if len(warnings) == 1:
        out.append(f"The data check raised a warning: {warnings[0].get('message', '')}"
                   + _acted(warnings[0]))
    elif warnings:
        out.append(f"The data check raised {_count(len(warnings), 'warning')}, for example: "
                   f"{warnings[0].get('message', '')} (the others are in the Data audit section)")
    return out


def _acted(finding: dict) -> str:
    """' It was left out of training.' when fit dropped the column (the action says so)."""
    action = str(finding.get("action", ""))
    return " It was left out of training." if action.startswith("Dropped") else ""


def _count(n: int, word: str) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(n, n)} {word}{'s' if n != 1 else ''}"


def fairness_caveats(fairness: dict | None) -> list[str]:
    columns = (fairness or {}).get("columns") or {}
    flagged = [name for name, col in columns.items() if isinstance(col, dict) and col.get("flagged")]
    if not flagged:
        return []
    return [f"Results differ noticeably between groups of {join_words(flagged)}; read the "
            "Fairness section before relying on the model for decisions that affect these groups."]


def data_size_caveats(manifest: dict) -> list[str]:
    out = []
    n = manifest.get("n_rows")
    if is_number(n) and n < SMALL_DATA_ROWS:
        out.append(f"It learned from only {plural(int(n), 'example')}, so its quality on new data "
                   "may differ from the figures above.")
    _, ev = headline_assessment(manifest)
    if ev is not None and (manifest.get("task") or {}).get("kind") in ("binary", "multiclass"):
        support = {k: v.get("support", 0) for k, v in (ev.get("per_class") or {}).items()}
        rare = [k for k, v in support.items() if is_number(v) and v < SMALL_CLASS_ROWS]
        if rare:
            target = manifest.get("target", "target")
            out.append(f"There were very few examples of {join_words([case(target, r) for r in rare])}, "
                       "so figures about them are rough.")
    return out


def calibration_caveats(ev: dict) -> list[str]:
    ece = (ev.get("calibration") or {}).get("expected_calibration_error")
    if is_number(ece) and ece > POOR_CALIBRATION:
        return [f"Its stated chances are off by about {per_100(ece)} percentage points on "
                "average; use them to rank cases rather than as exact probabilities."]
    return []


def headline_metric(task: dict) -> str:
    return {"binary": "roc_auc", "multiclass": "accuracy"}.get(task.get("kind"), "mae")


def test_gap_caveats(manifest: dict) -> list[str]:
    """The test score is worse than the out-of-fold interval: expect the lower figure."""
    evaluation = manifest.get("evaluation") or {}
    cv, test = evaluation.get("cross_validation") or {}, evaluation.get("test") or {}
    name = headline_metric(manifest.get("task") or {})
    a, b = (cv.get("metrics") or {}).get(name) or {}, (test.get("metrics") or {}).get(name) or {}
    if not (is_number(b.get("value")) and is_number(a.get("ci_low")) and is_number(a.get("ci_high"))):
        return []
    worse = b["value"] > a["ci_high"] if name in LOWER_IS_BETTER else b["value"] < a["ci_low"]
    if not worse:
        return []
    return ["It scored lower on the separate test rows than in the checks made during "
            "training; expect the lower, test figures on new data."]


def uncertainty_caveats(ev: dict, task: dict) -> list[str]:
    name = headline_metric(task)
    m = (ev.get("metrics") or {}).get(name) or {}
    low, high = m.get("ci_low"), m.get("ci_high")
    if not (is_number(low) and is_number(high)):
        return []
    if name == "mae":
        return [f"These figures are estimates: the typical error could plausibly be anywhere "
                f"from {approx(low)} to {approx(high)}."]
    what = "ranking figure" if name == "roc_auc" else "hit rate"
    text = (f"These figures are estimates: the {what} of {pct(m.get('value'))} could plausibly "
            f"be anywhere from {pct(low)} to {pct(high)}")
    if high - low > WIDE_INTERVAL:
        text += ", a wide range: more data would make it more certain"
    return [text + "."]


# ---------------------------------------------------------------- all together

def executive_summary(manifest: dict) -> dict:
    """``{"what": str, "quality": [...], "drivers": [...], "caveats": [...]}``."""
    return {
        "what": what_sentence(manifest.get("task") or {}, manifest.get("target", "the target"),
                              manifest.get("n_rows"), manifest.get("n_features")),
        "quality": quality_sentences(manifest),
        "drivers": driver_sentences(manifest.get("importance")),
        "caveats": caveat_sentences(manifest),
    }
