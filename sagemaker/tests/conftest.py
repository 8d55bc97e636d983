import json
import os
import subprocess
import sys

import pytest

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SOURCE_DIR not in sys.path:
    sys.path.insert(0, SOURCE_DIR)

from recommender.synthetic import make_rows, write_channel  # noqa: E402


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env["PYTHONPATH"] = SOURCE_DIR
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def synthetic():
    rows, users = make_rows(num_users=300, num_items=200, groups=5, per_user=20, seed=1)
    return rows, users


@pytest.fixture(scope="session")
def channel(tmp_path_factory, synthetic):
    rows, users = synthetic
    path = tmp_path_factory.mktemp("channel")
    write_channel(str(path), rows, users)
    return str(path)


@pytest.fixture(scope="session")
def trained_job(tmp_path_factory, channel):
    """One local SageMaker-style training run shared by the artefact and serving tests."""
    work = tmp_path_factory.mktemp("opt_ml")
    cmd = [sys.executable, "-m", "recommender.local_train", "--train", channel, "--work", str(work),
           "--job-name", "test-job-1", "--", "--factors", "16", "--iterations", "6", "--reg", "5"]
    done = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    with open(work / "output" / "data" / "metrics.json") as handle:
        metrics = json.load(handle)
    return {"work": work, "model_dir": str(work / "model"), "output": str(work / "output" / "data"),
            "metrics": metrics, "stdout": done.stdout}
