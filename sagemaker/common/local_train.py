"""SageMaker script mode on local folders: WORK laid out like /opt/ml, the SM_* variables, and a
design's train.py run in a fresh process with cwd = the source dir.

A design's `local_train` module adds its own flags and channel check and calls these in order:
`parser` -> `parse` -> `run_job`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable

from common import progress
from common.cli import CliError, Parser

# The folder holding `common` and the design packages: the source bundle's root.
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sagemaker_env(work: str, channels: dict[str, str], job_name: str | None) -> dict[str, str]:
    """The caller's environment with the variables a single-host SageMaker training job sees."""
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
    return env


def parser(prog: str, description: str, train_help: str) -> Parser:
    """The flags every design's local_train has: --train, --validation, --work, --job-name."""
    p = Parser(prog=prog, description=description)
    p.add_argument("--train", required=True, help=train_help)
    p.add_argument("--validation", help="validation channel folder (optional)")
    p.add_argument("--work", required=True, help="folder standing in for /opt/ml")
    p.add_argument("--job-name", help="TRAINING_JOB_NAME to set (becomes model_version)")
    return p


def parse(p: Parser, argv, training_parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str]]:
    """(this tool's arguments, the hyperparameters for train.py). Flags neither this tool nor the
    training script (`training_parser`) knows are named before anything else."""
    p.reject_unknown(argv, also=training_parser)
    args, hyperparameters = p.parse_known_args(argv)
    if hyperparameters[:1] == ["--"]:
        hyperparameters = hyperparameters[1:]
    return args, hyperparameters


def run_job(prog: str, args: argparse.Namespace, hyperparameters: list[str], *, entry_point: str,
            channel_problem: Callable[[str, str], str | None], fresh: list[str], serve_hint: str,
            extra_env: Callable[[str, dict[str, str]], dict[str, str]] | None = None,
            inherit_job_name: bool = False) -> int:
    """Checks the channels and WORK, empties the `fresh` folders of WORK, runs `entry_point` and
    returns its exit status.

    channel_problem(folder, flag): why a folder is not a channel, or None. serve_hint: the command
    that serves WORK/model, printed after a successful job with `{model_dir}` filled in.
    extra_env(work, env): variables of the design's own to add to the job's environment `env`.
    inherit_job_name: keep a TRAINING_JOB_NAME of the caller's environment when --job-name is absent.
    """
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
    for sub in fresh:
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
        os.makedirs(os.path.join(work, sub))
    env = sagemaker_env(work, channels, args.job_name)
    if extra_env:
        env.update(extra_env(work, env))
    if not args.job_name and not inherit_job_name:
        env.pop("TRAINING_JOB_NAME", None)
    env[progress.ENV] = progress.choose(args.quiet)  # the job shares this stderr
    done = subprocess.run([sys.executable, entry_point, *hyperparameters], cwd=SOURCE_DIR, env=env)
    # A failed job has said why on stderr (one line for bad data or a bad hyperparameter).
    if done.returncode == 0:
        print(f"{prog}: model in {env['SM_MODEL_DIR']}, outputs in {env['SM_OUTPUT_DATA_DIR']}; serve it with "
              f"`{serve_hint.format(model_dir=env['SM_MODEL_DIR'])}`", file=sys.stderr)
    return done.returncode
