"""Model code run the way the SageMaker PyTorch images run it, through AWS's own toolkits.

The blueprint's images (DLC_TAGS in lib/platform/constructs/ml/dlc-image.ts) are stood in for by
two environments that scripts/setup-test-env.sh builds from hash-pinned locks: the training image's
torch and sagemaker-training (.venv-sagemaker-training), the inference image's torch,
sagemaker-pytorch-inference and TorchServe (.venv-sagemaker-inference). What differs from a
container is only where things are: `/opt/ml` is a temporary folder (SAGEMAKER_BASE_DIR, which both
toolkits read for it), the source bundle a local tarball instead of an S3 object, and TorchServe's
ports and config file are free ones in that folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from helpers import SOURCE_DIR

REPO_DIR = os.path.dirname(SOURCE_DIR)
DLC_IMAGE_TS = os.path.join(REPO_DIR, "lib", "platform", "constructs", "ml", "dlc-image.ts")
# What the pipeline names the entry point inside the source bundle (lib/platform/stacks/pipeline-stack.ts).
BUNDLE_ENTRY_POINT = "train.py"
# What the training image sets (ENV SAGEMAKER_TRAINING_MODULE in its Dockerfile).
TRAINING_MODULE = "sagemaker_pytorch_container.training:main"
# Skipped on a bundle as lib/platform/constructs/ml/source-bundle.ts skips them.
BUNDLE_SKIPPED = {"__pycache__", ".pytest_cache", ".DS_Store"}


def image_python(kind: str) -> str:
    """The interpreter of the `kind` ('training' or 'inference') image environment. Missing, it
    fails the test under CI (which must run it) and skips it elsewhere, naming the command."""
    venv = os.path.join(REPO_DIR, f".venv-sagemaker-{kind}")
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(os.path.join(venv, ".made-by-setup-test-env")) and os.access(python, os.X_OK):
        return python
    why = f"{venv} is missing: run scripts/setup-test-env.sh (it builds the SageMaker image environments)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def dlc_tag(name: str) -> str:
    """A tag of DLC_TAGS, e.g. 'pytorchTrainingGpu' -> '2.8.0-gpu-py312-cu129-ubuntu22.04-sagemaker'."""
    with open(DLC_IMAGE_TS, encoding="utf-8") as handle:
        found = re.search(rf"\b{name}: '([^']+)'", handle.read())
    assert found, f"DLC_TAGS.{name} not found in {DLC_IMAGE_TS}"
    return found.group(1)


def versions_of(python: str) -> dict:
    """torch's and Python's versions in an image environment."""
    code = ("import json, sys, torch; "
            "print(json.dumps({'torch': torch.__version__, 'python': '%d.%d' % sys.version_info[:2]}))")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_matches_tag(python: str, tag_name: str) -> None:
    """The environment has the torch and Python versions the image tag names ('2.8.0-gpu-py312-...')."""
    tag = dlc_tag(tag_name)
    torch_version, python_tag = tag.split("-")[0], next(p for p in tag.split("-") if re.fullmatch(r"py\d+", p))
    found = versions_of(python)
    assert found["torch"].split("+")[0] == torch_version, (
        f"{python} has torch {found['torch']}, the image {tag} has {torch_version}: update "
        "sagemaker/requirements-sagemaker-*.txt and its lock")
    assert "py" + found["python"].replace(".", "") == python_tag, f"{python} is Python {found['python']}, {tag}"


def design_model(design_id: str) -> dict:
    """The design's entryPoint and metricNames and the text of its model, from its design.ts."""
    path = os.path.join(REPO_DIR, "lib", "designs", design_id, "design.ts")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    entry = re.search(r"entryPoint: '([^']+)'", text)
    names = re.search(r"metricNames: \[(.*?)\]", text, re.S)
    assert entry and names, f"{path}: entryPoint or metricNames not found"
    return {"entryPoint": entry.group(1), "metricNames": re.findall(r"'([a-z0-9_]+)'", names.group(1)), "text": text}


