"""Runs the click model's training entry point on local folders the way SageMaker script mode does.

    python -m ad_click.local_train --train DIR [--validation DIR] --work DIR [--job-name NAME] [--quiet]
        [-- --hp value ...]

Lays out WORK like /opt/ml (model, output/data), sets the SM_* variables and runs
`python ad_click/train.py <hyperparameters>` with cwd = the source dir, in a fresh process.
Hyperparameters after `--` go to train.py (`sagemaker/bin/py sagemaker/ad_click/train.py --help`
lists them). Channel folders come from `python -m ad_click.generate`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from common import progress
from common.cli import CliError, Parser, run

from .features import CHANNEL_FILE

PROG = "ad-click:train-local"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(PACKAGE_DIR)


def channel_problem(directory: str, flag: str) -> str | None:
    """Why `directory` is not a channel folder, naming the command that makes one; None if it is."""
    if os.path.isfile(os.path.join(directory, CHANNEL_FILE)):
        return None
    if not os.path.exists(directory):
        return f"{flag} {directory}: no such folder; make channels with `python -m ad_click.generate`"
    if not os.path.isdir(directory):
        return f"{flag} {directory}: not a folder"
    if os.path.isfile(os.path.join(directory, "train", CHANNEL_FILE)):
        return (f"{flag} {directory}: holds channels, not a channel: pass --train {os.path.join(directory, 'train')}"
                f" --validation {os.path.join(directory, 'validation')}")
    return f"{flag} {directory}: no {CHANNEL_FILE}; make channels with `python -m ad_click.generate`"


def sagemaker_env(work: str, channels: dict[str, str], job_name: str | None) -> dict[str, str]:
    # Channels inherited from the caller's environment must not leak into the job.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_CHANNEL_")}
    env.update({
        "SM_MODEL_DIR": os.path.join(work, "model"),
        "SM_OUTPUT_DATA_DIR": os.path.join(work, "output", "data"),
        "SM_NUM_GPUS": os.environ.get("SM_NUM_GPUS", "0"),
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_CURRENT_HOST": "algo-1",
        "SM_CHANNELS": json.dumps(sorted(channels)),
    })
    for name, path in channels.items():
        env[f"SM_CHANNEL_{name.upper()}"] = path
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    else:
        env.pop("TRAINING_JOB_NAME", None)
    return env


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--train", required=True, help="training channel folder (holds data.csv)")
    p.add_argument("--validation", help="validation channel folder (optional)")
    p.add_argument("--work", required=True, help="folder standing in for /opt/ml")
    p.add_argument("--job-name", help="TRAINING_JOB_NAME to set (becomes model_version)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    from .train_job import build_parser  # the training script's own flags; it pulls torch

    p.reject_unknown(argv, also=build_parser())
    args, hyperparameters = p.parse_known_args(argv)
    if hyperparameters[:1] == ["--"]:
        hyperparameters = hyperparameters[1:]
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
    for sub in ("model", os.path.join("output", "data")):
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
        os.makedirs(os.path.join(work, sub))
    env = sagemaker_env(work, channels, args.job_name)
    env[progress.ENV] = progress.choose(args.quiet)  # the job shares this stderr
    done = subprocess.run([sys.executable, os.path.join(PACKAGE_DIR, "train.py"), *hyperparameters],
                          cwd=SOURCE_DIR, env=env)
    # A failed job has said why on stderr (one line for bad data or a bad hyperparameter).
    if done.returncode == 0:
        print(f"{PROG}: model in {env['SM_MODEL_DIR']}, outputs in {env['SM_OUTPUT_DATA_DIR']}; serve it with "
              f"`python -m ad_click.local_server --model-dir {env['SM_MODEL_DIR']}`", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
