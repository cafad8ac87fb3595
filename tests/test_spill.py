"""Trial models on disk during the search: stored, read back, deleted, and never left behind."""

import os
import pickle
import tempfile
import warnings

import numpy as np
import pandas as pd
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
    original = ModelSpill.write

    def write(self, trial_id, index, model):
        out = original(self, trial_id, index, model)
        seen.append((out is not None, self.directory))
        return out

    monkeypatch.setattr(ModelSpill, "write", write)
    df = pd.read_csv(EXAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mlexpert.fit(df, target="churned", time_limit=20, max_trials=4,
                              families=("lightgbm", "random_forest"), review=False)
    assert seen and all(written for written, _ in seen)
    assert not any(p.name.startswith("mlexpert-trials-") for p in tmp_path.iterdir())
    members = result.pipeline.members
    assert all(isinstance(m.models, list) for m in members)  # the model holds real objects
    proba = result.predict_proba(df.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0)


def _churn_workspace():
    from mlexpert.data.schema import infer_schema
    from mlexpert.search.cv import make_folds
    from mlexpert.search.workspace import Workspace
    from mlexpert.task import infer_task

    df = pd.read_csv(EXAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ID column is dropped, with a warning
        schema = infer_schema(df, "churned")
    task = infer_task(df["churned"], None)
    y = task.encode(df["churned"])
    columns = {k: schema.names(k) for k in ("numeric", "boolean", "categorical",
                                            "high_cardinality", "datetime", "text")}
    folds = make_folds(y, classification=True, n_folds=4, seed=0, n_features=len(schema.features))
    return Workspace(df[schema.features], y, task.kind, task.n_classes, columns, folds), task


def test_a_trial_writes_each_fold_model_before_the_next_fold_and_cleans_up_on_failure(
        tmp_path, monkeypatch):
    """Fold models go to disk as they are fitted (a trial never holds all its folds in
    memory); a trial that fails half-way leaves no file behind."""
    import time

    from mlexpert.evaluation.metrics import get_metric
    from mlexpert.models.registry import get_family
    from mlexpert.search.trial import run_trial

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ws, task = _churn_workspace()
    family = get_family("linear")
    on_disk_at_fit = []
    fit = type(family).fit

    def counting_fit(self, *args, fail=False, **kwargs):
        on_disk_at_fit.append(len(os.listdir(ws.spill.directory)) if ws.spill.directory else 0)
        if len(on_disk_at_fit) == 3 and fail:
            raise RuntimeError("boom")
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(type(family), "fit", counting_fit)
    metric = get_metric(None, task.kind)
    params = family.default_configs(task.kind, ws.n_rows, ws.n_features)[0]
    trial = run_trial(1, family, params, "default", ws, metric, n_threads=1, seed=0,
                      deadline=time.monotonic() + 30)
    assert trial.status == "ok", trial.reason
    assert isinstance(trial.models, SpilledModels)
    assert on_disk_at_fit == [0, 1, 2, 3]  # one lane: each fold written before the next
    assert sorted(os.listdir(ws.spill.directory)) == [f"trial1-fold{i}.pkl" for i in range(4)]
    assert trial.models[2] is not None

    on_disk_at_fit.clear()

    def failing_fit(self, *args, **kwargs):
        return counting_fit(self, *args, fail=True, **kwargs)

    monkeypatch.setattr(type(family), "fit", failing_fit)
    failed = run_trial(2, family, params, "default", ws, metric, n_threads=1, seed=0,
                       deadline=time.monotonic() + 30)
    assert failed.status == "failed" and "boom" in failed.reason and failed.models == []
    assert len(on_disk_at_fit) == 3  # two folds were written before the third failed ...
    assert sorted(os.listdir(ws.spill.directory)) == [f"trial1-fold{i}.pkl" for i in range(4)]
    ws.spill.close()  # ... and deleted with the failure


def test_a_failed_write_mid_trial_keeps_the_trial_in_memory(tmp_path, monkeypatch):
    from mlexpert.search.spill import ModelSpill

    _, models = _ridges(3)
    spill = ModelSpill()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    collector = spill.collector(5, 3)
    collector.add(0, models[0])
    assert os.listdir(spill.directory) == ["trial5-fold0.pkl"]
    real_dump = pickle.dump
    monkeypatch.setattr(pickle, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    collector.add(1, models[1])
    monkeypatch.setattr(pickle, "dump", real_dump)
    collector.add(2, models[2])
    kept = collector.models()
    assert isinstance(kept, list) and all(isinstance(m, type(models[0])) for m in kept)
    assert os.listdir(spill.directory) == []  # the one written file was read back and removed
