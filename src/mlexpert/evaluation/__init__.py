"""Metrics and leaderboards."""
