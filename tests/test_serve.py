"""The model server, run as a real uvicorn process on loopback and called over HTTP."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest

import mlexpert
from tests.server import free_port, running_server, serve_command

pytestmark = pytest.mark.slow
KEY = "test-key-0123456789abcdef"


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN as null."""
    return json.loads(frame.to_json(orient="records"))


@pytest.fixture(scope="module")
def models(tmp_path_factory, request):
    from tests.conftest import EXAMPLE

    root = tmp_path_factory.mktemp("served")
    churn = pd.read_csv(EXAMPLE)
    common = dict(time_limit=20, max_trials=3, review=False, seed=0)
    mlexpert.fit(churn, target="churned", families=("lightgbm", "linear"), out=root / "churn", **common)
    folder = root / "registry"
    shutil.copytree(root / "churn", folder / "churn" / "1")
    shutil.copytree(root / "churn", folder / "churn" / "2")
    mlexpert.fit(churn.drop(columns="churned"), target="monthly_price", families=("lightgbm",),
                 out=folder / "price" / "1", **common)
    return {"churn": root / "churn", "folder": folder, "data": churn}


@pytest.fixture(scope="module")
def server(models):
    with running_server(models["churn"]) as s:
        yield s


def test_predictions_equal_the_python_model(server, models):
    data = models["data"].iloc[:40]
    model = mlexpert.load(models["churn"])
    expected = model.predict_proba(data)
    one = httpx.post(server.url + "/predict", json=_records(data.iloc[:1])[0])
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["model"] == "churn" and body["version"] == "1"
    assert one.headers["x-request-id"] == body["request_id"]
    many = httpx.post(server.url + "/predict", json=_records(data)).json()["predictions"]
    assert [p["prediction"] for p in many] == list(model.predict(data))
    got = np.array([[p["probabilities"][c] for c in expected.columns] for p in many])
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-12)
    assert many[0] == body["predictions"][0]


