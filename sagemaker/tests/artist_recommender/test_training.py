import json
import os

import pytest

from artist_recommender import train_job


def test_training_beats_popularity_on_planted_tastes(trained_job):
    m = trained_job["metrics"]
    for key in ("ndcg_at_10", "recall_at_10", "hit_rate_at_10", "coverage_at_10", "threshold",
                "num_users", "num_items", "model_version", "popularity_ndcg_at_10"):
        assert key in m
    assert m["num_users"] == 300 and m["num_items"] == 200
    assert m["ndcg_at_10"] > 2 * m["popularity_ndcg_at_10"]
    assert m["recall_at_10"] > m["popularity_recall_at_10"] + 0.15
    assert -1.0 <= m["threshold"] <= 1.0
    assert m["model_version"] == "test-job-1"
    assert "metric: ndcg_at_10=" in trained_job["stdout"]
    with open(os.path.join(trained_job["model_dir"], "metrics.json")) as handle:
        assert json.load(handle)["ndcg_at_10"] == m["ndcg_at_10"]


def test_batch_outputs(trained_job, synthetic):
    rows, _ = synthetic
    seen = {}
    for user, item, _ in rows:
        seen.setdefault(user, set()).add(item)
    threshold = trained_job["metrics"]["threshold"]
    with open(os.path.join(trained_job["output"], "recommendations.jsonl")) as handle:
        lines = [json.loads(line) for line in handle]
    assert len(lines) == 300
    for line in lines:
        assert line["model_version"] == "test-job-1"
        scores = [item["score"] for item in line["items"]]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 10
        assert all(threshold - 1e-6 <= s <= 1.0 for s in scores)
        assert not {item["artistId"] for item in line["items"]} & seen[line["user_id"]]
    assert sum(len(line["items"]) for line in lines) > 300 * 5
    with open(os.path.join(trained_job["output"], "popularity.json")) as handle:
        popularity = json.load(handle)
    scores = [item["score"] for item in popularity["items"]]
    assert popularity["model_version"] == "test-job-1"
    assert scores[0] == 1.0 and all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)


def _run(tmp_path, name, argv):
    model_dir, out_dir = tmp_path / f"{name}-model", tmp_path / f"{name}-out"
    return train_job.run(argv + ["--model-dir", str(model_dir), "--output-data-dir", str(out_dir),
                                 "--checkpoint-dir", str(tmp_path / f"{name}-checkpoints"),
                                 "--factors", "8", "--iterations", "3", "--tune", "false"])


def test_model_version_is_a_deterministic_hash_without_job_name(tmp_path, channel, monkeypatch):
    monkeypatch.delenv("TRAINING_JOB_NAME", raising=False)
    first = _run(tmp_path, "a", ["--train", channel])
    second = _run(tmp_path, "b", ["--train", channel])
    other = _run(tmp_path, "c", ["--train", channel, "--reg", "7"])
    assert first["model_version"] == second["model_version"] != other["model_version"]
    assert len(first["model_version"]) == 12
    assert first["ndcg_at_10"] == pytest.approx(second["ndcg_at_10"])


def test_validation_channel_is_used_when_given(tmp_path, synthetic, monkeypatch):
    from artist_recommender.split import per_user_split
    from artist_recommender.synthetic import write_channel

    rows, users = synthetic
    train_rows, val_rows = per_user_split(rows, seed=7)
    write_channel(str(tmp_path / "train"), train_rows, users)
    write_channel(str(tmp_path / "validation"), val_rows)
    monkeypatch.setenv("TRAINING_JOB_NAME", "job-with-validation")
    m = _run(tmp_path, "v", ["--train", str(tmp_path / "train"), "--validation", str(tmp_path / "validation")])
    assert m["evaluated_users"] == 300 and m["model_version"] == "job-with-validation"
    assert m["num_interactions"] == len(train_rows)
    assert m["ndcg_at_10"] > m["popularity_ndcg_at_10"]


def test_bad_data_fails_the_job_with_the_location(tmp_path, capsys):
    (tmp_path / "interactions.csv").write_text("user_id,item_id,weight,ts\nu1,a1,-1,\n")
    with pytest.raises(SystemExit) as info:
        _run(tmp_path, "bad", ["--train", str(tmp_path)])
    assert info.value.code == 2
    assert "interactions.csv:2: field 'weight'" in capsys.readouterr().err
