"""common.local_server over a real socket, with an inference module of the test's own."""
import http.client
import json
import socket
import threading
from http.server import ThreadingHTTPServer

import pytest

from common.local_server import load_model_dir, make_handler

INFERENCE = '''
import json

class RequestError(Exception):
    def __init__(self, message, status_code):
        super().__init__(message)
        self.status_code = status_code

def model_fn(model_dir):
    return {"scale": 2}

def input_fn(body, content_type):
    if content_type != "application/json":
        raise RequestError("unsupported content type", 415)
    return json.loads(body)

def predict_fn(data, model):
    if data.get("crash"):
        raise ZeroDivisionError("boom")
    return {"value": data["x"] * model["scale"]}

def output_fn(prediction, accept):
    return json.dumps(prediction)
'''


@pytest.fixture()
def model_dir(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(INFERENCE)
    (tmp_path / "config.json").write_text("{}")
    return str(tmp_path)


def serve(model_dir, **options):
    module, model = load_model_dir(model_dir, required=("config.json",), json_files=("config.json",), made_by="make")
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(module, model, log_env="UNSET_LOG", **options))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def raw_post(server, content_length: str) -> bytes:
    """A request whose Content-Length header is exactly `content_length`; the answer's status line."""
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: {content_length}\r\n\r\n".encode())
        return sock.recv(4096).split(b"\r\n", 1)[0]


@pytest.mark.parametrize("options", [{}, {"max_body": 64}])
def test_an_unusable_content_length_is_a_400_not_a_dropped_connection(model_dir, options):
    server = serve(model_dir, **options)
    try:
        assert raw_post(server, "ten") == b"HTTP/1.1 400 Bad Request"
        assert raw_post(server, "-1") == b"HTTP/1.1 400 Bad Request"
    finally:
        server.shutdown()


def test_a_body_over_max_body_is_a_413(model_dir):
    server = serve(model_dir, max_body=64)
    try:
        assert raw_post(server, "65") == b"HTTP/1.1 413 Request Entity Too Large"
    finally:
        server.shutdown()


@pytest.mark.parametrize("content_type, accept, expected", [
    (None, "application/json", "application/json"),
    (None, "*/*", "application/json"),
    (None, "application/json; charset=utf-8", "application/json; charset=utf-8"),  # the toolkit echoes Accept
    ("application/json", "application/json; charset=utf-8", "application/json"),
])
def test_answers_keep_alive_with_the_chosen_content_type(model_dir, content_type, accept, expected):
    server = serve(model_dir, content_type=content_type)
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        for x in (1, 2):  # one kept-alive connection
            conn.request("POST", "/invocations", body=json.dumps({"x": x}),
                         headers={"Content-Type": "application/json", "Accept": accept})
            response = conn.getresponse()
            assert (response.status, json.loads(response.read())) == (200, {"value": 2 * x})
            assert response.getheader("Content-Type") == expected
        conn.request("POST", "/invocations", body="{}", headers={"Content-Type": "text/csv"})
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (415, {"error": "unsupported content type"})
        conn.request("POST", "/invocations", body='{"crash": true}', headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (500, {"error": "internal error: ZeroDivisionError"})
        conn.request("GET", "/ping")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
        server.shutdown()
