import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from ad_click import features, inference

FRESH_PROCESS_SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, sys
    model_dir, request = sys.argv[1], sys.argv[2]
    sys.path.insert(0, model_dir + "/code")
    spec = importlib.util.spec_from_file_location("inference", model_dir + "/code/inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.model_fn(model_dir)
    body = module.output_fn(module.predict_fn(module.input_fn(request, "application/json"), model), "application/json")
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("ad_click", "common", "helpers"))
    print(json.dumps({"response": json.loads(body), "leaked": leaked}))
    """
)


def request_for(row: dict, candidates: list[dict]) -> dict:
    groups = features.REQUEST_GROUPS
    return {"user": {f: row[f] for f in groups["user"]}, "context": {f: row[f] for f in groups["context"]},
            "candidates": [{f: c[f] for f in groups["candidate"]} for c in candidates]}


@pytest.fixture(scope="module")
def test_rows(dataset):
    with open(os.path.join(dataset["test"], "data.csv")) as handle:
        return list(csv.DictReader(handle))[:40]


def test_tensors_are_plain_and_load_with_weights_only(trained_job):
    tensors = torch.load(os.path.join(trained_job["model_dir"], "model.pt"), weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    assert {"bias", "linear", "factors", "keys.user_id", "keys.placement"} <= set(tensors)


def test_artefact_scores_in_a_fresh_process_without_training_code(trained_job, test_rows, tmp_path):
    script = tmp_path / "load.py"
    script.write_text(FRESH_PROCESS_SCRIPT)
    request = json.dumps(request_for(test_rows[0], test_rows[:3]))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # -I: no PYTHONPATH, no user site, no script folder: only the artefact's code/ and the interpreter's packages.
    done = subprocess.run([sys.executable, "-I", str(script), trained_job["model_dir"], request], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["leaked"] == []
    assert result["response"]["model_version"] == "ad-click-test-1"
    assert len(result["response"]["probabilities"]) == 3
    assert all(0 < p < 1 for p in result["response"]["probabilities"])


def test_serving_scores_equal_training_side_scores_row_for_row(trained_job, test_rows, dataset):
    """A request built from a CSV row encodes to the same embedding rows as the channel reader."""
    model = inference.model_fn(trained_job["model_dir"])
    rows = features.read_channel(dataset["test"])
    offline = model.probabilities(model.encoder.encode(rows.buckets))[: len(test_rows)]
    online = [model.score(inference.parse_request(request_for(row, [row]), model.request_groups))["probabilities"][0]
              for row in test_rows]
    assert online == pytest.approx(offline.tolist(), abs=1e-7)
    assert len(set(np.round(offline, 6))) > 10  # distinct rows, distinct scores


def test_probabilities_are_calibrated_on_validation(trained_job):
    # ECE is measured on the validation channel, which neither early stopping nor calibration saw.
    assert trained_job["metrics"]["expected_calibration_error"] < 0.03
    rate = trained_job["metrics"]["evaluation_click_rate"]
    assert 0.02 < rate < 0.045
