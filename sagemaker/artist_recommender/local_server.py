"""Local stand-in for the SageMaker inference container contract.

    python -m artist_recommender.local_server --model-dir DIR [--port 8080]

Loads `<model_dir>/code/inference.py` the way the PyTorch inference toolkit does (code/ on
sys.path, module imported by file, model_fn called once) and serves GET /ping and
POST /invocations on 127.0.0.1, calling input_fn -> predict_fn -> output_fn per request.
Exceptions carrying a 4xx status_code become that response with {"error": message}; anything
else becomes a 500. The server keeps running either way. --port 0 picks a free port; the bound
address is printed as `listening on http://HOST:PORT`. A model folder that does not load, or a
port that cannot be bound, is one line on stderr (exit 2 and 1).
"""
from __future__ import annotations

from common import local_server
from common.cli import run

PROG = "recommender:serve-local"


def load_model_dir(model_dir: str):
    """The artefact of `recommender:train-local`, loaded; ids.json is absent from a popularity model."""
    return local_server.load_model_dir(model_dir, required=("config.json",), json_files=("config.json", "ids.json"),
                                       made_by="npm run recommender:train-local")


def main(argv=None) -> int:
    return local_server.main(argv, prog=PROG, description=__doc__, load=load_model_dir,
                             log_env="RECOMMENDER_SERVER_LOG")


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
