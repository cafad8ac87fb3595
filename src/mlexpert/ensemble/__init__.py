"""Combining trials into one model."""
