"""Shared fixtures: the shared real datasets (skipped cleanly when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "churn.csv"


def load_shared(name: str) -> pd.DataFrame:
    path = DATASETS / f"{name}.parquet"
    if not path.exists():
        pytest.skip(f"shared dataset {name!r} not available at {DATASETS}")
    return pd.read_parquet(path)


@pytest.fixture(scope="session")
def manifest() -> list[dict]:
    path = DATASETS / "manifest.json"
    if not path.exists():
        pytest.skip("shared datasets not available")
    return json.loads(path.read_text())


@pytest.fixture
def churn() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE)
