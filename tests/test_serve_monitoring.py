"""The server's monitoring side, run for real: prediction log, feedback, shadow model,
hot reload of a new champion, and a SIGKILLed server leaving its store consistent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

import mlexpert
from mlexpert.monitoring.log import PredictionLogger, prune, sampled
from mlexpert.registry import Registry
from mlexpert.store import open_store, prediction_log, store_url
from tests.server import running_server

pytestmark = pytest.mark.slow


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


@pytest.fixture(scope="module")
def churn_models(tmp_path_factory):
    from tests.conftest import EXAMPLE

    base = tmp_path_factory.mktemp("fits")
    churn = pd.read_csv(EXAMPLE)
    common = dict(time_limit=6, max_trials=2, review=False, families=("lightgbm",))
    mlexpert.fit(churn, target="churned", seed=0, out=base / "a", **common)
    mlexpert.fit(churn.sample(frac=0.7, random_state=1), target="churned", seed=1, out=base / "b",
                 **common)
    return {"a": base / "a", "b": base / "b", "data": churn.drop(columns="churned")}


@pytest.fixture
def registry(churn_models, tmp_path):
    reg = Registry(tmp_path / "registry")
    reg.register(churn_models["a"], "churn")
    reg.register(churn_models["b"], "churn")
    return reg


def _logged(url: str, **where) -> int:
    store = open_store(url)
    query = select(func.count()).select_from(prediction_log)
    for column, value in where.items():
        query = query.where(prediction_log.c[column] == value)
    with store.read() as conn:
        return conn.execute(query).scalar()


def test_log_feedback_shadow_and_hot_reload(registry, churn_models, tmp_path):
    registry.set_shadow("churn", 2)
    url = store_url(registry.root)
    rows = _records(churn_models["data"].head(50))
    with running_server(registry.root, "--reload-s", "0.3") as server:
        ids = []
        for i in range(0, 50, 10):
            r = httpx.post(server.url + "/predict", json=rows[i:i + 10])
            assert r.status_code == 200 and r.json()["version"] == "1"
            ids.append(r.json()["request_id"])
        deadline = time.monotonic() + 10
        while _logged(url, shadow=True) < 50 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _logged(url, shadow=False, version="1") == 50  # champion, as answered
        assert _logged(url, shadow=True, version="2") == 50   # the shadow, never answered

        items = [{"request_id": rid, "row": j, "actual": bool(j % 2)} for rid in ids for j in range(10)]
        r = httpx.post(server.url + "/feedback", json=items)
        assert r.json() == {"received": 50, "matched": 50}
        bad = httpx.post(server.url + "/feedback", json={"request_id": ids[0]})
        assert bad.status_code == 422 and "actual" in bad.json()["error"]

        # promote version 2 while requests keep coming: none fails, the answers switch
        answers, errors, stop = [], [], threading.Event()

        def hammer():
            with httpx.Client(base_url=server.url, timeout=10) as client:
                while not stop.is_set():
                    resp = client.post("/predict", json=rows[0])
                    (answers if resp.status_code == 200 else errors).append(resp)

        worker = threading.Thread(target=hammer)
        worker.start()
        time.sleep(0.5)
        Registry(registry.root).promote("churn", 2, evidence={"why": "test"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (answers and answers[-1].json()["version"] == "2"):
            time.sleep(0.1)
        time.sleep(0.3)
        stop.set()
        worker.join()
        assert not errors, [e.text for e in errors[:3]]
        versions = [a.json()["version"] for a in answers]
        assert versions[0] == "1" and versions[-1] == "2", versions[-5:]
        assert versions == sorted(versions)  # no flapping back to the old champion
        health = httpx.get(server.url + "/health").json()
        assert {m["version"] for m in health["models"] if m["latest"]} == {"2"}


def test_killed_server_keeps_committed_log(registry, churn_models):
    url = store_url(registry.root)
    rows = _records(churn_models["data"].head(20))
    with running_server(registry.root) as server:
        for _ in range(10):
            assert httpx.post(server.url + "/predict", json=rows).status_code == 200
        deadline = time.monotonic() + 10
        while _logged(url) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        committed = _logged(url)
        assert committed == 200
        for _ in range(5):  # more traffic, then SIGKILL with rows possibly still queued
            httpx.post(server.url + "/predict", json=rows)
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    path = url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = _logged(url)
    assert committed <= after <= 300 and after % 20 == 0  # whole requests, nothing committed lost
    assert Registry(registry.root).check() == []
    with running_server(registry.root) as server:  # the same store serves and logs again
        assert httpx.post(server.url + "/predict", json=rows[:1]).status_code == 200


def test_feedback_command_joins_labels(registry, churn_models, tmp_path):
    url = store_url(registry.root)
    rows = _records(churn_models["data"].head(4))
    with running_server(registry.root) as server:
        rid = httpx.post(server.url + "/predict", json=rows).json()["request_id"]
        deadline = time.monotonic() + 10
        while _logged(url) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": [rid] * 4 + ["unknown"], "row": [0, 1, 2, 3, 0],
                  "churned": ["yes", "no", "no", "yes", "no"]}).to_csv(labels, index=False)
    done = subprocess.run([sys.executable, "-m", "mlexpert", "feedback", str(registry.root),
                           str(labels), "--actual", "churned"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Recorded 5 outcomes; 4 match" in " ".join(done.stdout.split())
    missing = subprocess.run([sys.executable, "-m", "mlexpert", "feedback", str(registry.root),
                              str(labels), "--actual", "nope"], capture_output=True, text=True)
    assert missing.returncode != 0 and "--actual" in missing.stderr


def test_logger_sampling_and_retention(tmp_path):
    store = open_store(store_url(tmp_path))
    logger = PredictionLogger(store, sample_rate=0.3, flush_s=0.05)
    ids = [f"req-{i}" for i in range(2000)]
    for rid in ids:
        logger.log(rid, "m", "1", b'{"x": 1}', [1.5])
    assert logger.flush()
    expected = sum(sampled(rid, 0.3) for rid in ids)
    assert 500 < expected < 700  # about 30%, decided by the request id
    assert _logged(store.url) == expected == logger.written
    assert prune(store, max_rows=100) == expected - 100
    with store.read() as conn:  # the newest rows are the ones kept
        kept = conn.execute(select(prediction_log.c.request_id).order_by(prediction_log.c.id)).scalars().all()
    assert kept == [rid for rid in ids if sampled(rid, 0.3)][-100:]
    logger.close()


def test_batch_scoring_logs_every_row(registry, churn_models, tmp_path):
    data = tmp_path / "rows.csv"
    churn_models["data"].head(300).to_csv(data, index=False)
    url = store_url(registry.root)
    with running_server(registry.root) as server:
        r = httpx.post(server.url + "/predict/batch", files={"file": ("rows.csv", data.read_bytes())})
        assert r.status_code == 200
        rid = r.headers["x-request-id"]
        deadline = time.monotonic() + 10
        while _logged(url, request_id=rid) < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _logged(url, request_id=rid, source="batch") == 300
    other = f"sqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run([sys.executable, "-m", "mlexpert", "predict", str(registry.root / "churn" / "1"),
                           str(data), "--out", str(tmp_path / "p.csv"), "--store", other, "--chunk-rows", "128"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _logged(other, model="churn", version="1") == 300
    with open_store(other).read() as conn:
        rows = conn.execute(select(prediction_log.c.row).order_by(prediction_log.c.id)).scalars().all()
    assert rows == list(range(300))  # numbered through the file, across chunks
