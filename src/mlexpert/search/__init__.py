"""Validation splits, trials, and the time-budgeted search over model families."""
