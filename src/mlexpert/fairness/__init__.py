"""Fairness assessment: model quality and decisions compared across sensitive groups
(fairlearn metrics), gaps flagged above a threshold, with mitigation options."""

from .assess import assess_fairness

__all__ = ["assess_fairness"]
