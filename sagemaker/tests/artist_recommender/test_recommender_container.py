"""The artist recommender through the SageMaker PyTorch images' own toolkits: trained by
sagemaker-training on the training image's torch from the source bundle and hyperparameters the
pipeline sends, served by sagemaker-pytorch-inference and TorchServe on the inference image's torch.
"""
import json
import os
import re
import tarfile

import pytest

import sagemaker_images as images

pytestmark = pytest.mark.sagemaker_image

JOB_NAME = "artist-recommender-contract-1"


def design_model() -> dict:
    """entryPoint, metricNames and the hyperparameters of the design."""
    design = images.design_model("artist-recommender")
    top_k = re.search(r"export const TOP_K = (\d+);", design["text"]).group(1)
    assert re.search(r"hyperparameters: \{ k: String\(TOP_K\) \}", design["text"]), \
        "design.ts changed its hyperparameters: update this test"
    return {**design, "hyperparameters": {"k": top_k}}


@pytest.fixture(scope="module")
def training_job(tmp_path_factory, channel_split):
    python = images.image_python("training")
    design = design_model()
    out = tmp_path_factory.mktemp("bundle")
    # As TrainStep sends them (lib/platform/constructs/ml/pipeline/train.ts) for an on-demand job,
    # plus a small model: the channel is tiny and the machine's two cores are shared.
    hyperparameters = {
        **design["hyperparameters"],
        "factors": "8",
        "iterations": "4",
        # A short search: tuning runs in the image's Python and torch too.
        "tune-max-configs": "3",
        "sagemaker_program": "train.py",
        "sagemaker_region": "us-east-1",
        "sagemaker_container_log_level": "20",
        "checkpoint-dir": "",
    }
    job = images.run_training_job(python, str(tmp_path_factory.mktemp("opt_ml")),
                                  bundle=images.source_bundle("artist_recommender", design["entryPoint"], str(out)),
                                  channels={"train": channel_split["train"], "validation": channel_split["validation"]},
                                  hyperparameters=hyperparameters, job_name=JOB_NAME)
    assert job.returncode == 0, job.log[-6000:]
    return {"job": job, "design": design, "python": python, "out": out}


def test_training_environment_is_the_training_images(training_job):
    images.assert_matches_tag(training_job["python"], "pytorchTrainingGpu")


def test_job_writes_the_model_and_metrics_the_pipeline_reads(training_job):
    job, design = training_job["job"], training_job["design"]
    assert os.path.exists(os.path.join(job.base_dir, "output", "success"))
    assert not os.path.exists(os.path.join(job.base_dir, "output", "failure"))
    with tarfile.open(job.model_tar_gz(str(training_job["out"]))) as tar:
        members = set(tar.getnames())
    assert {"model.pt", "config.json", "ids.json", "metrics.json", "code/inference.py",
            "code/requirements.txt"} <= members
    with tarfile.open(job.output_tar_gz(str(training_job["out"]))) as tar:
        metrics = json.load(tar.extractfile("metrics.json"))
        assert {"recommendations.jsonl", "popularity.json"} <= set(tar.getnames())
    assert metrics["model_version"] == JOB_NAME
    # The hyperparameters reached train.py through the toolkit's command line: k from the design.
    assert metrics["hyperparameters"]["k"] == int(design["hyperparameters"]["k"])
    assert metrics["hyperparameters"]["factors"] == 8
    images.assert_metrics_reported(job, metrics, design["metricNames"])


def test_bad_hyperparameter_fails_the_job_with_its_name(tmp_path, channel_split):
    python = images.image_python("training")
    design = design_model()
    bundle = images.source_bundle("artist_recommender", design["entryPoint"], str(tmp_path))
    job = images.run_training_job(python, str(tmp_path / "opt_ml"), bundle=bundle,
                                  channels={"train": channel_split["train"]},
                                  hyperparameters={"iterations": "many", "sagemaker_program": "train.py"},
                                  job_name="artist-recommender-contract-bad")
    assert job.returncode != 0
    with open(os.path.join(job.base_dir, "output", "failure"), encoding="utf-8") as handle:
        failure = handle.read()
    # SageMaker shows the failure file's text as the job's FailureReason.
    assert "--iterations" in failure and "many" in failure, failure
    assert not os.listdir(job.model_dir)


@pytest.fixture(scope="module")
def model_server(training_job, tmp_path_factory):
    python = images.image_python("inference")
    archive = training_job["job"].model_tar_gz(str(training_job["out"]))
    with images.ModelServer(python, str(tmp_path_factory.mktemp("serve_opt_ml")), archive) as server:
        yield {"server": server, "python": python}


def test_inference_environment_is_the_inference_images(model_server):
    images.assert_matches_tag(model_server["python"], "pytorchInferenceCpu")


def test_model_trained_on_the_training_image_serves_on_the_inference_image(model_server, training_job):
    server = model_server["server"]
    with open(os.path.join(training_job["job"].model_dir, "ids.json"), encoding="utf-8") as handle:
        ids = json.load(handle)
    user = ids["users"][0]
    status, body = server.invoke({"user_id": user, "k": 5})
    assert status == 200, (body, server.log())
    assert body["model_version"] == JOB_NAME
    assert 1 <= len(body["items"]) <= 5
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert {item["artistId"] for item in body["items"]} <= set(ids["items"])
    # Known users never get an artist from their training history.
    with open(os.path.join(training_job["job"].base_dir, "input", "data", "train", "interactions.csv"),
              encoding="utf-8") as handle:
        history = {line.split(",")[1] for line in handle if line.startswith(user + ",")}
    assert not history & {item["artistId"] for item in body["items"]}

    status, body = server.invoke({"instances": [{"user_id": user, "k": 3}, {"user_id": "never-seen", "k": 3}]})
    assert status == 200, body
    assert [len(p["items"]) <= 3 for p in body["predictions"]] == [True, True]


def test_bad_requests_get_4xx_with_the_handlers_message(model_server):
    server = model_server["server"]
    status, body = server.invoke({"user_id": "u1", "k": 1000})
    assert status == 400, body
    assert "'k' must be an integer between 1 and" in json.dumps(body), body
    status, body = server.invoke(b"user_id=u1", content_type="text/csv")
    assert 400 <= status < 500, body
