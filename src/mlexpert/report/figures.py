"""Which charts go in which section, with their captions, drawn from the manifest.

A chart whose data is malformed is left out with a visible note rather than failing the
whole report.
"""

from __future__ import annotations

from ._format import LOWER_IS_BETTER, is_number, num
from . import charts
from ._format import SPLIT_TITLES

MAX_IMPORTANCE_BARS = 15
MAX_PD_PANELS = 6
GROUP_CHART_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy",
                       "balanced_accuracy", "mae", "mean_prediction", "mean_actual")


def build_figures(manifest: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """``({section id: [figure, ...]}, notes)``; a figure is ``{"chart", "split", "caption",
    "svg"}``."""
    out: dict[str, list[dict]] = {}
    notes: list[str] = []

    def add(section: str, chart: str, draw, caption: str, split: str = "") -> None:
        try:
            svg = draw()
        except Exception as exc:  # noqa: BLE001 - one bad chart must not sink the report
            notes.append(f"The {chart} chart could not be drawn ({type(exc).__name__}: {exc}).")
            return
        out.setdefault(section, []).append({"chart": chart, "split": split, "caption": caption,
                                            "svg": svg})

    evaluation = manifest.get("evaluation") or {}
    for name in ("cross_validation", "test"):
        if isinstance(evaluation.get(name), dict):
            _metric_figures(add, evaluation[name], name)
    _diagnosis_figures(add, manifest.get("diagnosis") or {})
    _importance_figures(add, manifest.get("importance") or {}, manifest.get("target", "the target"))
    _fairness_figures(add, manifest.get("fairness") or {})
    return out, notes


def _metric_figures(add, ev: dict, name: str) -> None:
    key = "cv" if name == "cross_validation" else name
    where = SPLIT_TITLES.get(name, name).split(" (")[0].lower()
    metrics = {k: v.get("value") for k, v in (ev.get("metrics") or {}).items()}
    cm = ev.get("confusion_matrix")
    if cm and cm.get("matrix"):
        add("metrics", "confusion-matrix",
            lambda: charts.confusion_matrix(cm["labels"], cm["matrix"], salt=f"cm-{key}"),
            f"Confusion matrix ({where}): rows are the actual classes, columns the predicted "
            "ones; each cell shows the count and its share of the actual class.", key)
    curves = ev.get("curves") or {}
    if curves:
        auc = metrics.get("roc_auc")
        add("metrics", "roc", lambda: charts.roc(curves, auc if "roc" in curves else None, salt=f"roc-{key}"),
            f"ROC curve ({where}{', one line per class against the rest' if 'roc' not in curves else ''}): "
            "the closer to the top-left corner, the better"
            + (f"; ROC AUC {num(auc, 3)}." if is_number(auc) else "."), key)
        rates = _base_rates(ev)
        add("metrics", "pr", lambda: charts.pr(curves, rates, salt=f"pr-{key}"),
            f"Precision-recall curve ({where}): how many flagged cases are right (precision) "
            "against how many real cases are found (recall), at every threshold"
            + (f"; average precision {num(metrics['pr_auc'], 3)}." if is_number(metrics.get("pr_auc")) else "."),
            key)
    cal = ev.get("calibration") or {}
    if cal.get("mean_predicted"):
        ece, brier = cal.get("expected_calibration_error"), metrics.get("brier")
        scores = "; ".join(s for s in (f"Brier score {num(brier, 3)}" if is_number(brier) else "",
                                       f"expected calibration error {num(ece, 3)}" if is_number(ece) else "") if s)
        add("metrics", "calibration",
            lambda: charts.calibration(cal["mean_predicted"], cal["fraction_positive"],
                                       cal.get("kind", ""), salt=f"cal-{key}"),
            f"Calibration ({where}, {cal.get('kind', '')}): predicted probability against how "
            f"often the event happened; on the dashed line the probabilities can be taken at face "
            f"value. {scores}.", key)
    sample = (ev.get("residuals") or {}).get("sample") or {}
    if sample.get("predicted"):
        shown = len(sample["predicted"])
        add("metrics", "residuals",
            lambda: charts.residual_scatter(sample["predicted"], sample["actual"], salt=f"res-{key}"),
            f"Residuals against predicted values ({where}, {shown:,} rows): a shapeless band "
            "around zero is good; a funnel or a curve points at errors that depend on the "
            "prediction.", key)
        add("metrics", "residual-histogram",
            lambda: charts.residual_histogram(sample["predicted"], sample["actual"], salt=f"rh-{key}"),
            f"Distribution of residuals ({where}, {shown:,} rows).", key)


def _base_rates(ev: dict) -> dict:
    support = {k: v.get("support", 0) for k, v in (ev.get("per_class") or {}).items()}
    total = sum(support.values())
    if not total:
        return {}
    labels = list(support)
    rates = {k: v / total for k, v in support.items()}
    if len(labels) == 2:
        rates[""] = rates[labels[1]]
    return rates


def _diagnosis_figures(add, diagnosis: dict) -> None:
    curve = [p for p in diagnosis.get("curve") or [] if is_number(p.get("n_train"))]
    if len(curve) >= 2:
        add("diagnosis", "learning-curve",
            lambda: charts.learning_curve(curve, _direction(diagnosis)),
            f"Learning curve of {diagnosis.get('model', 'the best model')}: "
            f"{diagnosis.get('metric', 'score')} on the rows it learned from and on held-out rows, "
            "as the training set grows. A wide gap means overfitting; a held-out line still "
            "climbing at the right means more data would help.")


def _direction(diagnosis: dict) -> str:
    metric = diagnosis.get("metric", "score")
    better = diagnosis.get("greater_is_better", metric not in LOWER_IS_BETTER)
    return f"{metric} ({'higher' if better else 'lower'} is better)"


def _importance_figures(add, importance: dict, target: str) -> None:
    perm = (importance.get("permutation") or {}).get("features") or []
    if perm:
        top = perm[:MAX_IMPORTANCE_BARS]
        metric = (importance.get("permutation") or {}).get("metric", "score")
        worse = f"{'rise' if metric in LOWER_IS_BETTER else 'drop'} in {metric}"
        add("importance", "permutation-importance",
            lambda: charts.importance_bars([f["feature"] for f in top], [f["mean"] for f in top],
                                           [abs(f.get("std") or 0) for f in top],
                                           xlabel=f"{worse} when shuffled", salt="perm"),
            f"Permutation importance: how much worse {metric} gets when a column's values are "
            "shuffled (bars: mean, whiskers: spread over repeats).")
    shap = (importance.get("shap") or {}).get("features") or []
    if shap:
        top = shap[:MAX_IMPORTANCE_BARS]
        space = (importance.get("shap") or {}).get("space", "")
        space = f"units of {target}" if space == "value" else space
        add("importance", "shap-importance",
            lambda: charts.importance_bars([f["feature"] for f in top], [f["mean_abs"] for f in top],
                                           xlabel=f"mean |SHAP value| ({space})", salt="shap"),
            f"SHAP global importance: the average size of each column's contribution to a "
            f"prediction ({space}).")
    pds = [p for p in importance.get("partial_dependence") or [] if p.get("grid")][:MAX_PD_PANELS]
    if pds:
        add("importance", "partial-dependence", lambda: charts.partial_dependence(pds),
            "Partial dependence: the average prediction as one column changes and the others "
            "keep their values.")


def _fairness_figures(add, fairness: dict) -> None:
    parts = [("cv", fairness)] + ([("test", fairness["test"])] if isinstance(fairness.get("test"), dict) else [])
    for key, part in parts:
        for name, col in (part.get("columns") or {}).items():
            groups = col.get("groups") if isinstance(col, dict) else None
            if not isinstance(groups, dict) or len(groups) < 2:
                continue
            rates = [k for k in GROUP_CHART_METRICS
                     if all(isinstance(g, dict) and is_number(g.get(k)) for g in groups.values())][:4]
            if not rates:
                continue
            labels = [str(g) for g in groups]
            values = {r: [groups[g][r] for g in groups] for r in rates}
            add("fairness", "fairness-groups",
                lambda: charts.group_bars(labels, values, salt=f"fair-{key}-{name}"),
                f"{', '.join(r.replace('_', ' ') for r in rates).capitalize()} by group of {name}"
                f"{' (test rows)' if key == 'test' else ''}.", f"{key}:{name}")
