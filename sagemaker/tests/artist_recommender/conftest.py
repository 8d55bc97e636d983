"""Fixtures of the artist recommender's model tests: synthetic channels and one shared training run."""
import json
import subprocess
import sys

import pytest

from helpers import child_env
from artist_recommender.synthetic import make_rows, write_channel


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
    cmd = [sys.executable, "-m", "artist_recommender.local_train", "--train", channel, "--work", str(work),
           "--job-name", "test-job-1", "--", "--factors", "16", "--iterations", "6", "--reg", "5",
           "--tune", "false"]
    done = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    with open(work / "output" / "data" / "metrics.json") as handle:
        metrics = json.load(handle)
    return {"work": work, "model_dir": str(work / "model"), "output": str(work / "output" / "data"),
            "metrics": metrics, "stdout": done.stdout, "stderr": done.stderr}


@pytest.fixture(scope="session")
def channel_split(tmp_path_factory):
    """Train and validation channel folders: a per-user holdout of synthetic data where users have
    8 to 30 artists, so both sides of the benchmark's 20-interaction segment boundary are populated."""
    from artist_recommender.split import per_user_split

    rows, users = make_rows(num_users=300, num_items=200, groups=5, per_user=30, seed=2)
    kept, seen = [], {}
    for user, item, weight in rows:
        seen[user] = seen.get(user, 0) + 1
        if seen[user] <= 8 + int(user[1:]) % 23:
            kept.append((user, item, weight))
    train_rows, val_rows = per_user_split(kept, seed=7)
    root = tmp_path_factory.mktemp("channels")
    write_channel(str(root / "train"), train_rows, users)
    write_channel(str(root / "validation"), val_rows)
    return {"train": str(root / "train"), "validation": str(root / "validation"), "num_val_users": len(
        {u for u, _, _ in val_rows})}
