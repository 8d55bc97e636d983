"""Served-list feedback in training: the channel's feedback.csv, explicit negatives in iALS, the
learned weighting of the score's parts, and what it does on held-out clicks of planted data."""
import contextlib
import importlib.util
import io
import json
import os
import shutil

import numpy as np
import pytest
import torch

from artist_recommender import train_job
from artist_recommender.als import ALSParams
from artist_recommender.data import DataError, build_interactions
from artist_recommender.feedback import FEEDBACK_COLUMNS, load_feedback, with_feedback
from artist_recommender.feedback_bench import bench, list_metrics
from artist_recommender.model import ModelParams, fit_model
from artist_recommender.planted_clicks import ServedItem, make_planted, write_feedback, write_planted
from artist_recommender.weighting import click_auc, fit_logistic, served_score
from common.progress import Progress

SMALL_FIT = ["--factors", "16", "--iterations", "6", "--tune", "false"]
HEADER = ",".join(FEEDBACK_COLUMNS) + "\n"
TS = "2026-12-02T10:00:00.000Z"


def _job(tmp_path, name, argv):
    out = tmp_path / name
    with contextlib.redirect_stdout(io.StringIO()):
        metrics = train_job.run(argv + ["--model-dir", str(out / "model"), "--output-data-dir", str(out / "output"),
                                        "--checkpoint-dir", ""] + SMALL_FIT)
    return metrics, out


# --- the channel --------------------------------------------------------------------------------
def test_feedback_csv_absent_or_header_only_is_no_feedback(tmp_path):
    assert load_feedback(str(tmp_path)) == ([], 0)
    assert load_feedback(None) == ([], 0)
    (tmp_path / "feedback.csv").write_text(HEADER)
    assert load_feedback(str(tmp_path)) == ([], 0)


def test_feedback_rows_are_read_and_bad_ones_named_or_counted(tmp_path):
    (tmp_path / "feedback.csv").write_text(
        HEADER
        + "u1,a1,r1,1,0.83,champion,m1,1,2026-12-02T10:00:00.000Z\n"
        + "u1,a2,r1,2,0.5,,m1,0,2026-12-02T10:00:00.000Z\n"
        + "u2,a1,r2,1,0.7,champion,m1,yes,2026-12-02T10:00:00.000Z\n"
        + "u2,a3,r2,2,1.5,champion,m1,0,2026-12-02T10:00:00.000Z\n")
    with pytest.raises(DataError, match=r"feedback.csv:4: field 'clicked'"):
        load_feedback(str(tmp_path))
    rows, skipped = load_feedback(str(tmp_path), skip_bad_rows=True)
    assert skipped == 2
    assert [(r.user_id, r.item_id, r.request_id, r.position, r.clicked) for r in rows] == [
        ("u1", "a1", "r1", 1, 1), ("u1", "a2", "r1", 2, 0)]
    (tmp_path / "feedback.csv").write_text("user_id,item_id,clicked\nu1,a1,1\n")
    with pytest.raises(DataError, match="field 'request_id': missing from header"):
        load_feedback(str(tmp_path))


def test_clicks_become_interactions_and_passes_negatives(tmp_path):
    data = build_interactions([("u1", "a1", 3.0), ("u2", "a2", 1.0), ("u2", "a3", 1.0)])
    served = [ServedItem("u1", "a2", "r1", 1, 1, 0.5, TS), ServedItem("u1", "a3", "r1", 2, 0, 0.1, TS),
              ServedItem("u1", "a1", "r1", 3, 0, 0.1, TS),  # played already: not a negative
              ServedItem("u2", "a1", "r2", 1, 0, 0.1, TS), ServedItem("u2", "a1", "r3", 1, 1, 0.1, TS),
              ServedItem("u1", "a9", "r1", 4, 0, 0.1, TS)]  # artist the interactions lack: dropped
    write_feedback(str(tmp_path / "feedback.csv"), served)
    rows, _ = load_feedback(str(tmp_path))
    merged, counts = with_feedback(data, rows)
    triples = sorted(merged.triples())
    assert ("u1", "a2", 1.0) in triples and ("u2", "a1", 1.0) in triples  # clicked in r3: positive
    assert sorted(merged.negative_pairs()) == [("u1", "a3")]
    assert counts == {"clicked_pairs": 2, "negative_pairs": 1, "negative_pairs_dropped": 1}


