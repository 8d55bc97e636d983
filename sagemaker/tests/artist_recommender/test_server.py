import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from helpers import child_env


@pytest.fixture(scope="module")
def server(trained_job):
    proc = subprocess.Popen([sys.executable, "-m", "artist_recommender.local_server", "--model-dir",
                             trained_job["model_dir"], "--port", "0"], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line + proc.stderr.read()
    yield line.split()[-1]
    proc.terminate()
    proc.wait(timeout=10)


def call(base, body, content_type="application/json", accept="application/json", path="/invocations"):
    data = body if isinstance(body, bytes) else body.encode()
    request = urllib.request.Request(base + path, data=data, method="POST",
                                     headers={"Content-Type": content_type, "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("Content-Type")


def test_ping(server):
    with urllib.request.urlopen(server + "/ping", timeout=10) as response:
        assert response.status == 200


def test_round_trip_single_and_instances(server):
    status, body, content_type = call(server, json.dumps({"user_id": "u1", "k": 4}))
    assert status == 200 and content_type.startswith("application/json")
    assert body["model_version"] == "test-job-1" and 1 <= len(body["items"]) <= 4
    assert set(body["items"][0]) == {"artistId", "score"}
    status, body, _ = call(server, json.dumps({"instances": [{"user_id": "u1", "k": 4},
                                                             {"user_id": "new", "location": "loc2", "k": 2}]}),
                           content_type="application/json; charset=utf-8", accept="*/*")
    assert status == 200 and len(body["predictions"]) == 2
    assert len(body["predictions"][1]["items"]) <= 2


@pytest.mark.parametrize(
    "body, content_type, accept, status, fragment",
    [
        ('{"user_id": "u1"}', "text/csv", "application/json", 415, "content type"),
        ("{not json", "application/json", "application/json", 400, "not valid JSON"),
        ('{"user_id": "u1", "k": 0}', "application/json", "application/json", 400, "'k'"),
        ('{"user_id": "u1", "k": 101}', "application/json", "application/json", 400, "'k'"),
        ('{"user_id": "u1", "k": "ten"}', "application/json", "application/json", 400, "'k'"),
        ('{"k": 5}', "application/json", "application/json", 400, "user_id"),
        ('{"user_id": "u1", "exclude": "a1"}', "application/json", "application/json", 400, "exclude"),
        ('{"instances": []}', "application/json", "application/json", 400, "instances"),
        ("[1, 2]", "application/json", "application/json", 400, "JSON object"),
        ('{"user_id": "u1"}', "application/json", "text/csv", 406, "accept"),
    ],
)
def test_bad_requests_get_4xx_and_server_survives(server, body, content_type, accept, status, fragment):
    got, payload, _ = call(server, body, content_type, accept)
    assert got == status
    assert fragment in payload["error"]
    ok, _, _ = call(server, json.dumps({"user_id": "u2", "k": 1}))
    assert ok == 200
