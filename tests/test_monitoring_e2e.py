"""The whole monitoring loop on a real dataset with real drift, against SQLite and PostgreSQL.

Bike sharing (Capital Bikeshare, hourly, 2011-2012): the champion learns January-June 2011;
the server then gets July-December 2012. That is real drift: summer and autumn weather and
months the model never saw, and a ridership that roughly doubled between the two years, so
its error grows. The test sends those rows, posts their true counts as feedback, runs
``mlexpert monitor`` (drift and decay alerts, exit code 10), retrains on the new rows
(``mlexpert retrain``: the challenger wins the significance test and is promoted) and
checks that the running server answers with the new version, all on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

import mlexpert
from tests.conftest import load_shared
from tests.server import running_server

pytestmark = pytest.mark.slow
CHUNK = 250


@pytest.fixture(scope="module")
def bike(tmp_path_factory):
    df = load_shared("bike_sharing_hourly")
    early = df[df["dteday"] < "2011-07-01"].reset_index(drop=True)
    later = df[df["dteday"] >= "2012-07-01"].reset_index(drop=True)
    out = tmp_path_factory.mktemp("bike") / "champion"
    mlexpert.fit(early, target="cnt", time_limit=8, families=("lightgbm",), review=False, seed=0,
                 out=out)
    return out, later


@pytest.fixture(params=["sqlite", "postgresql"])
def store_args(request) -> list[str]:
    if request.param == "sqlite":
        return []  # the default: REGISTRY/mlexpert.db
    from tests.postgres import fresh_schema

    return ["--store", fresh_schema(request.getfixturevalue("postgres_url"))]


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "mlexpert", *args], capture_output=True, text=True,
                          timeout=600)
    if check:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def test_drift_decay_retrain_promote_hot_reload(bike, store_args, tmp_path):
    champion, later = bike
    root = tmp_path / "registry"
    _cli("registry", "add", str(champion), "--name", "bike", "--registry", str(root), *store_args)
    records = json.loads(later.drop(columns="cnt").to_json(orient="records", date_format="iso"))
    with running_server(root, "--reload-s", "0.5", *store_args) as server:
        ids = []
        for start in range(0, len(records), CHUNK):
            r = httpx.post(server.url + "/predict", json=records[start:start + CHUNK], timeout=30)
            assert r.status_code == 200 and r.json()["version"] == "1"
            ids.append(r.json()["request_id"])
        feedback = [{"request_id": ids[i // CHUNK], "row": i % CHUNK, "actual": int(y)}
                    for i, y in enumerate(later["cnt"])]
        deadline, matched = time.monotonic() + 20, 0
        while matched < len(later) and time.monotonic() < deadline:
            time.sleep(0.5)  # the log is written in the background: wait until it is all in
            matched = httpx.post(server.url + "/feedback", json=feedback[:1]).json()["matched"]
            if matched:
                matched = httpx.post(server.url + "/feedback", json=feedback).json()["matched"]
        assert matched == len(later)

        alert_file = tmp_path / "alerts.json"
        monitored = _cli("monitor", str(root), "--name", "bike", "--out", str(tmp_path / "monitoring"),
                         "--alert-file", str(alert_file), *store_args, check=False)
        assert monitored.returncode == 10, monitored.stdout[-2000:] + monitored.stderr[-2000:]
        alerts = json.loads(alert_file.read_text())["alerts"]
        kinds = {a["kind"] for a in alerts}
        assert {"drift", "decay"} <= kinds, alerts
        report = json.loads((tmp_path / "monitoring" / "monitor.json").read_text())
        served = [m for m in report["models"] if not m["shadow"]][0]
        assert "temp" in served["drift"]["drifted"] or "atemp" in served["drift"]["drifted"], served["drift"]["drifted"]
        assert served["performance"]["verdict"] == "decay"
        assert (tmp_path / "monitoring" / "monitor.html").exists()

        fresh = tmp_path / "fresh.parquet"
        later.to_parquet(fresh)
        decision_file = tmp_path / "decision.json"
        _cli("retrain", "--registry", str(root), "--name", "bike", "--data", str(fresh), "--time", "8",
             "--out", str(decision_file), "--quiet", *store_args)
        decision = json.loads(decision_file.read_text())
        assert decision["promoted"] is True, decision
        assert decision["p_value"] < 0.05

        deadline, version = time.monotonic() + 20, "1"
        while version != "2" and time.monotonic() < deadline:
            time.sleep(0.3)
            version = httpx.post(server.url + "/predict", json=records[:1]).json()["version"]
        assert version == "2"

        if not store_args:  # the monitoring page, in headless Chromium (once is enough)
            _monitoring_page_shows_alerts(server.url)

    listed = json.loads(_cli("registry", "list", "bike", "--registry", str(root), "--json",
                             *store_args).stdout)
    stages = {v["version"]: v["stage"] for v in listed}
    assert stages == {1: "archived", 2: "champion"}
    assert _cli("registry", "check", "--registry", str(root), *store_args).returncode == 0


def _monitoring_page_shows_alerts(url: str) -> None:
    from tests.browser import open_url

    with open_url(url + "/monitor?model=bike", allow=(url,)) as watch:
        page = watch.page
        page.wait_for_selector("body[data-loaded=true]", timeout=60_000)
        alerts = page.inner_text("#alerts")
        windows = page.inner_text("#windows")
        points = page.locator("#performance-chart circle.point").count()
        reference = page.locator("#performance-chart line.reference").count()
    assert watch.console_errors == [] and watch.external_requests == []
    assert "drift" in alerts and "decay" in alerts
    assert "decay" in windows and points >= 2 and reference == 1