def test_a_negative_pulls_its_cell_down_in_ials():
    rows = [(f"u{u}", f"a{i}", 5.0) for u in range(40) for i in range(12) if (u + i) % 3]
    params = ModelParams(als=ALSParams(factors=6, reg=1.0, iterations=8, unobserved_weight=0.3), neighbour_weight=0.0,
                         negative_confidence=5.0)
    plain = build_interactions(rows)
    negatives = build_interactions(rows, negatives=[("u0", "a0"), ("u1", "a2")])
    assert len(negatives.negatives) == 2
    before, after = fit_model(plain, params), fit_model(negatives, params)
    for user, item in ((0, 0), (1, 2)):
        u, i = plain.user_ids.index(f"u{user}"), plain.item_ids.index(f"a{item}")
        predicted_before = float(before.user_factors[u] @ before.item_factors[i])
        assert float(after.user_factors[u] @ after.item_factors[i]) < predicted_before - 0.05


# --- the weighting ------------------------------------------------------------------------------
def test_logistic_fit_recovers_planted_weights():
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.uniform(-1, 1, 20000), rng.normal(0, 1, 20000), rng.normal(0, 1, 20000),
                         rng.random(20000) < 0.2]).astype(float)
    bias, weights = -1.5, np.array([2.0, 0.8, -0.6, 1.2])
    clicked = (rng.random(20000) < 1 / (1 + np.exp(-(bias + x @ weights)))).astype(float)
    fitted_bias, fitted = fit_logistic(x, clicked, l2=1.0)
    assert np.allclose(fitted, weights, atol=0.1), fitted
    assert abs(fitted_bias - bias) < 0.1
    again = fit_logistic(x, clicked, l2=1.0)
    assert again[0] == fitted_bias and np.array_equal(again[1], fitted)  # deterministic


def test_served_score_stays_in_range_and_keeps_the_order():
    logits = np.concatenate([np.linspace(-60, 60, 2001), [-1e6, 1e6]])
    scores = served_score(logits)
    assert scores.min() >= -1.0 and scores.max() <= 1.0
    assert np.all(np.diff(scores[:2001]) >= 0)
    inner = np.linspace(-8, 8, 101)
    assert np.all(np.diff(served_score(inner)) > 0)
    assert click_auc(served_score(inner), inner > 1) == click_auc(inner, inner > 1) == 1.0


def test_list_metrics_rank_clicked_items():
    served = [ServedItem("u", f"a{i}", "r1", i + 1, int(i == 3), 0.0, "t") for i in range(5)]
    best = list_metrics(served, np.array([0, 0, 0, 1.0, 0]))
    worst = list_metrics(served, np.array([1, 1, 1, -1.0, 1]))
    assert best["ndcg_at_10"] == 1.0 and best["ctr_at_3"] == pytest.approx(1 / 3)
    assert worst["ndcg_at_10"] < 0.5 and worst["ctr_at_3"] == 0.0


# --- training with feedback ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted_runs(tmp_path_factory):
    """The bench on small planted data: both runs, their models and the held-out report."""
    work = tmp_path_factory.mktemp("feedback-bench")
    with contextlib.redirect_stdout(io.StringIO()):
        report = bench(300, 80, 1, str(work), SMALL_FIT, Progress("test", "off"))
    return {"report": report, "work": work}


def test_feedback_beats_no_feedback_on_held_out_clicks(planted_runs):
    # Seeds 1-6 gave AUC gains of 0.15-0.18, NDCG@10 gains of 0.18-0.21 (300 users, 80 artists).
    results = planted_runs["report"]["results"]
    without, with_ = results["without feedback"], results["with feedback"]
    assert with_["click_auc"] > without["click_auc"] + 0.08
    assert with_["ndcg_at_10"] > without["ndcg_at_10"] + 0.1
    assert with_["ctr_at_3"] > without["ctr_at_3"] + 0.03
    assert with_["log_loss"] < without["log_loss"]
    assert with_["click_auc"] < results["planted probability (best achievable)"]["click_auc"]


def test_metrics_hold_the_weights_and_held_out_clicks(planted_runs):
    work = planted_runs["work"]
    with open(work / "runs" / "with-feedback" / "output" / "metrics.json") as handle:
        metrics = json.load(handle)
    feedback, data = metrics["feedback"], planted_runs["report"]["data"]
    assert set(feedback["weighting"]["weights"]) == {"collaborative", "age_group", "location", "popularity"}
    assert feedback["weighting"]["rows"] == metrics["feedback_rows"] == data["train_feedback_rows"]
    assert feedback["validation"]["rows"] == data["held_out_rows"]
    assert metrics["feedback_click_auc"] == feedback["validation"]["click_auc"]
    bench_auc = planted_runs["report"]["results"]["with feedback"]["click_auc"]
    assert metrics["feedback_click_auc"] == pytest.approx(bench_auc, abs=1e-5)
    held_out = feedback["weighting"]["held_out_requests"]
    assert 0 < held_out["log_loss"] < held_out["base_rate_log_loss"]
    with open(work / "runs" / "without-feedback" / "output" / "metrics.json") as handle:
        plain = json.load(handle)
    assert "feedback" not in plain and "feedback_rows" not in plain


