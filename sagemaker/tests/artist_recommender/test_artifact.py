import json
import os
import subprocess
import sys
import textwrap

import torch

from artist_recommender import inference

FRESH_PROCESS_SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, sys
    model_dir = sys.argv[1]
    sys.path.insert(0, model_dir + "/code")
    spec = importlib.util.spec_from_file_location("inference", model_dir + "/code/inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.model_fn(model_dir)
    request = module.input_fn(json.dumps({"user_id": "u0", "k": 5}), "application/json")
    body = module.output_fn(module.predict_fn(request, model), "application/json")
    leaked = sorted(m for m in sys.modules if m == "recommender" or m.startswith("artist_recommender."))
    print(json.dumps({"response": json.loads(body), "leaked": leaked}))
    """
)


def test_artefact_loads_in_a_fresh_process_without_training_code(trained_job, tmp_path):
    model_dir = trained_job["model_dir"]
    for name in ("model.pt", "config.json", "ids.json", "code/inference.py", "code/requirements.txt"):
        assert os.path.exists(os.path.join(model_dir, name)), name
    # Plain tensors only: loadable with weights_only (what torch 2.6 defaults to).
    tensors = torch.load(os.path.join(model_dir, "model.pt"), weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    script = tmp_path / "load.py"
    script.write_text(FRESH_PROCESS_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    done = subprocess.run([sys.executable, "-I", str(script), model_dir], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["leaked"] == []
    assert result["response"]["model_version"] == "test-job-1"
    assert 1 <= len(result["response"]["items"]) <= 5


def test_config_is_plain_json_with_threshold(trained_job):
    with open(os.path.join(trained_job["model_dir"], "config.json")) as handle:
        config = json.load(handle)
    assert config["threshold"] == trained_job["metrics"]["threshold"]
    assert config["model_version"] == "test-job-1"


def _ask(model, **request):
    parsed = inference.input_fn(json.dumps(request), "application/json")
    return json.loads(inference.output_fn(inference.predict_fn(parsed, model), "application/json"))


def test_known_user_excludes_training_items_and_respects_threshold(trained_job, synthetic):
    model = inference.model_fn(trained_job["model_dir"])
    rows, _ = synthetic
    seen = {item for user, item, _ in rows if user == "u7"}
    response = _ask(model, user_id="u7", k=100)
    ids = [item["artistId"] for item in response["items"]]
    scores = [item["score"] for item in response["items"]]
    assert ids and not set(ids) & seen
    assert scores == sorted(scores, reverse=True)
    assert all(model.threshold - 1e-6 <= s <= 1.0 for s in scores)
    excluded = _ask(model, user_id="u7", k=100, exclude=ids[:2])
    assert not set(ids[:2]) & {item["artistId"] for item in excluded["items"]}


def _group_share(items, group, groups=5):
    hits = [int(item["artistId"][1:]) % groups == group for item in items]
    return sum(hits) / max(1, len(hits))


def test_cold_start_from_side_features_and_context_artists(trained_job):
    model = inference.model_fn(trained_job["model_dir"])
    # Taste group 3 (see artist_recommender/synthetic.py): age3/loc3 users play artists a{i} with i % 5 == 3.
    by_features = _ask(model, user_id="new-user", k=10, age_group="age3", location="loc3")
    assert len(by_features["items"]) > 0 and _group_share(by_features["items"], 3) >= 0.7
    context = ["a3", "a8", "a13"]
    by_artists = _ask(model, user_id="new-user", k=10, context_artists=context)
    ids = {item["artistId"] for item in by_artists["items"]}
    assert ids and not ids & set(context) and _group_share(by_artists["items"], 3) >= 0.7
    popular = _ask(model, user_id="new-user", k=10)
    scores = [item["score"] for item in popular["items"]]
    assert len(scores) == 10 and scores[0] == 1.0 and all(0 <= s <= 1 for s in scores)
    unknown_features = _ask(model, user_id="new-user", k=3, age_group="never-seen")
    assert [i["artistId"] for i in unknown_features["items"]] == [i["artistId"] for i in popular["items"][:3]]
