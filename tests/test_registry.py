"""The model registry on real files and real stores (SQLite and a private PostgreSQL),
with real concurrent processes and real SIGKILLs."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

import mlexpert
from mlexpert.exceptions import ArtifactError, InvalidParameterError
from mlexpert.registry import PAUSE_ENV, Registry
from mlexpert.registry.check import inspect
from mlexpert.serve.catalog import verify_all
from mlexpert.store import forget_stores

from .conftest import EXAMPLE
from .postgres import fresh_schema

ROOT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """One tiny trained model, copied in by every test."""
    out = tmp_path_factory.mktemp("registry-model") / "model"
    frame = pd.read_csv(EXAMPLE).head(300)
    mlexpert.fit(frame, target="churned", time_limit=3, families=["linear"], review=False, out=out)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, monkeypatch) -> str | None:
    """None (the default SQLite file in the registry) or an empty PostgreSQL schema."""
    monkeypatch.delenv("MLEXPERT_STORE", raising=False)  # also for the child processes
    if request.param == "sqlite":
        yield None
    else:
        yield fresh_schema(request.getfixturevalue("postgres_url"))
    forget_stores()


@pytest.fixture
def registry(tmp_path, store) -> Registry:
    return Registry(tmp_path / "registry", store)


def _stages(reg: Registry, name: str) -> dict[int, str]:
    return {v.version: v.stage for v in reg.versions(name)}


def test_register_copies_verifies_and_records_lineage(registry, model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    first = registry.register(model_dir, "churn", note="baseline")
    second = registry.register(model_dir, "churn", parent=1, by="ci@build")
    assert (first.version, first.stage, second.version, second.stage) == (1, "champion", 2, "candidate")
    assert second.path == registry.root / "churn" / "2" and second.parent_version == 1
    assert (second.task, second.metric, second.cv_score) == ("binary", "roc_auc", manifest["cv_score"])
    assert second.data_fingerprint == manifest["data_fingerprint"]
    assert second.settings == manifest["settings"] and second.settings["families"] == ["linear"]
    cv = manifest["evaluation"]["cross_validation"]["metrics"]
    assert second.metrics["cross_validation"]["metrics"]["roc_auc"] == cv["roc_auc"]["value"]
    assert second.created_by == "ci@build" and first.note == "baseline" and first.created_by
    digest = hashlib.sha256((second.path / "checksums.sha256").read_bytes()).hexdigest()
    assert second.checksum == digest
    assert json.loads(json.dumps(second.to_dict()))["path"] == str(second.path)
    # the layout `mlexpert serve ROOT` serves, with nothing temporary left beside it
    assert verify_all(registry.root) == 2
    assert not [p for p in registry.root.iterdir() if p.name.startswith(".")]
    assert registry.names() == ["churn"] and registry.get("churn") == first
    assert registry.champion("churn") == first and registry.shadow("churn") is None
    assert registry.check() == []


def test_register_refuses_a_modified_model_and_leaves_nothing(registry, model_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(model_dir, bad)
    with open(bad / "schema.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(ArtifactError, match="Checksum mismatch for 'schema.json'"):
        registry.register(bad, "churn")
    with pytest.raises(InvalidParameterError, match="Invalid model name"):
        registry.register(model_dir, "../escape")
    with pytest.raises(InvalidParameterError, match="Unknown stage 'prod'"):
        registry.register(model_dir, "churn", stage="prod")
    with pytest.raises(InvalidParameterError, match="Parent version 4 of 'churn'"):
        registry.register(model_dir, "churn", parent=4)
    assert registry.versions() == [] and registry.generation() == 0
    assert not [p for p in registry.root.iterdir() if p.is_dir()]


def test_promote_rollback_archive_shadow_delete(registry, model_dir):
    for _ in range(4):
        registry.register(model_dir, "churn")
    g = registry.generation()
    promoted = registry.promote("churn", 2, evidence={"delta": 0.02, "p_value": 0.01})
    assert promoted.stage == "champion" and _stages(registry, "churn") == {
        1: "archived", 2: "champion", 3: "candidate", 4: "candidate"}
    assert registry.generation() == g + 1
    event = registry.events("churn", limit=1)[0]
    assert (event["action"], event["version"], event["from_stage"], event["to_stage"]) == (
        "promote", 2, "candidate", "champion")
    assert event["evidence"] == {"delta": 0.02, "p_value": 0.01, "previous_champion": 1}
    assert registry.promote("churn", 2) == promoted and registry.generation() == g + 1  # no-op

    assert registry.set_shadow("churn", 3).shadow
    assert registry.set_shadow("churn", 4).shadow and registry.shadow("churn").version == 4
    assert not registry.get("churn", 3).shadow  # one shadow per name
    with pytest.raises(InvalidParameterError, match="only a candidate can shadow"):
        registry.set_shadow("churn", 2)
    registry.promote("churn", 4)  # the shadow becomes champion and stops being a shadow
    assert registry.shadow("churn") is None and registry.get("churn").version == 4

    assert registry.rollback("churn").version == 2
    assert _stages(registry, "churn") == {1: "archived", 2: "champion", 3: "candidate", 4: "archived"}
    with pytest.raises(InvalidParameterError, match="is the champion of 'churn' and cannot be archived; promote another"):
        registry.archive("churn", 2)
    with pytest.raises(InvalidParameterError, match="cannot be deleted"):
        registry.delete("churn", 2)
    assert registry.archive("churn", 3).stage == "archived"

    registry.delete("churn", 4)
    assert 4 not in _stages(registry, "churn") and not (registry.root / "churn" / "4").exists()
    assert registry.register(model_dir, "churn").version == 5  # a deleted number is never reused
    assert [e["action"] for e in registry.events("churn", limit=3)] == ["register", "delete", "archive"]
    assert registry.register(model_dir, "churn", stage="champion").version == 6
    assert _stages(registry, "churn") == {1: "archived", 2: "archived", 3: "archived",
                                          5: "candidate", 6: "champion"}
    assert registry.rollback("churn").version == 2
    assert registry.check() == []


def test_rollback_walks_back_through_earlier_champions(registry, model_dir):
    for _ in range(4):
        registry.register(model_dir, "churn")
    for version in (2, 3, 4):
        registry.promote("churn", version)
    registry.delete("churn", 3)
    assert registry.rollback("churn").version == 2  # 3 is gone: skipped
    assert registry.rollback("churn").version == 1
    with pytest.raises(InvalidParameterError, match="no previous champion to roll back to"):
        registry.rollback("churn")
    registry.promote("churn", 4)
    assert registry.rollback("churn").version == 1


def test_clear_errors_for_unknown_names_and_versions(registry, model_dir):
    with pytest.raises(InvalidParameterError, match="No model named 'churn'.*known names: none"):
        registry.get("churn")
    registry.register(model_dir, "churn", stage="candidate")
    with pytest.raises(InvalidParameterError, match="has no champion; promote a version"):
        registry.get("churn")
    with pytest.raises(InvalidParameterError, match="has no version 7; versions: 1"):
        registry.promote("churn", 7)
    with pytest.raises(InvalidParameterError, match="Invalid version 'x'"):
        registry.get("churn", "x")
    with pytest.raises(InvalidParameterError, match="has no champion to roll back from"):
        registry.rollback("churn")


def test_record_adds_decisions_to_the_history(registry, model_dir):
    registry.register(model_dir, "churn")
    g = registry.generation()
    registry.record("churn", "retrain", evidence={"reason": "drift", "psi": float("nan")}, by="bot")
    registry.record("churn", "retrain-skipped", version=1)
    assert registry.generation() == g  # a decision is not a change of versions or stages
    last, before = registry.events("churn", limit=2)
    assert (before["action"], before["by"], before["evidence"]) == (
        "retrain", "bot", {"reason": "drift", "psi": None})
    assert (last["action"], last["version"]) == ("retrain-skipped", 1)
    with pytest.raises(InvalidParameterError, match="other than the registry's own"):
        registry.record("churn", "promote")
    with pytest.raises(InvalidParameterError, match="No model named 'other'"):
        registry.record("other", "retrain")
    assert len(registry.events()) == 3 and len(registry.events(limit=1)) == 1


def test_check_reports_and_repairs_only_what_no_version_owns(registry, model_dir):
    registry.register(model_dir, "churn")
    registry.register(model_dir, "churn")
    root = registry.root
    shutil.copytree(model_dir, root / "churn" / "3")  # a registration killed before its commit
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (root / f".staging-abc123-{dead}@{os.uname().nodename}").mkdir()  # a killed copy
    (root / ".deleted-churn-9-ff").mkdir()
    with open(root / "churn" / "2" / "model.pkl", "ab") as fh:  # damaged after registering
        fh.write(b"x")
    problems = {p.kind: p for p in inspect(registry)}
    assert set(problems) == {"orphan", "leftover", "damaged"}
    assert "orphan folder churn/3" in problems["orphan"].message
    assert "churn/2 is registered but it is damaged: Checksum mismatch" in problems["damaged"].message
    assert len(registry.check()) == 4
    repaired = registry.check(repair=True)
    assert sum(line.endswith("(removed)") for line in repaired) == 3
    assert [p.kind for p in inspect(registry)] == ["damaged"]
    assert (root / "churn" / "1").is_dir() and (root / "churn" / "2").is_dir()
    shutil.rmtree(root / "churn" / "2")
    assert [p.kind for p in inspect(registry)] == ["missing"]
    # the next registration moves an orphan in its way aside instead of mixing the two
    (root / "churn" / "3").mkdir()
    (root / "churn" / "3" / "junk.txt").write_text("left by a killed process")
    info = registry.register(model_dir, "churn")
    assert info.version == 3 and not (info.path / "junk.txt").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(".")]


def test_a_failed_commit_takes_the_new_folder_back(registry, model_dir, monkeypatch):
    import mlexpert.registry.registry as module

    registry.register(model_dir, "churn")

    def fail():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(module, "_pause_for_tests", fail)  # between the rename and the commit
    with pytest.raises(RuntimeError, match="went away"):
        registry.register(model_dir, "churn")
    assert [v.version for v in registry.versions()] == [1]
    assert sorted(p.name for p in (registry.root / "churn").iterdir()) == ["1"]
    assert registry.check() == [] and not [p for p in registry.root.iterdir() if p.name[0] == "."]


WORKER = r"""
import random, sys, time
from pathlib import Path
from mlexpert.registry import Registry
root, url, model, seed, count, go = sys.argv[1:7]
reg = Registry(root, url or None)
rng = random.Random(int(seed))
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.01)
for _ in range(int(count)):
    name = rng.choice(["alpha", "beta"])
    info = reg.register(model, name, by=f"worker-{seed}")
    if rng.random() < 0.5:
        reg.promote(name, info.version, by=f"worker-{seed}")
    print("registered", name, info.version, flush=True)
