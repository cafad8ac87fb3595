"""Benchmark worker: AutoGluon `medium_quality` (anchor; runs in its own venv, see _autogluon.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# This script's folder must not shadow packages: import the shared code via benchmarks/.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from frameworks._autogluon import make_adapter  # noqa: E402
from frameworks._common import run_worker  # noqa: E402

ADAPTER = make_adapter("autogluon_medium", "medium_quality")

if __name__ == "__main__":
    sys.exit(run_worker(ADAPTER))
