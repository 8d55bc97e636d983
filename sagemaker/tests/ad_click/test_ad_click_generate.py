import csv
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import child_env
from ad_click import features, generate


def digest(folder):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            h.update(name.encode())
            with open(os.path.join(root, name), "rb") as handle:
                h.update(handle.read())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate.write_dataset(str(tmp_path / name), 3000, seed)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_channels_hold_only_the_contract_and_truth_lies_beside_them(dataset):
    for split in generate.SPLITS:
        assert os.listdir(dataset[split]) == ["data.csv"]
        with open(os.path.join(dataset[split], "data.csv")) as handle:
            header = next(csv.reader(handle))
        assert tuple(header) == features.COLUMNS and "true_p" not in header
        rows = features.read_channel(dataset[split])  # the training contract accepts it
        true_p = generate.read_true_p(os.path.join(dataset["dir"], "true_p", f"{split}.csv"), len(rows))
        assert len(true_p) == dataset["manifest"]["splits"][split]["rows"] == len(rows)
        assert np.all((true_p > 0) & (true_p < 1))


def test_split_sizes_click_rate_and_cardinalities(dataset):
    splits = dataset["manifest"]["splits"]
    assert sum(s["rows"] for s in splits.values()) == 60_000
    assert splits["validation"]["rows"] == splits["test"]["rows"] == 6000
    clicks = sum(s["clicks"] for s in splits.values()) / 60_000
    assert 0.02 <= clicks <= 0.04
    data = generate.generate(200_000, 3)
    assert abs(data["true_p"].mean() - generate.TARGET_CTR) < 1e-6
    distinct = {f: len(set(data["values"][f])) for f in features.CATEGORICAL_FIELDS}
    assert distinct["user_id"] > 10_000 and distinct["ad_id"] > 1000
    assert distinct["hour_of_day"] == 24 and distinct["day_of_week"] == 7 and distinct["device"] == 3
    assert distinct["placement"] == 5 and distinct["age_group"] == 6 and distinct["ad_category"] == 20


def test_labels_follow_the_true_probabilities(dataset):
    rows = features.read_channel(dataset["train"])
    true_p = generate.read_true_p(os.path.join(dataset["dir"], "true_p", "train.csv"), len(rows))
    high = true_p > np.quantile(true_p, 0.9)
    low = true_p < np.quantile(true_p, 0.5)
    # Observed click rates track the planted probabilities, decile against half.
    assert rows.labels[high].mean() == pytest.approx(true_p[high].mean(), rel=0.15)
    assert rows.labels[low].mean() == pytest.approx(true_p[low].mean(), rel=0.25)
    assert rows.labels[high].mean() > 3 * rows.labels[low].mean()


@pytest.mark.parametrize("argv, fragment", [
    (["--rows", "5", "--seed", "1"], "--rows must be at least 10"),
    (["--rows", "100", "--seed", "1", "--validation-fraction", "1.5"], "--validation-fraction 1.5"),
    (["--rows", "100", "--seed", "1", "--validation-fraction", "0.5", "--test-fraction", "0.45"], "at least 10%"),
    (["--rows", "100", "--seed", "1", "--sede", "2"], "unrecognized arguments: --sede"),
])
def test_cli_refuses_bad_flags_in_one_line(tmp_path, argv, fragment):
    done = subprocess.run([sys.executable, "-m", "ad_click.generate", "--out", str(tmp_path / "out"), *argv],
                          env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert fragment in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_cli_writes_the_data_set(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ad_click.generate", "--out", str(tmp_path), "--rows", "500",
                           "--seed", "4", "--quiet"], env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "test", "train", "true_p", "validation"]
    assert len(features.read_channel(str(tmp_path / "train"))) == 400
