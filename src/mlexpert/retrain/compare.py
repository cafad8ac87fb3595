"""Is the challenger better than the champion on the same rows? A paired bootstrap test.

Both models are scored on the same evaluation rows. Each bootstrap resample draws row
indices with replacement and scores *both* models on those rows, so the resampled
difference keeps the pairing (rows that are hard for one model are hard for the other).

* ``p_value``: the share of resamples where the challenger is not better (its score is
  equal or worse, in the metric's direction), as ``(count + 1) / (resamples + 1)`` so it is
  never exactly 0. A one-sided test of "the challenger is better".
* ``ci95``: percentile intervals of each score and of the difference.
* ``wilcoxon``: secondary evidence, a paired Wilcoxon signed-rank test (scipy) of per-row
  losses (squared error for rmse and r2, absolute error for mae, absolute percentage error
  for mape, log loss for log_loss and roc_auc, 0/1 error for the label metrics).

Resampled scores are computed with array operations (see :mod:`.resample`); resamples
where a metric is undefined (e.g. roc_auc on one class) are skipped.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from ..evaluation.metrics import Metric
from .resample import counts_scorer, resample_counts, row_losses

RESAMPLES = 2000
CHUNK_CELLS = 2_000_000  # cells of the resample count matrix held at once (rows x resamples)
ROW_LOSS = {"rmse": "squared_error", "r2": "squared_error", "mae": "absolute_error",
            "mape": "absolute_percentage_error", "log_loss": "log_loss", "roc_auc": "log_loss",
            "accuracy": "zero_one", "balanced_accuracy": "zero_one", "f1": "zero_one",
            "precision": "zero_one", "recall": "zero_one"}


def paired_bootstrap(metric: Metric, y: np.ndarray, champion: np.ndarray, challenger: np.ndarray,
                     *, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """Scores, intervals, the difference and its one-sided p-value (see the module doc).

    ``y`` is the encoded truth (class indices or values); ``champion`` and ``challenger``
    are the models' outputs (probabilities (n, k) aligned to the same classes, or values).
    """
    y = np.asarray(y)
    n = len(y)
    champ_b, chall_b = _resampled_scores(metric, y, champion, challenger, resamples, seed)
    keep = np.isfinite(champ_b) & np.isfinite(chall_b)
    champ_b, chall_b = champ_b[keep], chall_b[keep]
    sign = 1.0 if metric.greater_is_better else -1.0
    gain_b = sign * (chall_b - champ_b)  # > 0: the challenger is better
    champ, chall = metric.score(y, champion), metric.score(y, challenger)
    used = int(keep.sum())
    return {
        "metric": metric.name, "greater_is_better": metric.greater_is_better, "rows": n,
        "champion": {"score": champ, "ci95": _interval(champ_b)},
        "challenger": {"score": chall, "ci95": _interval(chall_b)},
        "improvement": {"value": sign * (chall - champ), "ci95": _interval(gain_b),
                        "meaning": "challenger minus champion in the metric's better direction "
                                   "(positive: the challenger is better)"},
        "bootstrap": {"resamples": used, "skipped": int(resamples - used), "seed": seed,
                      "p_value": float((np.sum(gain_b <= 0) + 1) / (used + 1)) if used else 1.0},
        "wilcoxon": wilcoxon_test(metric, y, champion, challenger),
    }


def wilcoxon_test(metric: Metric, y: np.ndarray, champion: np.ndarray, challenger: np.ndarray) -> dict:
    """Paired signed-rank test that the challenger's per-row losses are lower."""
    loss = ROW_LOSS.get(metric.name)
    if loss is None:
        return {"loss": None, "p_value": None, "note": f"no per-row loss for {metric.name}"}
    a, b = row_losses(loss, y, challenger), row_losses(loss, y, champion)
    out = {"loss": loss, "challenger_mean": float(np.mean(a)), "champion_mean": float(np.mean(b)),
           "rows_differing": int(np.sum(a != b))}
    if out["rows_differing"] == 0:
        return {**out, "statistic": None, "p_value": 1.0, "note": "identical per-row losses"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.wilcoxon(a, b, alternative="less", zero_method="wilcox")
    p = float(result.pvalue)
    return {**out, "statistic": float(result.statistic), "p_value": p if math.isfinite(p) else None}


def _interval(values: np.ndarray) -> list[float] | None:
    if len(values) == 0:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [float(lo), float(hi)]


def _resampled_scores(metric, y, champion, challenger, resamples, seed):
    """Both models' scores on the same ``resamples`` bootstrap resamples."""
    rng = np.random.default_rng(seed)
    n = len(y)
    fast = [counts_scorer(metric, y, out) for out in (champion, challenger)]
    champ, chall = np.empty(resamples), np.empty(resamples)
    chunk = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, resamples, chunk):
        C = resample_counts(rng, n, min(chunk, resamples - start))
        part = slice(start, start + len(C))
        if None not in fast:
            champ[part], chall[part] = fast[0](C), fast[1](C)
            continue
        for j, counts in enumerate(C, start):  # a metric without a vectorised form
            rows = np.repeat(np.arange(n), counts.astype(np.int64))
            champ[j] = _safe_score(metric, y[rows], champion[rows])
            chall[j] = _safe_score(metric, y[rows], challenger[rows])
    return champ, chall


def _safe_score(metric: Metric, y, output) -> float:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = metric.score(y, output)
    except ValueError:  # e.g. roc_auc on a resample holding a single class
        return float("nan")
    return value if math.isfinite(value) else float("nan")
