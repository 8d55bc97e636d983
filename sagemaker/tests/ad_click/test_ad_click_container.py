"""The click model through the SageMaker PyTorch images' own toolkits: trained by sagemaker-training
on the training image's torch from the source bundle and hyperparameters the pipeline sends, served
by sagemaker-pytorch-inference and TorchServe on the inference image's torch.
"""
import json
import re
import tarfile

import pytest

import sagemaker_images as images

pytestmark = pytest.mark.sagemaker_image

JOB_NAME = "ad-click-contract-1"
REQUEST = {"user": {"user_id": "u000001", "age_group": "25-34", "country": "US"},
           "context": {"device": "mobile", "placement": "feed", "hour_of_day": 13, "day_of_week": "tue"},
           "candidates": [{"ad_id": "ad00001", "advertiser_id": "adv001", "ad_category": "travel"},
                          {"ad_id": "ad00002", "advertiser_id": "adv002", "ad_category": "finance"}]}


@pytest.fixture(scope="module")
def training_job(tmp_path_factory, dataset):
    python = images.image_python("training")
    design = images.design_model("ad-click")
    assert re.search(r"hyperparameters: \{\}", design["text"]), "design.ts changed its hyperparameters"
    out = tmp_path_factory.mktemp("bundle")
    # As TrainStep sends them for an on-demand job; fewer epochs than the default, for time.
    hyperparameters = {"epochs": "4", "sagemaker_program": "train.py", "sagemaker_region": "us-east-1",
                       "sagemaker_container_log_level": "20", "checkpoint-dir": ""}
    job = images.run_training_job(
        python, str(tmp_path_factory.mktemp("opt_ml")),
        bundle=images.source_bundle("ad_click", design["entryPoint"], str(out)),
        channels={"train": dataset["train"], "validation": dataset["validation"]},
        hyperparameters=hyperparameters, job_name=JOB_NAME)
    assert job.returncode == 0, job.log[-6000:]
    return {"job": job, "design": design, "out": out}


def test_job_writes_the_model_and_metrics_the_pipeline_reads(training_job):
    job = training_job["job"]
    with tarfile.open(job.model_tar_gz(str(training_job["out"]))) as tar:
        assert {"manifest.json", "model.pt", "code/inference.py"} <= set(tar.getnames())
    with tarfile.open(job.output_tar_gz(str(training_job["out"]))) as tar:
        metrics = json.load(tar.extractfile("metrics.json"))
    assert metrics["model_version"] == JOB_NAME
    images.assert_metrics_reported(job, metrics, training_job["design"]["metricNames"])


@pytest.fixture(scope="module")
def model_server(training_job, tmp_path_factory):
    python = images.image_python("inference")
    archive = training_job["job"].model_tar_gz(str(training_job["out"]))
    with images.ModelServer(python, str(tmp_path_factory.mktemp("serve_opt_ml")), archive) as server:
        yield server


def test_model_trained_on_the_training_image_serves_on_the_inference_image(model_server):
    status, body = model_server.invoke(REQUEST)
    assert status == 200, (body, model_server.log())
    assert body["model_version"] == JOB_NAME
    assert len(body["probabilities"]) == 2
    assert all(0 < p < 1 for p in body["probabilities"])


def test_bad_requests_get_4xx_with_the_handlers_message(model_server):
    status, body = model_server.invoke({**REQUEST, "candidates": []})
    assert status == 400, body
    assert "candidates" in json.dumps(body), body
