"""Turn a learning curve into a verdict in words, with the numbers behind it.

Errors are normalised (0 perfect, 1 = the null model; see :mod:`.curve`). At the full
training size:

1. **overfitting** when the model memorises: training error under ``MEMORISED`` with a gap
   above ``GAP``;
2. **more_data** when doubling the training rows still cut the validation error by more
   than ``SLOPE`` of it (and at least ``MIN_DROP``) and by more than twice that cut's
   standard error, or when the gap
   is above ``GAP`` with fewer than ``SMALL`` training rows (too few rows to tell a model
   that is too flexible from one that has too little to learn from);
3. on new rows no better than the null model: **overfitting** if the training rows are
   fitted well, else **underfitting**;
4. **overfitting** when the training error is under half the validation error with a gap
   above ``GAP`` (and the validation curve has flattened: rule 2 did not fire);
5. **underfitting** when the training error itself is above ``HIGH`` and the gap is small;
6. **fine** otherwise.
"""

from __future__ import annotations

import numpy as np

from .curve import CurvePoint

VERDICTS = ("overfitting", "underfitting", "more_data", "fine", "unknown")
GAP = 0.10  # train-vs-validation gap (in null-model units) that counts as large
SLOPE = 0.05  # relative drop of the validation error over the last doubling that counts...
MIN_DROP = 0.005  # ...when also at least this much of the null model's error (material)
HIGH = 0.60  # training error above this share of the null model's: underfitting territory
MEMORISED = 0.02  # training error below this: the training rows are learned by heart
SMALL = 1000  # fewer training rows than this: a large gap is read as a lack of data

_ADVICE = {
    "overfitting": [
        "Regularise more: shallower trees, more rows per leaf, stronger L1/L2 penalties, "
        "fewer boosting rounds, or fewer features.",
        "More training rows would narrow the gap; so would removing noisy or leaking columns.",
    ],
    "more_data": [
        "Collect more labelled rows: the validation error was still falling when the "
        "training set grew.",
        "Until then, prefer simpler or more regularised models and keep cross-validation.",
    ],
    "underfitting": [
        "Try more flexible models or a longer time budget.",
        "Add or engineer informative features: the current ones may carry little signal "
        "about the target.",
    ],
    "fine": ["No change is needed on this account: the gap is small and the validation "
             "error has levelled off."],
    "unknown": ["Run the fit with a longer budget to get a learning curve."],
}


def judge(points: list[CurvePoint], *, metric: str | None = None) -> dict:
    """The verdict, a plain-language headline, the evidence and advice (JSON-ready)."""
    if not points or points[-1].fraction < 0.99:
        return _result("unknown", "There was not enough time or data to draw a learning curve.",
                       ["No model was trained on the full training rows of the curve."])
    last = points[-1]
    train, valid = last.train_error, last.valid_error
    gap = valid - train
    evidence = [
        f"With {last.n_train:,} training rows the error is {_pct(train)} of the null model's "
        f"on the training rows and {_pct(valid)} on new rows (a gap of {gap:.2f})."
        + _metric_note(last, metric)
    ]
    drop, noise = _last_drop(points)
    if drop is not None:
        evidence.append(
            f"Doubling the training rows from {points[-2].n_train:,} to {last.n_train:,} "
            f"changed the validation error by {-drop:+.3f} (standard error {noise:.3f})."
        )
    steep = drop is not None and drop > max(SLOPE * valid, MIN_DROP) and drop > 2 * noise
    if train < MEMORISED and gap > GAP:
        return _result("overfitting", "The model has learned its training rows by heart and "
                       "does much worse on new ones: it is overfitting.", evidence)
    if steep:
        return _result("more_data", "More data would help: the model kept improving as it was "
                       "given more rows.", evidence)
    if gap > GAP and last.n_train < SMALL:
        evidence.append(f"Only {last.n_train:,} rows were available for training.")
        return _result("more_data", "More data would help: with this few rows the model does "
                       "clearly worse on new rows than on the ones it learned from.", evidence)
    if valid >= 1.0 and train < 0.5:
        return _result("overfitting", "The model fits its training rows but does no better "
                       "than a guess on new ones.", evidence)
    if valid >= 1.0:
        return _result("underfitting", "The model has not learned anything that carries over to "
                       "new rows: it does no better than always predicting the average.", evidence)
    if gap > GAP and train < 0.5 * valid:
        return _result("overfitting", "The model fits its training rows much better than new "
                       "ones: it is overfitting.", evidence)
    if train > HIGH and gap < GAP:
        return _result("underfitting", "The model is underfitting: it misses much of the pattern "
                       "even on the rows it learned from.", evidence)
    return _result("fine", "The model's fit looks right: small gap between training and new "
                   "rows, and more rows of the same kind would change little.", evidence)


def _last_drop(points: list[CurvePoint]):
    """Fall in validation error over the last step, and its paired standard error."""
    if len(points) < 2:
        return None, None
    a, b = points[-2].valid_row_loss, points[-1].valid_row_loss
    diff = a - b
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0


def _metric_note(point: CurvePoint, metric: str | None) -> str:
    if metric is None or not np.isfinite(point.train):
        return ""
    return f" In {metric}: {point.train:.4g} on training rows, {point.valid:.4g} on new rows."


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _result(verdict: str, headline: str, evidence: list[str]) -> dict:
    return {"verdict": verdict, "headline": headline, "evidence": evidence,
            "advice": list(_ADVICE[verdict])}
