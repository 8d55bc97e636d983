"""Local stand-in for the SageMaker inference container serving the click model.

    python -m ad_click.local_server --model-dir DIR [--port 8080] [--host 127.0.0.1]

Loads `<model_dir>/code/inference.py` the way the PyTorch inference toolkit does (code/ on
sys.path, module imported by file, model_fn called once) and serves GET /ping and
POST /invocations, calling input_fn -> predict_fn -> output_fn per request. An exception carrying
a 4xx status_code becomes that response with {"error": message}; anything else becomes a 500. The
server keeps running either way. --port 0 picks a free port; the bound address is printed as
`listening on http://HOST:PORT`. A model folder that does not load, or a port that cannot be bound,
is one line on stderr (exit 2 and 1).
"""
from __future__ import annotations

from common import local_server
from common.cli import run

PROG = "ad-click:serve-local"
MAX_BODY = 1 << 20  # a full request (100 candidates) is a few KiB


def load_model_dir(model_dir: str):
    """The artefact of `ad_click.local_train`, loaded; a constant model has no model.pt."""
    return local_server.load_model_dir(model_dir, required=("manifest.json",), json_files=("manifest.json",),
                                       made_by="python -m ad_click.local_train")


def main(argv=None) -> int:
    # output_fn writes JSON or refuses the Accept header, so every answer is JSON.
    return local_server.main(argv, prog=PROG, description=__doc__, load=load_model_dir,
                             log_env="AD_CLICK_SERVER_LOG", max_body=MAX_BODY, content_type=local_server.JSON_TYPE)


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
