"""Errors of the export step (subclasses of :class:`mlexpert.exceptions.MLExpertError`)."""

from __future__ import annotations

from ..exceptions import MLExpertError


class ExportError(MLExpertError):
    """The model, or part of it, has no faithful ONNX conversion."""

    exit_code = 7


class ExportMismatchError(ExportError):
    """The exported graph's outputs differ from the Python model's beyond the tolerance."""

    exit_code = 8
