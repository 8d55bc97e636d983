import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import TRAIN_SCRIPT, sagemaker_env
from helpers import SOURCE_DIR, child_env
from ad_click import features, inference
from ad_click.train_job import METRIC_NAMES


def test_job_writes_model_and_metrics_through_the_script_mode_contract(trained_job):
    m = trained_job["metrics"]
    model_dir = trained_job["model_dir"]
    for name in ("model.pt", "manifest.json", "metrics.json", "code/inference.py", "code/requirements.txt"):
        assert os.path.isfile(os.path.join(model_dir, name)), name
    assert m["model_version"] == "ad-click-test-1" and m["model_type"] == "fm"
    assert m["evaluated_on"] == "validation channel" and m["evaluation_rows"] == 6000
    assert m["log_loss"] < m["baseline_log_loss"] and 0.5 < m["auc"] <= 1 and 0 <= m["expected_calibration_error"] < 0.05
    assert m["hyperparameters"]["epochs"] == 8 and "train" not in m["hyperparameters"]
    # One `metric: name=value` line per metric definition, with the value of metrics.json.
    lines = [line for line in trained_job["stdout"].splitlines() if line.startswith("metric: ")]
    assert [line.split("=")[0][len("metric: "):] for line in lines] == list(METRIC_NAMES)
    for line in lines:
        name, value = line[len("metric: "):].split("=")
        assert float(value) == pytest.approx(m[name])
    with open(os.path.join(model_dir, "metrics.json")) as handle:
        assert json.load(handle)["log_loss"] == m["log_loss"]
    with open(os.path.join(model_dir, "code", "inference.py")) as copied, open(inference.__file__) as source:
        assert copied.read() == source.read()


def test_manifest_describes_the_features_and_the_calibration(trained_job):
    with open(os.path.join(trained_job["model_dir"], "manifest.json")) as handle:
        manifest = json.load(handle)
    assert manifest["fields"] == list(features.CATEGORICAL_FIELDS) and manifest["label"] == "label"
    assert manifest["hash"]["buckets"] == features.BUCKETS
    assert manifest["model_type"] == "fm" and manifest["factors"] == 16 and manifest["crosses"] == []
    assert manifest["calibration"]["method"] == "platt" and manifest["calibration"] == trained_job["metrics"]["calibration"]
    assert manifest["model_version"] == "ad-click-test-1"
    assert manifest["validation_metrics"]["auc"] == trained_job["metrics"]["auc"]


def test_bundle_layout_runs_train_py_beside_the_packages(tmp_path, dataset):
    """The container runs `python train.py` in the unpacked bundle: common/, ad_click/, train.py."""
    bundle = tmp_path / "bundle"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(os.path.join(SOURCE_DIR, "common"), bundle / "common", ignore=ignore)
    shutil.copytree(os.path.join(SOURCE_DIR, "ad_click"), bundle / "ad_click", ignore=ignore)
    shutil.copyfile(TRAIN_SCRIPT, bundle / "train.py")
    env = sagemaker_env(tmp_path, dataset, validation=False)
    env.pop("PYTHONPATH")
    done = subprocess.run([sys.executable, "train.py", "--epochs", "2", "--model_type", "lr", "--crosses",
                           "device*placement"], cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "output" / "data" / "metrics.json") as handle:
        metrics = json.load(handle)
    assert metrics["model_type"] == "lr" and metrics["evaluated_on"].startswith("inner validation share")
    assert len(metrics["model_version"]) == 12  # no TRAINING_JOB_NAME: a hash of data and hyperparameters
    assert os.path.isfile(tmp_path / "model" / "code" / "inference.py")


def _job(tmp_path, dataset, *argv, train=None):
    env = sagemaker_env(tmp_path, dataset, validation=False)
    if train:
        env["SM_CHANNEL_TRAIN"] = train
    return subprocess.run([sys.executable, TRAIN_SCRIPT, *argv], cwd=SOURCE_DIR, env=env, capture_output=True,
                          text=True, timeout=300)


def test_bad_row_fails_the_job_with_file_line_and_field(tmp_path, dataset):
    channel = tmp_path / "bad"
    channel.mkdir()
    header = ",".join(features.COLUMNS)
    (channel / "data.csv").write_text(f"{header}\n0,u1,25-34,US,mobile,ad1,adv1,travel,feed,13,tue\n"
                                      "2,u1,25-34,US,mobile,ad1,adv1,travel,feed,13,tue\n")
    done = _job(tmp_path, dataset, train=str(channel))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"ad-click:train: {channel / 'data.csv'}:3: field label: '2' is not 0 or 1")
    assert not (tmp_path / "model" / "model.pt").exists()


def test_bad_hyperparameters_fail_in_one_line(tmp_path, dataset):
    done = _job(tmp_path, dataset, "--factors", "0", "--learning-rate", "-1")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "--factors 0" in done.stderr and "--learning-rate -1" in done.stderr
    done = _job(tmp_path, dataset, "--factor", "8")
    assert done.returncode == 2 and "unrecognized arguments: --factor" in done.stderr


def test_local_train_lays_out_opt_ml_and_passes_hyperparameters(tmp_path, dataset):
    work = tmp_path / "work"
    done = subprocess.run([sys.executable, "-m", "ad_click.local_train", "--train", dataset["train"], "--validation",
                           dataset["validation"], "--work", str(work), "--job-name", "local-1", "--quiet", "--",
                           "--epochs", "1"], env=child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open(work / "output" / "data" / "metrics.json") as handle:
        metrics = json.load(handle)
    assert metrics["model_version"] == "local-1" and metrics["epochs_run"] == 1
    assert "ad_click.local_server --model-dir" in done.stderr
    done = subprocess.run([sys.executable, "-m", "ad_click.local_train", "--train", dataset["dir"], "--work",
                           str(work)], env=child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "holds channels, not a channel" in done.stderr


def test_a_validation_channel_without_clicks_fails_before_training(tmp_path, dataset):
    channel = tmp_path / "no-clicks"
    channel.mkdir()
    row = "0,u1,25-34,US,mobile,ad1,adv1,travel,feed,13,tue\n"
    (channel / "data.csv").write_text(",".join(features.COLUMNS) + "\n" + row * 3)
    env = sagemaker_env(tmp_path, dataset)
    env["SM_CHANNEL_VALIDATION"] = str(channel)
    done = subprocess.run([sys.executable, TRAIN_SCRIPT], cwd=SOURCE_DIR, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"ad-click:train: {channel / 'data.csv'}: every label of the validation channel is 0 (3 rows); "
        "log loss and AUC need clicks and non-clicks")
    assert "fit (fm)" not in done.stderr
