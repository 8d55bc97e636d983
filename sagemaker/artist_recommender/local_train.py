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

import argparse
import json
import os
import shutil
import subprocess
import sys

from common import progress
from .channels import channel_problem
from common.cli import CliError, Parser, run

PROG = "recommender:train-local"
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The design's entry point; the source bundle ships it as train.py beside the packages.
ENTRY_POINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train.py")


def sagemaker_env(work: str, channels: dict[str, str], job_name: str | None) -> dict[str, str]:
    # Channels inherited from the caller's environment must not leak into the job.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_CHANNEL_")}
    env.update({
        "SM_MODEL_DIR": os.path.join(work, "model"),
        "SM_OUTPUT_DATA_DIR": os.path.join(work, "output", "data"),
        # Not a SageMaker variable: train_job's override of /opt/ml/checkpoints (see its --checkpoint-dir).
        "SM_CHECKPOINT_DIR": os.path.join(work, "checkpoints"),
        "SM_NUM_GPUS": os.environ.get("SM_NUM_GPUS", "0"),
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_CURRENT_HOST": "algo-1",
        "SM_CHANNELS": json.dumps(sorted(channels)),
    })
    for name, path in channels.items():
        env[f"SM_CHANNEL_{name.upper()}"] = path
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    env["PYTHONPATH"] = SOURCE_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--train", required=True, help="training channel folder (holds interactions.csv)")
    p.add_argument("--validation", help="validation channel folder (optional)")
    p.add_argument("--work", required=True, help="folder standing in for /opt/ml")
    p.add_argument("--job-name", help="TRAINING_JOB_NAME to set (becomes model_version)")
    p.add_argument("--resume", action="store_true", help="keep WORK/checkpoints (a restarted spot job)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    # Flags neither this tool nor the training script knows are named before anything else.
    from .train_job import build_parser  # the training script's own flags; it pulls torch

    p.reject_unknown(argv, also=build_parser())
    args, hyperparameters = p.parse_known_args(argv)
    if hyperparameters[:1] == ["--"]:
        hyperparameters = hyperparameters[1:]
    # Checked here, before WORK is touched: the job itself would only say the file is missing.
    for flag, folder in (("--train", args.train), ("--validation", args.validation)):
        problem = folder is not None and channel_problem(folder, flag)
        if problem:
            raise CliError(problem)
    if os.path.exists(args.work) and not os.path.isdir(args.work):
        raise CliError(f"--work {args.work}: exists and is not a folder")
    channels = {"train": os.path.abspath(args.train)}
    if args.validation:
        channels["validation"] = os.path.abspath(args.validation)
    work = os.path.abspath(args.work)
    fresh = ["model", os.path.join("output", "data")] + ([] if args.resume else ["checkpoints"])
    for sub in fresh:
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
        os.makedirs(os.path.join(work, sub))
    env = sagemaker_env(work, channels, args.job_name)
    env[progress.ENV] = progress.choose(args.quiet)  # the job shares this stderr
    cmd = [sys.executable, ENTRY_POINT, *hyperparameters]
    done = subprocess.run(cmd, cwd=SOURCE_DIR, env=env)
    # A failed job has said why on stderr (one line for bad data or a bad hyperparameter).
    if done.returncode == 0:
        print(f"{PROG}: model in {env['SM_MODEL_DIR']}, outputs in {env['SM_OUTPUT_DATA_DIR']}; serve it with "
              f"`npm run recommender:serve-local -- --model-dir {env['SM_MODEL_DIR']}`", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