def assert_metrics_reported(job: "TrainingJob", metrics: dict, names: list[str]) -> None:
    """Each of the design's metrics is in metrics.json and in the job's log, where SageMaker reads it
    with TrainStep's MetricDefinitions regex (lib/platform/constructs/ml/pipeline/train.ts)."""
    for name in names:
        assert isinstance(metrics[name], (int, float)) and not isinstance(metrics[name], bool), name
        found = re.search(rf"metric: {name}=([-+0-9.eE]+)", job.log)
        assert found, f"no 'metric: {name}=' line in the job's log"
        assert float(found.group(1)) == pytest.approx(metrics[name], rel=1e-6, abs=1e-9), name


def source_bundle(package: str, entry_point: str, out: str) -> str:
    """sourcedir.tar.gz as the pipeline packs it: the `common` and design packages, and the design's
    entry point again at the root as train.py."""
    path = os.path.join(out, "sourcedir.tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for top in ("common", package):
            for root, dirs, files in os.walk(os.path.join(SOURCE_DIR, top)):
                dirs[:] = sorted(d for d in dirs if d not in BUNDLE_SKIPPED)
                for name in sorted(files):
                    if name in BUNDLE_SKIPPED or name.endswith(".pyc"):
                        continue
                    full = os.path.join(root, name)
                    tar.add(full, arcname=os.path.relpath(full, SOURCE_DIR))
        tar.add(os.path.join(SOURCE_DIR, entry_point), arcname=BUNDLE_ENTRY_POINT)
    return path


@dataclass
class TrainingJob:
    base_dir: str
    returncode: int
    log: str

    @property
    def model_dir(self) -> str:
        return os.path.join(self.base_dir, "model")

    @property
    def output_data_dir(self) -> str:
        return os.path.join(self.base_dir, "output", "data")

    def metrics(self) -> dict:
        with open(os.path.join(self.output_data_dir, "metrics.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def model_tar_gz(self, out: str) -> str:
        """model.tar.gz as SageMaker uploads it: the model folder's contents at the archive's root."""
        return _tar_contents(self.model_dir, os.path.join(out, "model.tar.gz"))

    def output_tar_gz(self, out: str) -> str:
        """output.tar.gz as SageMaker uploads it: the output data folder's contents."""
        return _tar_contents(self.output_data_dir, os.path.join(out, "output.tar.gz"))


def _tar_contents(folder: str, path: str) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(os.listdir(folder)):
            tar.add(os.path.join(folder, name), arcname=name)
    return path


def run_training_job(python: str, base_dir: str, *, bundle: str, channels: dict[str, str],
                     hyperparameters: dict[str, str], job_name: str, timeout: float = 600) -> TrainingJob:
    """A single-host File-mode training job: /opt/ml laid out under `base_dir` as SageMaker lays it
    out (the CreateTrainingJob request's hyperparameters, resource and channel configs, the channels'
    files), then the image's entry, sagemaker-training's `train`, run in it."""
    config = os.path.join(base_dir, "input", "config")
    os.makedirs(config)
    for sub in ("model", os.path.join("output", "data"), "code"):
        os.makedirs(os.path.join(base_dir, sub), exist_ok=True)
    # SageMaker writes every hyperparameter value as the string the request held.
    hyper = {**hyperparameters, "sagemaker_submit_directory": bundle}
    assert all(isinstance(v, str) for v in hyper.values()), "CreateTrainingJob takes string values only"
    _write(os.path.join(config, "hyperparameters.json"), hyper)
    _write(os.path.join(config, "resourceconfig.json"),
           {"current_host": "algo-1", "current_instance_type": "ml.g5.xlarge",
            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"], "network_interface_name": "eth0",
            "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.g5.xlarge",
                                 "hosts": ["algo-1"]}]})
    _write(os.path.join(config, "inputdataconfig.json"),
           {name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None",
                   "ContentType": "text/csv"} for name in channels})
    for name, folder in channels.items():
        shutil.copytree(folder, os.path.join(base_dir, "input", "data", name))
    env = _clean_env(python)
    env.update({
        "SAGEMAKER_BASE_DIR": base_dir,
        "SAGEMAKER_TRAINING_MODULE": TRAINING_MODULE,
        "TRAINING_JOB_NAME": job_name,
        # The PyTorch toolkit waits up to 15 minutes for every host name to resolve; `algo-1` resolves
        # only inside SageMaker's network. Its local-mode switch skips that wait and nothing else.
        "SM_STUDIO_LOCAL_MODE": "true",
    })
    train = os.path.join(os.path.dirname(python), "train")
    done = subprocess.run([train], cwd=base_dir, env=env, capture_output=True, text=True, timeout=timeout)
    return TrainingJob(base_dir, done.returncode, done.stdout + done.stderr)


