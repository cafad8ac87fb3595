"""Over- or underfitting? Would more data help? Learning curves turned into a verdict."""

from .curve import CurvePoint, learning_curve
from .estimator import diagnose_estimator
from .verdict import VERDICTS, judge

__all__ = ["CurvePoint", "VERDICTS", "diagnose_estimator", "judge", "learning_curve"]