"""


def test_concurrent_processes_register_and_promote_consistently(registry, store, model_dir, tmp_path):
    go = tmp_path / "go"
    workers, count = 3, 5
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(registry.root), store or "",
                               str(model_dir), str(seed), str(count), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT_DIR) for seed in range(workers)]
    for proc in procs:  # start together, once every process has imported and opened the store
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    go.touch()
    reported = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reported += [tuple(line.split()[1:]) for line in out.splitlines()]
    assert len(reported) == workers * count
    for name in ("alpha", "beta"):
        versions = registry.versions(name)
        numbers = [v.version for v in versions]
        assert numbers == list(range(1, len(numbers) + 1))  # unique and contiguous
        assert sorted(int(v) for n, v in reported if n == name) == numbers
        assert [v.stage for v in versions].count("champion") == 1
        assert {v.created_by for v in versions} <= {f"worker-{s}" for s in range(workers)}
    assert registry.check() == []
    assert registry.generation() == sum(
        e["action"] in ("register", "promote") for e in registry.events(limit=1000))


KILLED = r"""
import sys
from mlexpert.registry import Registry
root, url, model = sys.argv[1:4]
reg = Registry(root, url or None)
print("ready", flush=True)
while True:
    info = reg.register(model, "churn")
    print("registered", info.version, flush=True)
    if info.version % 2 == 0:
        reg.promote("churn", info.version)
        print("promoted", info.version, flush=True)