def test_bad_input_gets_a_precise_4xx_and_never_a_traceback(server, models):
    row = _records(models["data"].iloc[:1])[0]
    wrong = {**row, "tenure_months": "twelve"}
    missing = {k: v for k, v in row.items() if k != "plan"}
    unknown = {**row, "colour": "red"}
    cases = {
        "wrong type": ([row, wrong], 422, (1, "tenure_months")),
        "missing field": (missing, 422, (0, "plan")),
        "unknown field": (unknown, 422, (0, "colour")),
        "bad date": ({**row, "signup_date": "someday"}, 422, (0, "signup_date")),
    }
    for name, (payload, status, (index, field)) in cases.items():
        r = httpx.post(server.url + "/predict", json=payload)
        assert r.status_code == status, (name, r.text)
        body = r.json()
        assert f"row {index}" in body["error"] and field in body["error"], (name, body)
        assert {"row": index, "field": field} == {k: body["details"][0][k] for k in ("row", "field")}
        assert "Traceback" not in r.text
    for raw in (b'{"tenure_months": NaN}', b'[{"monthly_price": Infinity}]', b"{not json", b"3"):
        r = httpx.post(server.url + "/predict", content=raw, headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500 and "error" in r.json(), (raw, r.text)
    assert httpx.post(server.url + "/predict", json=[]).status_code == 422
    assert httpx.get(server.url + "/no/such/path").status_code == 404


def test_open_inference_protocol_with_tritonclient(server, models):
    triton = pytest.importorskip("tritonclient.http")
    client = triton.InferenceServerClient(server.url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("churn")
    meta = client.get_model_metadata("churn")
    data = models["data"].iloc[:25]
    inputs = []
    for spec in meta["inputs"]:
        col = data[spec["name"]]
        if spec["datatype"] == "FP64":
            array = col.to_numpy(dtype=np.float64, na_value=np.nan)
        elif spec["datatype"] == "BOOL":
            array = col.map({"yes": True, "no": False}).to_numpy(dtype=bool)
        else:
            array = np.array([b"" if pd.isna(v) else str(v).encode() for v in col], dtype=np.object_)
        tensor = triton.InferInput(spec["name"], [len(data)], spec["datatype"])
        tensor.set_data_from_numpy(array, binary_data=spec["datatype"] != "BYTES")
        inputs.append(tensor)
    result = client.infer("churn", inputs)
    probs = result.as_numpy("probabilities").reshape(len(data), -1)
    model = mlexpert.load(models["churn"])
    np.testing.assert_allclose(probs, model.predict_proba(data).to_numpy(), rtol=1e-9)
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")]
    assert labels == list(model.predict(data))
    bad = httpx.post(server.url + "/v2/models/churn/infer", json={"inputs": [{"name": "plan"}]})
    assert bad.status_code == 400 and "shape" in bad.json()["error"]


def test_metrics_count_requests_and_predictions(server, models):
    rows = _records(models["data"].iloc[:20])
    assert httpx.post(server.url + "/predict", json=rows).status_code == 200
    assert httpx.post(server.url + "/predict", json=[{"nope": 1}]).status_code == 422
    text = httpx.get(server.url + "/metrics").text
    assert 'mlexpert_requests_total{method="POST",route="/predict",status="200"}' in text
    assert "mlexpert_request_duration_seconds_bucket" in text
    assert 'mlexpert_predicted_class_total{label="no",model="churn",version="1"}' in text
    assert 'mlexpert_request_errors_total{reason="invalid",route="/predict"}' in text


def test_openapi_names_every_input_and_schemathesis_finds_no_5xx(server, models):
    schema = httpx.get(server.url + "/openapi.json").json()
    record = schema["components"]["schemas"]["Record"]
    features = mlexpert.load(models["churn"]).pipeline.schema.features
    assert set(features) <= set(record["properties"]) and set(features) <= set(record["required"])
    assert record["additionalProperties"] is False
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", server.url + "/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "25", "--phases", "examples,coverage,fuzzing",
         "--workers", "1", "--seed", "1", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_api_key_limits_versions_and_workers(models):
    row = _records(models["data"].iloc[:1])[0]
    args = ("--api-key", KEY, "--workers", "2", "--max-body-mb", "0.01", "--max-rows", "5",
            "--max-upload-mb", "0.05")
    with running_server(models["folder"], *args) as s:
        url = s.url + "/models/churn/predict"
        assert httpx.post(url, json=row).status_code == 401
        assert httpx.post(url, json=row, headers={"X-API-Key": KEY[:-1] + "x"}).status_code == 401
        ok = httpx.post(url, json=row, headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200 and ok.json()["version"] == "2"  # latest version by default
        auth = {"X-API-Key": KEY}
        old = httpx.post(s.url + "/models/churn/versions/1/predict", json=row, headers=auth)
        assert old.json()["version"] == "1"
        # The price model never saw "churned" (refused), and ignores its own target if sent.
        unknown = httpx.post(s.url + "/models/price/predict", json=row, headers=auth)
        assert unknown.status_code == 422 and "'churned'" in unknown.json()["error"]
        no_churn = {k: v for k, v in row.items() if k != "churned"}
        price = httpx.post(s.url + "/models/price/predict", json=no_churn, headers=auth)
        assert price.status_code == 200 and math.isfinite(price.json()["predictions"][0]["prediction"])
        assert httpx.post(s.url + "/models/nope/predict", json=row, headers=auth).status_code == 404
        too_many = httpx.post(url, json=[row] * 6, headers=auth)
        assert too_many.status_code == 413 and "limit is 5" in too_many.json()["error"]
        too_big = httpx.post(url, json=[{**row, "last_note": "x" * 20_000}], headers=auth)
        assert too_big.status_code == 413
        big = models["data"].to_csv(index=False).encode()  # ~0.2 MB > 0.05 MB
        upload = httpx.post(s.url + "/predict/batch", content=big, headers={**auth, "content-type": "text/csv"})
        assert upload.status_code == 413 and "limit" in upload.json()["error"]
        assert httpx.post(s.url + "/predict/batch", content=big[:2000]).status_code == 401
        assert httpx.get(s.url + "/health").status_code == 200  # no key needed
        for _ in range(6):
            httpx.post(url, json=row, headers=auth)
        text = httpx.get(s.url + "/metrics").text
        line = next(x for x in text.splitlines()
                    if x.startswith("mlexpert_predicted_rows_total") and 'model="churn"' in x
                    and 'version="2"' in x)
        assert float(line.rsplit(" ", 1)[1]) == 7.0  # summed over both workers


def test_refuses_a_modified_model_directory(models, tmp_path):
    bad = tmp_path / "tampered"
    shutil.copytree(models["churn"], bad)
    with open(bad / "model.pkl", "ab") as fh:
        fh.write(b"\0")
    run = subprocess.run(serve_command(bad, port=free_port()), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "Checksum mismatch for 'model.pkl'" in run.stderr
    assert "Traceback" not in run.stderr


def test_web_page_predicts_from_the_form(server, models):
    from tests.browser import open_url

    data = models["data"].iloc[[3]]
    model = mlexpert.load(models["churn"])
    expected = model.predict_proba(data).iloc[0]
    kinds = {c.name: c.kind for c in model.pipeline.schema.columns}
    with open_url(server.url + "/", allow=(server.url,)) as watch:
        page = watch.page
        assert page.title().startswith("churn")
        for name in model.pipeline.schema.features:
            value, field = data[name].iloc[0], f'[name="{name}"]'
            if pd.isna(value):
                continue
            if kinds[name] == "boolean":
                page.select_option(field, "true" if value == "yes" else "false")
            elif page.eval_on_selector(field, "el => el.tagName") == "SELECT":
                page.select_option(field, str(value))
            else:
                page.fill(field, str(value))
        page.click("#predict-button")
        page.wait_for_selector("#result:not([hidden])", timeout=20_000)
        shown = page.inner_text("#result")
        card = page.inner_text("#card")
    assert watch.console_errors == [] and watch.external_requests == []
    assert f"churned: {model.predict(data)[0]}" in shown
    for label, p in expected.items():
        assert f"{100 * p:.1f}%" in shown, (label, p, shown)
    assert "roc_auc" in card and "Model card" in card
    report = httpx.get(server.url + "/models/churn/versions/1/report")
    assert report.status_code == 200 and "<html" in report.text[:500].lower()


def test_health_answers_while_predictions_queue(server, models):
    """More queued predictions than the thread pool has threads (40) must not stall health."""
    from concurrent.futures import ThreadPoolExecutor

    rows, n = _records(models["data"].iloc[:400]), 60
    done = []

    def predict(_):
        done.append(httpx.post(server.url + "/predict", json=rows, timeout=300).status_code)

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(predict, i) for i in range(n)]
        time.sleep(0.5)  # let the requests reach the server
        live = httpx.get(server.url + "/v2/health/live", timeout=300)
        ready = httpx.get(server.url + "/v2/health/ready", timeout=300)
        finished_by_then = len(done)
        for f in futures:
            f.result()
    assert live.status_code == 200 and ready.status_code == 200
    assert finished_by_then < n, "the health checks waited for the whole prediction queue"
    assert done == [200] * n


def test_onnx_runtime_serves_the_exported_model(models, tmp_path):
    pytest.importorskip("onnxruntime")
    from mlexpert.export import export_onnx

    data = models["data"]
    mlexpert.fit(data, target="churned", families=("lightgbm",), max_trials=2, time_limit=10,
                 review=False, ignore=("last_note",), out=tmp_path / "churn")  # text: not exportable
    export_onnx(tmp_path / "churn", data=data.iloc[:200], measure=False)
    model = mlexpert.load(tmp_path / "churn")
    rows = data.iloc[200:260]
    with running_server(tmp_path / "churn", "--runtime", "onnx") as s:
        got = httpx.post(s.url + "/predict", json=_records(rows)).json()["predictions"]
        assert httpx.get(s.url + "/health").json()["models"][0]["runtime"] == "onnx"
    assert [p["prediction"] for p in got] == list(model.predict(rows))
    probs = np.array([[p["probabilities"][c] for c in ("no", "yes")] for p in got])
    np.testing.assert_allclose(probs, model.predict_proba(rows).to_numpy(), atol=1e-9)
    with open(tmp_path / "churn" / "model.onnx", "ab") as fh:  # tampered: refused
        fh.write(b"\0")
    run = subprocess.run(serve_command(tmp_path / "churn", "--runtime", "onnx", port=free_port()),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "Checksum mismatch" in run.stderr


def test_batch_upload_streams_predictions_and_reports_bad_rows(server, models):
    import io

    data = models["data"]
    model = mlexpert.load(models["churn"])
    files = {"file": ("rows.csv", data.to_csv(index=False).encode(), "text/csv")}
    r = httpx.post(server.url + "/predict/batch", params={"keep": "customer_id"}, files=files, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    out = pd.read_csv(io.BytesIO(r.content))
    assert list(out["customer_id"]) == list(data["customer_id"])
    assert list(out["churned_predicted"]) == list(model.predict(data))
    np.testing.assert_allclose(out["proba_yes"], model.predict_proba(data)["yes"], rtol=1e-12)
    parquet = io.BytesIO()
    data.to_parquet(parquet)
    r = httpx.post(server.url + "/predict/batch", params={"output": "parquet"}, content=parquet.getvalue(),
                   headers={"content-type": "application/vnd.apache.parquet"}, timeout=120)
    assert r.status_code == 200 and len(pd.read_parquet(io.BytesIO(r.content))) == len(data)
    bad = data.astype({"monthly_price": object})
    bad.loc[5, "monthly_price"], bad.loc[1234, "signup_date"] = "cheap", "someday"
    r = httpx.post(server.url + "/predict/batch", content=bad.to_csv(index=False).encode(),
                   headers={"content-type": "text/csv"}, timeout=120)
    assert r.status_code == 422, r.text
    assert [(d["row"], d["field"]) for d in r.json()["details"]] == [(5, "monthly_price"), (1234, "signup_date")]
    r = httpx.post(server.url + "/predict/batch", content=data.drop(columns="plan").to_csv(index=False).encode(),
                   headers={"content-type": "text/csv"}, timeout=120)
    assert r.status_code == 422 and "'plan'" in r.json()["error"]
