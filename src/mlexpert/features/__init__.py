"""Turning typed columns into model inputs, per model family ("profiles")."""

from .table import PROFILES, TablePreprocessor

__all__ = ["PROFILES", "TablePreprocessor"]