def _write(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle)


def _clean_env(python: str) -> dict:
    """This process's environment less what would leak the test run's own settings into the job,
    and less sagemaker/bin/py's allocator preload, which the images do not have."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SM_", "SAGEMAKER_", "TS_", "PYTHON", "RECOMMENDER_"))
           and k not in ("CI", "VIRTUAL_ENV", "LD_PRELOAD", "MALLOC_CONF")}
    # The image's interpreter and scripts first, as on the image's PATH.
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The image runs `serve`: sagemaker_pytorch_serving_container.serving.main writes TorchServe's config
# to /etc/sagemaker-ts.properties and starts TorchServe. Only the config file's place differs here.
_SERVE = (
    "import sys\n"
    "from sagemaker_pytorch_serving_container import serving, torchserve\n"
    "torchserve.TS_CONFIG_FILE = sys.argv[1]\n"
    "serving.main()\n"
)


class ModelServer:
    """The inference image serving `model_tar_gz`: the archive unpacked into /opt/ml/model (under
    `base_dir`), the handlers from its code/inference.py, and the environment the blueprint gives the
    model (inferenceEnvironment in lib/platform/constructs/ml/endpoint-hosting.ts)."""

    def __init__(self, python: str, base_dir: str, model_tar_gz: str):
        self.python, self.base_dir = python, base_dir
        model_dir = os.path.join(base_dir, "model")
        os.makedirs(model_dir)
        with tarfile.open(model_tar_gz) as tar:
            tar.extractall(model_dir)  # an archive this test wrote
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = os.path.join(base_dir, "serve.log")

    def __enter__(self) -> "ModelServer":
        tmp = os.path.join(self.base_dir, "tmp")
        os.makedirs(tmp)
        env = _clean_env(self.python)
        env.update({
            "SAGEMAKER_BASE_DIR": self.base_dir,
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": os.path.join(self.base_dir, "model", "code"),
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
            "SAGEMAKER_REGION": "us-east-1",
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            # One worker: the test machine's cores are shared.
            "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
            # TorchServe's other listeners (the toolkit's config lets it read TS_* variables), on free
            # ports so that nothing else on this machine is in the way.
            "TS_METRICS_ADDRESS": f"http://127.0.0.1:{_free_port()}",
            "TS_GRPC_INFERENCE_PORT": str(_free_port()),
            "TS_GRPC_MANAGEMENT_PORT": str(_free_port()),
            # TorchServe's pid file lives in the temporary folder: one per server.
            "TMPDIR": tmp,
        })
        log = open(self.log_path, "w", encoding="utf-8")
        # Its own process group: TorchServe's JVM and Python workers are stopped with the toolkit.
        self.process = subprocess.Popen([self.python, "-c", _SERVE, os.path.join(self.base_dir, "ts.properties")],
                                        cwd=self.base_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        try:
            self._wait_until_healthy(deadline=time.monotonic() + 180)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_healthy(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the model server exited with {self.process.returncode}:\n{self.log()}")
            try:
                status, _ = self.request("GET", "/ping", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"the model server did not answer /ping in time:\n{self.log()}")

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                accept: str | None = None, timeout: float = 60) -> tuple[int, bytes]:
        headers = {k: v for k, v in (("Content-Type", content_type), ("Accept", accept)) if v}
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def invoke(self, payload, content_type: str = "application/json", accept: str = "application/json"):
        """POST /invocations as SageMaker's runtime does: (status, body parsed as JSON when it is)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, raw = self.request("POST", "/invocations", body, content_type, accept)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-6000:]

    def __exit__(self, *exc) -> None:
        if self.process is None:
            return
        # SIGTERM as SageMaker stops a container: the toolkit forwards it to TorchServe.
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The JVM and its workers are in the same group and may outlive the toolkit's process.
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(1)
        self.process = None
