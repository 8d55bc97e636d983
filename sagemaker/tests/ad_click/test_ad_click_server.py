import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from helpers import child_env

REQUEST = {"user": {"user_id": "u000001", "age_group": "25-34", "country": "US"},
           "context": {"device": "mobile", "placement": "feed", "hour_of_day": 13, "day_of_week": "tue"},
           "candidates": [{"ad_id": "ad00001", "advertiser_id": "adv001", "ad_category": "travel"},
                          {"ad_id": "ad00002", "advertiser_id": "adv002", "ad_category": "finance"}]}


@pytest.fixture(scope="module")
def server(trained_job):
    proc = subprocess.Popen([sys.executable, "-m", "ad_click.local_server", "--model-dir", trained_job["model_dir"],
                             "--port", "0"], env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line + proc.stderr.read()
    yield line.split()[-1]
    proc.terminate()
    proc.wait(timeout=10)


def call(base, body, content_type="application/json", path="/invocations"):
    data = body if isinstance(body, bytes) else body.encode()
    request = urllib.request.Request(base + path, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_ping_and_a_scored_request(server):
    with urllib.request.urlopen(server + "/ping", timeout=10) as response:
        assert response.status == 200
    status, body = call(server, json.dumps(REQUEST))
    assert status == 200 and body["model_version"] == "ad-click-test-1" and len(body["probabilities"]) == 2


def test_client_errors_are_4xx_and_the_server_keeps_serving(server):
    too_many = dict(REQUEST, candidates=REQUEST["candidates"] * 51)
    assert call(server, json.dumps(too_many)) == (400, {"error": "'candidates' holds 102 items; 1 to 100 are allowed"})
    status, body = call(server, json.dumps(dict(REQUEST, context={"device": "mobile"})))
    assert status == 400 and "'context.placement' is required" in body["error"]
    assert call(server, "{}", content_type="text/csv")[0] == 415
    assert call(server, "{}", path="/predict")[0] == 404
    assert call(server, json.dumps(REQUEST))[0] == 200


def test_a_folder_without_a_model_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ad_click.local_server", "--model-dir", str(tmp_path)],
                          env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"ad-click:serve-local: --model-dir {tmp_path}: no code/inference.py (expected an "
                                   "unpacked model.tar.gz, e.g. WORK/model of `python -m ad_click.local_train`)")


def test_serves_the_constant_model_of_a_fresh_deployment(tmp_path):
    import shutil

    from ad_click import inference

    (tmp_path / "code").mkdir()
    shutil.copyfile(inference.__file__, tmp_path / "code" / "inference.py")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": "ad-click-ctr/1", "model_type": "constant", "ctr": 0.03, "model_version": "bootstrap"}))
    proc = subprocess.Popen([sys.executable, "-m", "ad_click.local_server", "--model-dir", str(tmp_path), "--port", "0"],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line + proc.stderr.read()
        assert call(line.split()[-1], json.dumps(REQUEST)) == (200, {"probabilities": [0.03, 0.03],
                                                                     "model_version": "bootstrap"})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
