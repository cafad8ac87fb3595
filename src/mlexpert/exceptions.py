"""Exception and warning types raised by mlexpert.

Every user-facing message says what was expected, what was found, and how to fix it.
The CLI maps each type to an exit code through ``EXIT_CODES``.
"""

from __future__ import annotations


class MLExpertError(Exception):
    """Base class of every error mlexpert raises on purpose."""

    exit_code = 1


class InvalidParameterError(MLExpertError, ValueError, TypeError):
    """A parameter has a value outside its allowed range or type."""

    exit_code = 2


class DataError(MLExpertError, ValueError):
    """The input data cannot be used as given (missing file, bad target, ...)."""

    exit_code = 3


class NotFittedError(MLExpertError, ValueError, AttributeError):
    """A model was used before it was fitted."""

    exit_code = 2


class NoModelTrainedError(MLExpertError, RuntimeError):
    """Every trial failed, so there is no model to return."""

    exit_code = 4


class ArtifactError(MLExpertError, OSError):
    """A model directory is missing, incomplete or was modified after saving."""

    exit_code = 5


class IncompatibleArtifactError(ArtifactError):
    """A model directory was written by an mlexpert version this one cannot read."""


class MissingDependencyError(MLExpertError, ImportError):
    """An optional library needed for this feature is not installed."""

    exit_code = 6


class StoreError(MLExpertError):
    """The store (registry, prediction log, feedback) cannot be opened or is inconsistent."""

    exit_code = 9


class ChampionChangedError(StoreError):
    """A conditional promotion found another champion than the one it was decided against."""

    def __init__(self, message: str, current: int | None):
        super().__init__(message)
        self.current = current


class MLExpertWarning(UserWarning):
    """Base class of mlexpert warnings."""


class DataWarning(MLExpertWarning):
    """Something in the data was changed or ignored (dropped rows, columns...)."""
