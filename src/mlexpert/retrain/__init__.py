"""Retraining: fit a challenger on new data with the champion's settings, compare both on the
same recent labelled rows with a paired significance test, and promote the challenger only
when it is significantly better (``mlexpert retrain``; see docs/retrain.md)."""

from .compare import paired_bootstrap, wilcoxon_test
from .decide import promotion_rule, retrain

__all__ = ["retrain", "promotion_rule", "paired_bootstrap", "wilcoxon_test"]
