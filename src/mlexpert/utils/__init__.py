"""Small shared helpers (optional imports, durations, thread limits)."""
