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


@pytest.fixture(scope="session")
def postgres_url():
    """A private PostgreSQL server on loopback for this test session (tests/postgres.py).

    Skipped when the server binaries are missing, unless ``MLEXPERT_REQUIRE_POSTGRES=1``
    (``make test`` sets it), which fails instead. ``tests.postgres.fresh_schema(postgres_url)``
    gives a test an empty store of its own.
    """
    import os

    from .postgres import postgres_missing, running_postgres

    problem = postgres_missing()
    if problem is not None:
        if os.environ.get("MLEXPERT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{problem} (required because MLEXPERT_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(problem)
    from mlexpert.store import forget_stores

    with running_postgres() as url:
        yield url
        forget_stores()  # close pooled connections before the server stops
