"""mlexpert: from a table to a tuned, cross-validated, ensembled and saved model."""

from ._version import __version__

__all__ = ["__version__", "fit", "load", "audit", "AutoClassifier", "AutoRegressor", "FitResult"]

_LAZY = {
    "fit": ("api", "fit"),
    "load": ("api", "load"),
    "audit": ("audit", "audit"),
    "FitResult": ("result", "FitResult"),
    "AutoClassifier": ("estimator", "AutoClassifier"),
    "AutoRegressor": ("estimator", "AutoRegressor"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'mlexpert' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
