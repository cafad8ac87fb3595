"""Trial models on disk during the search: stored, read back, deleted, and never left behind."""

import os
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import mlexpert
from mlexpert.search.spill import ModelSpill, SpilledModels

from .conftest import EXAMPLE


def _ridges(n=3):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    return X, [Ridge(alpha=a).fit(X, y) for a in (0.1, 1.0, 10.0)[:n]]


def test_models_round_trip_through_files_one_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    X, models = _ridges()
    spill = ModelSpill()
    stored = spill.store(7, models + [None])
    assert isinstance(stored, SpilledModels) and len(stored) == 4 and stored[3] is None
    assert sorted(os.listdir(spill.directory)) == [f"trial7-fold{i}.pkl" for i in range(3)]
    for original, again in zip(models, stored):
        np.testing.assert_array_equal(original.predict(X), again.predict(X))
    assert stored[0] is not stored[0]  # read on each access, never cached in memory
    assert len(stored[:2]) == 2 and spill.store(8, stored) is stored  # not written twice
    spill.discard(stored)
    assert os.listdir(spill.directory) == []
    directory = spill.directory
    spill.close()
    assert not os.path.exists(directory)


def test_disabled_or_failing_spill_keeps_models_in_memory(tmp_path, monkeypatch):
    _, models = _ridges(2)
    assert ModelSpill(enabled=False).store(1, models) is models
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))  # mkdtemp fails
    assert ModelSpill().store(1, models) is models


def test_fit_spills_trials_and_removes_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []
    original = ModelSpill.store

    def store(self, trial_id, models):
        out = original(self, trial_id, models)
        seen.append((type(out).__name__, self.directory))
        return out

    monkeypatch.setattr(ModelSpill, "store", store)
    df = pd.read_csv(EXAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mlexpert.fit(df, target="churned", time_limit=20, max_trials=4,
                              families=("lightgbm", "random_forest"), review=False)
    assert seen and all(kind == "SpilledModels" for kind, _ in seen)
    assert not any(p.name.startswith("mlexpert-trials-") for p in tmp_path.iterdir())
    members = result.pipeline.members
    assert all(isinstance(m.models, list) for m in members)  # the model holds real objects
    proba = result.predict_proba(df.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0)
