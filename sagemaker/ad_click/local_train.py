"""Runs the click model's training entry point on local folders the way SageMaker script mode does.

    python -m ad_click.local_train --train DIR [--validation DIR] --work DIR [--job-name NAME] [--quiet]
        [-- --hp value ...]

Lays out WORK like /opt/ml (model, output/data), sets the SM_* variables and runs
`python ad_click/train.py <hyperparameters>` with cwd = the source dir, in a fresh process.
Hyperparameters after `--` go to train.py (`sagemaker/bin/py sagemaker/ad_click/train.py --help`
lists them). Channel folders come from `python -m ad_click.generate`.
"""
from __future__ import annotations

import os

from common import local_train
from common.cli import run

from .features import CHANNEL_FILE

PROG = "ad-click:train-local"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


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


def main(argv=None) -> int:
    p = local_train.parser(PROG, __doc__, train_help="training channel folder (holds data.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    from .train_job import build_parser  # the training script's own flags; it pulls torch

    args, hyperparameters = local_train.parse(p, argv, build_parser())
    return local_train.run_job(PROG, args, hyperparameters, entry_point=os.path.join(PACKAGE_DIR, "train.py"),
                               channel_problem=channel_problem, fresh=["model", os.path.join("output", "data")],
                               serve_hint="python -m ad_click.local_server --model-dir {model_dir}")


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