"""


def test_sigkill_at_random_moments_loses_nothing_committed(registry, store, model_dir):
    rng = random.Random(7)
    seen: set[str] = set()
    committed: set[int] = set()
    env = {**os.environ, PAUSE_ENV: "0.25"}  # widen the window between rename and commit
    for round_ in range(20):  # until a kill has landed in the window (about 4 rounds)
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(registry.root), store or "",
                                 str(model_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT_DIR)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.9))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        lines = [line.split() for line in out.splitlines()]
        committed |= {int(v) for action, v in lines if action == "registered"}
        promoted = [int(v) for action, v in lines if action == "promoted"]

        problems = inspect(registry)
        seen |= {p.kind for p in problems}
        assert {p.kind for p in problems} <= {"orphan", "leftover"}, [p.message for p in problems]
        assert all(p.repairable for p in problems)
        versions = {v.version: v for v in registry.versions("churn")}
        assert committed <= set(versions)  # nothing committed before the kill is lost
        champions = [v for v in versions.values() if v.stage == "champion"]
        assert len(champions) == (1 if versions else 0)  # the first version is the champion
        assert all(c.version >= max(promoted, default=1) for c in champions)
        if registry.store.is_sqlite:
            with registry.store.read() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        if round_ % 2 == 0:  # otherwise the next process meets the orphan in its way
            registry.check(repair=True)
            assert registry.check() == []
        if round_ >= 3 and "orphan" in seen:
            break
    assert "orphan" in seen  # a kill did land between the rename and the commit
    registry.check(repair=True)
    assert registry.check() == [] and verify_all(registry.root) == len(registry.versions())
    numbers = sorted(v.version for v in registry.versions())
    assert numbers == list(range(1, len(numbers) + 1))


def test_cli_commands(tmp_path, model_dir, monkeypatch):
    from mlexpert.cli.registry import registry_app

    monkeypatch.delenv("MLEXPERT_STORE", raising=False)
    monkeypatch.delenv("MLEXPERT_REGISTRY", raising=False)
    app = typer.Typer()
    app.add_typer(registry_app, name="registry")
    runner = CliRunner()
    where = ["--registry", str(tmp_path / "reg")]

    def call(*args, code=0):
        res = runner.invoke(app, ["registry", *args, *where])
        assert res.exit_code == code, res.output
        return res.output

    assert "No registry at" in call("list", code=2)
    assert "Registered churn version 1 (champion)" in call("add", str(model_dir), "--name", "churn")
    added = json.loads(call("add", str(model_dir), "--name", "churn", "--parent", "1",
                            "--note", "retrained", "--json"))
    assert (added["version"], added["stage"], added["parent_version"]) == (2, "candidate", 1)
    assert "the champion was version 1" in call("promote", "churn", "2")
    assert "churn version 2 is candidate (shadow)" not in call("list")
    assert [v["stage"] for v in json.loads(call("list", "churn", "--json"))] == ["archived", "champion"]
    assert json.loads(call("show", "churn", "--json"))["version"] == 2
    assert "retrained" in call("show", "churn", "2")
    assert "churn version 1 is champion" in call("rollback", "churn")
    assert "needs confirmation; pass --yes" in call("delete", "churn", "2", code=2)
    assert "cannot be deleted" in call("delete", "churn", "1", "--yes", code=2)
    assert "Deleted churn version 2" in call("delete", "churn", "2", "--yes")
    assert [e["action"] for e in json.loads(call("history", "churn", "--json"))] == [
        "delete", "rollback", "promote", "register", "register"]
    assert "is consistent" in call("check")
    (tmp_path / "reg" / "churn" / "7").mkdir()
    assert "1 can be removed with --repair" in call("check", code=9)
    assert "removed" in call("check", "--repair")
    assert "No model named 'nope'" in call("show", "nope", code=2)
