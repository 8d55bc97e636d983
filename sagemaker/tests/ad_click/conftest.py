"""Fixtures of the click model's tests: one small generated data set and one training job run."""
import json
import os
import subprocess
import sys

import pytest

from helpers import SOURCE_DIR, child_env
from ad_click.generate import write_dataset

# Small enough for seconds, large enough (about 1,800 clicks in train) for the models to learn.
ROWS = 60_000
SEED = 5
TRAIN_SCRIPT = os.path.join(SOURCE_DIR, "ad_click", "train.py")


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    manifest = write_dataset(str(out), ROWS, SEED)
    return {"dir": str(out), "manifest": manifest, **{name: str(out / name) for name in ("train", "validation", "test")}}


def sagemaker_env(work, dataset, job_name=None, validation=True) -> dict:
    env = child_env(SM_CHANNEL_TRAIN=dataset["train"], SM_MODEL_DIR=str(work / "model"),
                    SM_OUTPUT_DATA_DIR=str(work / "output" / "data"))
    if validation:
        env["SM_CHANNEL_VALIDATION"] = dataset["validation"]
    if job_name:
        env["TRAINING_JOB_NAME"] = job_name
    else:
        env.pop("TRAINING_JOB_NAME", None)
    return env


@pytest.fixture(scope="session")
def trained_job(tmp_path_factory, dataset):
    """The script-mode contract end to end: `python ad_click/train.py` in a child process that
    knows its channels and outputs only from SM_* variables."""
    work = tmp_path_factory.mktemp("opt_ml")
    env = sagemaker_env(work, dataset, job_name="ad-click-test-1")
    done = subprocess.run([sys.executable, TRAIN_SCRIPT, "--epochs", "8"], cwd=SOURCE_DIR, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    with open(work / "output" / "data" / "metrics.json") as handle:
        metrics = json.load(handle)
    return {"work": work, "model_dir": str(work / "model"), "metrics": metrics, "stdout": done.stdout,
            "stderr": done.stderr}
