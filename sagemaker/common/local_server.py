"""The SageMaker inference container contract, served locally around a model's code/inference.py.

A design's `local_server` module names its artefact's files and its CLI, then calls `main`. This
module loads `<model_dir>/code/inference.py` the way the PyTorch inference toolkit does (code/ on
sys.path, module imported by file, model_fn called once) and serves GET /ping and
POST /invocations, calling input_fn -> predict_fn -> output_fn per request. An exception carrying a
4xx status_code becomes that response with {"error": message}; anything else becomes a 500, and the
server keeps running either way.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common.cli import CliError, Parser, need_dir

JSON_TYPE = "application/json"


def load_handler(model_dir: str):
    """Imports code/inference.py from the artefact and returns (module, model)."""
    code_dir = os.path.join(model_dir, "code")
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    spec = importlib.util.spec_from_file_location("inference", os.path.join(code_dir, "inference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.model_fn(model_dir)


def make_handler(module, model, *, log_env: str, max_body: int | None = None, content_type: str | None = None):
    """The request handler class around one loaded model.

    log_env: the environment variable that turns on the access log.
    max_body: the largest request body in bytes; None takes any size.
    content_type: the Content-Type of every answer; None follows the inference toolkit (a
    `(body, type)` tuple from output_fn, else the Accept header, JSON for `*/*` or none).
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm on, a kept-alive client
        # waits for the delayed ACK (about 40 ms) before it sees the body of every answer.
        disable_nagle_algorithm = True

        def _send(self, status: int, body, body_type: str = JSON_TYPE) -> None:
            data = body.encode() if isinstance(body, str) else bytes(body)
            self.send_response(status)
            self.send_header("Content-Type", body_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": message}))

        def do_GET(self):  # noqa: N802 (http.server naming)
            if self.path == "/ping":
                self._send(200, "{}")
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self):  # noqa: N802
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or (max_body is not None and length > max_body):
                self.close_connection = True  # the body is not read, so the connection cannot be reused
                if max_body is None:
                    self._error(400, "Content-Length must be a byte count")
                else:
                    self._error(413 if length > max_body else 400, f"Content-Length must be 0 to {max_body} bytes")
                return
            body = self.rfile.read(length)
            if self.path != "/invocations":
                self._error(404, f"no route {self.path}")
                return
            accept = self.headers.get("Accept") or JSON_TYPE
            try:
                data = module.input_fn(body, self.headers.get("Content-Type", ""))
                prediction = module.predict_fn(data, model)
                result = module.output_fn(prediction, accept)
            except Exception as exc:  # the worker must survive any request
                status = getattr(exc, "status_code", None)
                if isinstance(status, int) and 400 <= status < 500:
                    self._error(status, str(getattr(exc, "message", None) or exc))
                else:
                    traceback.print_exc()
                    self._error(500, f"internal error: {type(exc).__name__}")
                return
            if content_type is not None:
                self._send(200, result, content_type)
            elif isinstance(result, tuple):
                self._send(200, *result)
            else:
                self._send(200, result, accept if accept not in ("*/*", "") else JSON_TYPE)

        def log_message(self, fmt, *args):  # quiet by default; errors are printed above
            if os.environ.get(log_env):
                super().log_message(fmt, *args)

    return Handler


def load_model_dir(model_dir: str, *, required: tuple[str, ...], json_files: tuple[str, ...], made_by: str):
    """load_handler with every way an artefact can be unusable reported as one CliError.

    required: files besides code/inference.py the artefact must hold. json_files: files that must
    parse as JSON where present. made_by: the command whose WORK/model is such a folder.
    """
    need_dir(model_dir, "--model-dir")
    for name in (os.path.join("code", "inference.py"), *required):
        if not os.path.isfile(os.path.join(model_dir, name)):
            raise CliError(f"--model-dir {model_dir}: no {name} (expected an unpacked model.tar.gz, e.g. "
                           f"WORK/model of `{made_by}`)")
    for name in json_files:
        path = os.path.join(model_dir, name)
        try:
            with open(path, encoding="utf-8") as handle:
                json.load(handle)
        except FileNotFoundError:
            pass  # an optional file; model_fn says when it is needed
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = f":{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise CliError(f"{path}{where}: not valid JSON") from None
    try:
        return load_handler(model_dir)
    except FileNotFoundError as exc:
        raise CliError(f"--model-dir {model_dir}: {exc.filename}: not found") from None
    except Exception as exc:  # a corrupt artefact fails inside torch.load or the handler in many ways
        first = str(exc).split(". ")[0][:160]
        raise CliError(f"--model-dir {model_dir}: the model does not load ({type(exc).__name__}: {first})") from None


def main(argv, *, prog: str, description: str, load, **handler_options) -> int:
    """The `--model-dir DIR [--port 8080] [--host 127.0.0.1]` command: `load(model_dir)` returns
    (module, model); handler_options go to make_handler. Serves until interrupted."""
    p = Parser(prog=prog, description=description)
    p.add_argument("--model-dir", required=True, help="unpacked model.tar.gz (has code/inference.py)")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f"--port {args.port}: must be 0 to 65535")
    module, model = load(os.path.abspath(args.model_dir))
    try:
        server = ThreadingHTTPServer((args.host, args.port), make_handler(module, model, **handler_options))
    except OSError as exc:
        raise CliError(f"--host {args.host} --port {args.port}: {exc.strerror or exc}", code=1) from None
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
