"""Runs the training entry point on local folders the way SageMaker script mode does.

    python -m artist_recommender.local_train --train DIR [--validation DIR] --work DIR [--resume] [--quiet]
        [-- --hp value ...]

Lays out WORK like /opt/ml (input/data/<channel>, model, output/data, checkpoints), sets the SM_*
variables and runs `python train.py <hyperparameters>` with cwd = the source dir, in a fresh
process: the train.py beside this module, which the source bundle ships at its root. Each run is a
new job and starts with an empty checkpoints folder; --resume keeps it, the way SageMaker restores
a restarted spot job's checkpoints.
Hyperparameters after `--` go to train.py (`sagemaker/bin/py sagemaker/artist_recommender/train.py
--help` lists them).
A channel folder comes from `npm run data:generate` output through `recommender:channels`.
Progress of the job (load, fit, evaluate, write) goes to stderr: see common/progress.py.
"""
from __future__ import annotations

import os

from common import local_train
from common.cli import run

from .channels import channel_problem

PROG = "recommender:train-local"
SOURCE_DIR = local_train.SOURCE_DIR
# The design's entry point; the source bundle ships it as train.py beside the packages.
ENTRY_POINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train.py")


def job_env(work: str, env: dict[str, str]) -> dict[str, str]:
    return {
        # Not a SageMaker variable: train_job's override of /opt/ml/checkpoints (see its --checkpoint-dir).
        "SM_CHECKPOINT_DIR": os.path.join(work, "checkpoints"),
        "PYTHONPATH": SOURCE_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
    }


def main(argv=None) -> int:
    p = local_train.parser(PROG, __doc__, train_help="training channel folder (holds interactions.csv)")
    p.add_argument("--resume", action="store_true", help="keep WORK/checkpoints (a restarted spot job)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    from .train_job import build_parser  # the training script's own flags; it pulls torch

    args, hyperparameters = local_train.parse(p, argv, build_parser())
    fresh = ["model", os.path.join("output", "data")] + ([] if args.resume else ["checkpoints"])
    return local_train.run_job(PROG, args, hyperparameters, entry_point=ENTRY_POINT, channel_problem=channel_problem,
                               fresh=fresh, extra_env=job_env, inherit_job_name=True,
                               serve_hint="npm run recommender:serve-local -- --model-dir {model_dir}")


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