def _fresh_handler(model_dir):
    spec = importlib.util.spec_from_file_location("copied_inference", os.path.join(model_dir, "code", "inference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_artefact_round_trips_through_the_handler_with_the_weights(planted_runs):
    model_dir = str(planted_runs["work"] / "runs" / "with-feedback" / "model")
    handler = _fresh_handler(model_dir)
    model = handler.model_fn(model_dir)
    with open(os.path.join(model_dir, "config.json")) as handle:
        config = json.load(handle)
    weighting = config["score_weighting"]
    assert weighting["weights"] == planted_runs["report"]["fitted"]["weights"]
    assert weighting["groups"]["age_group"] == [f"age{g}" for g in range(5)]
    request = handler.input_fn(json.dumps({"user_id": "u3", "k": 10}), "application/json")
    answer = json.loads(handler.output_fn(handler.predict_fn(request, model), "application/json"))
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    assert all(s >= config["threshold"] - 1e-6 for s in scores)
    # The served score is tanh((logit - center) / 2) of the stored weights and tables, recomputed here.
    user = model.user_index["u3"]
    item = model.item_index[answer["items"][0]["artistId"]]
    cosine = model.known_scores(torch.tensor([user]), weighted=False)[0].double().numpy()
    collaborative = (cosine[item] - cosine.mean()) / cosine.std(ddof=1)
    w = weighting["weights"]
    logit = weighting["bias"] + w["collaborative"] * collaborative
    logit += w["popularity"] * float(model.t["weighting_popularity"][item])
    for name in ("age_group", "location"):
        row = model.t[f"weighting_user_{name}"][user]
        logit += w[name] * float(model.t[f"weighting_{name}_affinity"][row, item])
    assert answer["items"][0]["score"] == pytest.approx(np.tanh((logit - weighting["center"]) / 2), abs=2e-5)
    # Centred on the mean click rate: the serving design's threshold of 0 keeps the better-than-average.
    assert weighting["center"] < -1.0 and answer["items"][0]["score"] > 0
    # The batch top-K carries the same served scores.
    with open(planted_runs["work"] / "runs" / "with-feedback" / "output" / "recommendations.jsonl") as handle:
        batch = {line["user_id"]: line for line in map(json.loads, handle)}
    assert [i["artistId"] for i in batch["u3"]["items"]] == [i["artistId"] for i in answer["items"]]
    assert [i["score"] for i in batch["u3"]["items"]] == pytest.approx(scores, abs=2e-6)
    # Cold start: the request's segment picks the affinity rows; an unknown segment the zero row.
    for body in ({"user_id": "new", "age_group": "age1", "location": "loc2"}, {"user_id": "new", "age_group": "old"}):
        cold = handler.predict_fn(handler.input_fn(json.dumps(body), "application/json"), model)
        assert cold["items"] and all(-1.0 <= item["score"] <= 1.0 for item in cold["items"])


def test_header_only_feedback_trains_as_without_the_file(tmp_path):
    data = make_planted(num_users=60, num_items=50, train_requests=1, validation_requests=1, seed=3)
    paths = write_planted(str(tmp_path / "channels"), data)
    without_file = tmp_path / "no-file"
    shutil.copytree(paths["train-no-feedback"], without_file)
    os.remove(without_file / "feedback.csv")
    header_only, _ = _job(tmp_path, "header", ["--train", paths["train-no-feedback"]])
    absent, _ = _job(tmp_path, "absent", ["--train", str(without_file)])
    assert header_only["model_version"] == absent["model_version"]
    assert header_only["ndcg_at_10"] == absent["ndcg_at_10"] and "feedback" not in header_only


def test_holdout_path_trains_with_feedback(tmp_path):
    """Without a validation channel the holdout split keeps the negatives, and the weighting is
    checked on the held-out share of train's requests."""
    data = make_planted(num_users=120, num_items=60, train_requests=3, validation_requests=0, seed=4)
    paths = write_planted(str(tmp_path / "channels"), data)
    metrics, out = _job(tmp_path, "holdout", ["--train", paths["train"]])
    assert metrics["feedback"]["negative_pairs"] > 0 and metrics["feedback"]["validation"] is None
    held = metrics["feedback"]["weighting"]["held_out_requests"]
    assert metrics["feedback_click_auc"] == held["click_auc"] and held["rows"] > 0
    with open(out / "model" / "config.json") as handle:
        assert "score_weighting" in json.load(handle)
