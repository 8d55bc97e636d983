"""The benchmark's reference recommenders, its generated data sets and its command line."""
import filecmp
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import sagemaker_images as images
from helpers import child_env
from artist_recommender import baselines, bench_data
from artist_recommender.channels import channel_problem
from artist_recommender.data import build_interactions, load_channel, read_interaction_table


def run(args, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], env=child_env(), capture_output=True, text=True,
                          timeout=timeout)


def interactions(baskets: dict, features: dict | None = None):
    return build_interactions([(user, item, 1.0) for user, items in baskets.items() for item in items], features)


# --- EASE ---------------------------------------------------------------------------------------
def test_ease_weights_match_the_closed_form_computed_independently():
    rng = np.random.default_rng(3)
    x = (rng.random((12, 6)) < 0.5).astype(float)
    lam = 2.5
    p = np.linalg.inv(x.T @ x + lam * np.eye(6))
    expected = np.array([[0.0 if i == j else -p[i, j] / p[j, j] for j in range(6)] for i in range(6)])
    import scipy.sparse as sp

    b = baselines.ease_weights(sp.csr_matrix(x), lam)
    np.testing.assert_allclose(b, expected, rtol=1e-10, atol=1e-12)
    assert np.all(np.diag(b) == 0.0)


def test_ease_ranks_by_x_times_b_without_seen_items_and_skips_single_user_items():
    baskets = {"u0": ["a", "b"], "u1": ["a", "b", "c"], "u2": ["b", "c", "d"], "u3": ["a", "c", "d"],
               "u4": ["a", "solo"]}
    data = interactions(baskets)
    kept = baselines.ease_items(data)
    assert "solo" not in {data.item_ids[i] for i in kept} and len(kept) == 4
    users = list(range(data.num_users))
    recs = baselines.ease_recommendations(data, users, k=5, lam=1.0)
    x = baselines.user_item_matrix(data).toarray()
    b = baselines.ease_weights(baselines.user_item_matrix(data)[:, kept], 1.0)
    for u in users:
        scores = {int(kept[j]): s for j, s in enumerate(x[u, kept] @ b) if x[u, kept[j]] == 0}
        expected = sorted(scores, key=lambda i: -scores[i])
        assert recs[u] == expected  # unseen modelled items only, best first; "solo" never
    assert data.item_ids.index("solo") not in {i for r in recs.values() for i in r}


# --- item-kNN -----------------------------------------------------------------------------------
def test_item_knn_scores_by_summed_cosine_of_the_users_items():
    # cos(A,B) = 2 / (2 sqrt 2) = 0.71, cos(A,C) = 1 / (2 sqrt 2) = 0.35, cos(A,D) = 0: a user with A gets B, then C.
    baskets = {"u1": ["A", "B"], "u2": ["A", "B"], "u3": ["A", "C"], "u4": ["D"], "u5": ["A"],
               "u6": ["C", "D"]}
    data = interactions(baskets)
    index = {name: i for i, name in enumerate(data.item_ids)}
    u5, u6 = data.user_ids.index("u5"), data.user_ids.index("u6")
    recs = baselines.item_knn_recommendations(data, [u5, u6], k=2, neighbours=10)
    assert recs[u5] == [index["B"], index["C"]]
    # u6 has C and D: A gets cos(C,A) = 0.35, B gets 0, and C, D are seen.
    assert recs[u6][0] == index["A"] and index["C"] not in recs[u6] and index["D"] not in recs[u6]
    sim = baselines.item_knn_similarity(baselines.user_item_matrix(data), 1).toarray()
    assert np.count_nonzero(sim[index["A"]]) == 1 and sim[index["A"], index["B"]] == pytest.approx(2 / (2 * 2**0.5))


# --- popularity within segment ------------------------------------------------------------------
def test_segment_popularity_falls_back_from_segment_to_age_to_location_to_global():
    features = {
        "s1": {"age_group": "young", "location": "US"}, "s2": {"age_group": "young", "location": "US"},
        "s3": {"age_group": "young", "location": "US"},  # segment of 3
        "a1": {"age_group": "young", "location": "FR"},  # lone segment, age group of 4
        "l1": {"age_group": "old", "location": "US"},  # lone segment and age group, location of 4
        "g1": {"age_group": "mid", "location": "JP"},  # nothing with 3 users: global
        "n1": {},
    }
    baskets = {"s1": ["x"], "s2": ["x"], "s3": ["x", "z"], "a1": ["y"], "l1": ["w"], "g1": ["v", "w"],
               "n1": ["v", "w"]}
    data = interactions(baskets, features)
    segments = dict(zip(data.user_ids, baselines.user_segments(data, min_users=3)))
    assert segments["s1"] == ("both", "young", "US")
    assert segments["a1"] == ("age", "young")
    assert segments["l1"] == ("location", "US")
    assert segments["g1"] is None and segments["n1"] is None
    users = list(range(data.num_users))
    recs = baselines.segment_popularity_recommendations(data, users, k=1, min_users=3)
    item = {i: name for i, name in enumerate(data.item_ids)}
    rec = {data.user_ids[u]: [item[i] for i in r] for u, r in recs.items()}
    assert rec["s1"] == ["z"]  # x is seen; z is the segment's other item
    assert rec["a1"] == ["x"]  # the age group "young" plays x most
    assert rec["l1"] == ["x"]  # location US plays x most; w is seen
    assert rec["g1"] == ["x"] and rec["n1"] == ["x"]  # global: x (3 users)
    # Large enough min_users sends everyone to global popularity.
    everyone = baselines.segment_popularity_recommendations(data, users, k=1, min_users=100)
    assert everyone[data.user_ids.index("s3")] == [data.item_ids.index("w")]


# --- implicit's ALS -----------------------------------------------------------------------------
@pytest.mark.implicit_peer
def test_implicit_als_wrapper_returns_unseen_items_only():
    from artist_recommender.synthetic import make_rows

    rows, _ = make_rows(num_users=60, num_items=40, groups=3, per_user=12, seed=4)
    data = build_interactions(rows)
    users = list(range(data.num_users))
    timing = {}
    recs = baselines.implicit_als_recommendations(data, users, k=10, reg=1.0, factors=8, iterations=3, timing=timing)
    seen = {}
    for u, i in zip(data.users.tolist(), data.items.tolist()):
        seen.setdefault(u, set()).add(i)
    for u in users:
        assert len(recs[u]) == 10 and len(set(recs[u])) == 10
        assert not set(recs[u]) & seen[u]
        assert all(0 <= i < data.num_items for i in recs[u])
    assert timing["fit"] > 0
    assert baselines.implicit_version()


def test_selection_uses_the_inner_split_of_train_only():
    from artist_recommender.synthetic import make_rows

    rows, features = make_rows(num_users=80, num_items=50, groups=4, per_user=15, seed=5)
    data = build_interactions(rows, features)
    selection = baselines.select("segment-popularity", data)
    assert [t["min_users"] for t in selection.trials] == [5, 20, 50]
    best = max(t["ndcg_at_10"] for t in selection.trials)
    assert selection.point["min_users"] == next(t["min_users"] for t in selection.trials if t["ndcg_at_10"] == best)
    assert "seed 43" in selection.split
    assert baselines.select("popularity", data).trials == []  # nothing to choose


# --- generated data sets ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", bench_data.KINDS)
def test_bench_data_is_deterministic_and_a_clean_channel(kind, tmp_path):
    for name in ("one", "two"):
        done = run(["artist_recommender.bench_data", "--kind", kind, "--out", str(tmp_path / name), "--seed", "3"])
        assert done.returncode == 0, done.stderr
    other = run(["artist_recommender.bench_data", "--kind", kind, "--out", str(tmp_path / "other"), "--seed", "4"])
    assert other.returncode == 0, other.stderr
    for part in ("train", "validation"):
        one, two = tmp_path / "one" / part, tmp_path / "two" / part
        assert channel_problem(str(one), "--train") is None
        assert filecmp.cmp(one / "interactions.csv", two / "interactions.csv", shallow=False)
        assert not filecmp.cmp(one / "interactions.csv", tmp_path / "other" / part / "interactions.csv", shallow=False)
    train = load_channel(str(tmp_path / "one" / "train"))
    validation = load_channel(str(tmp_path / "one" / "validation"))
    assert set(validation.user_ids) <= set(train.user_ids)
    counts = np.bincount(train.users)
    if kind == "planted":
        assert (tmp_path / "one" / "train" / "users.csv").exists()
        assert filecmp.cmp(tmp_path / "one" / "train" / "users.csv", tmp_path / "two" / "train" / "users.csv")
        assert len({tuple(f.values()) for f in train.user_features.values()}) == 30  # 5 ages x 6 locations
        assert (counts <= 20).mean() > 0.5  # mostly light users
        # Temporal: each user's validation events are not earlier than their training events.
        train_rows, train_ts, _ = read_interaction_table(str(tmp_path / "one" / "train" / "interactions.csv"))
        val_rows, val_ts, _ = read_interaction_table(str(tmp_path / "one" / "validation" / "interactions.csv"))
        latest = {}
        for (user, _, _), ts in zip(train_rows, train_ts):
            latest[user] = max(latest.get(user, ts), ts)
        assert all(ts >= latest[user] for (user, _, _), ts in zip(val_rows, val_ts))
    else:
        assert not (tmp_path / "one" / "train" / "users.csv").exists()  # no side features
        assert set(train.weights.tolist()) == {4.0, 5.0}  # ratings >= 4, weight = rating
        assert np.isnan(train.last_ts).all()  # no timestamps
        assert train.num_items < 1000 and np.median(counts) > 20  # fewer items, more per user


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_planted(tmp_path_factory):
    out = tmp_path_factory.mktemp("planted")
    bench_data.generate("planted", str(out), seed=1, num_users=160, num_items=90)
    return {"train": str(out / "train"), "validation": str(out / "validation")}


@pytest.mark.implicit_peer
def test_bench_cli_prints_every_method_and_column_for_both_segments(tiny_planted):
    args = ["artist_recommender.bench", "--train", tiny_planted["train"], "--validation", tiny_planted["validation"],
            "--factors", "8", "--iterations", "3", "--no-tune", "--quiet"]
    done = run([*args, "--json"])
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    methods = [r["method"] for r in doc["results"]]
    assert methods == ["ours", "popularity", "segment-popularity", "item-knn", "ease", "ials", "implicit-als"]
    for r in doc["results"]:
        assert r["fit_seconds"] >= 0 and r["peak_rss_mb"] > 0
        assert len(r["segments"]) == 2 and all(s["users"] > 0 for s in r["segments"])
        for part in (r, *r["segments"]):
            for column in ("ndcg_at_10", "recall_at_10", "hit_rate_at_10", "coverage_at_10"):
                assert 0.0 <= part[column] <= 1.0
        if r["method"] != "ours":
            assert r["params"] == r["tuning"]["point"]
    assert doc["results"][-1]["implicit_version"]
    # Ours on the training image's torch when its environment is built (always under CI), the
    # baselines on this interpreter's.
    from artist_recommender.bench import TRAINING_PYTHON

    image = os.access(TRAINING_PYTHON, os.X_OK)
    ours_torch = images.versions_of(TRAINING_PYTHON)["torch"] if image else torch.__version__
    assert doc["results"][0]["torch"] == ours_torch.split("+")[0]
    assert {r["torch"] for r in doc["results"][1:]} == {torch.__version__.split("+")[0]}
    summary = doc["summary"]
    best_ndcg = max(doc["results"], key=lambda r: r["ndcg_at_10"])
    assert summary["all_users"]["ndcg_at_10"]["best"] == best_ndcg["method"]
    ours = doc["results"][0]
    assert summary["all_users"]["ndcg_at_10"]["ours_rank"] == 1 + sum(
        r["ndcg_at_10"] > ours["ndcg_at_10"] for r in doc["results"])
    assert set(summary["light_users"]) >= {"segment", "ndcg_at_10", "coverage_at_10"}
    versus = summary["ours_vs_implicit"]
    implicit = doc["results"][-1]
    assert versus["ndcg_difference"] == pytest.approx(ours["ndcg_at_10"] - implicit["ndcg_at_10"])
    assert versus["fit_time_ratio"] == pytest.approx(ours["fit_seconds"] / implicit["fit_seconds"])

    table = run([*args, "--methods", "popularity,segment-popularity"])
    assert table.returncode == 0, table.stderr
    assert "| Method | Segment | Users | Recall@10 | NDCG@10 | HitRate@10 | Coverage@10 |" in table.stdout
    assert "| segment-popularity | <= 20 interactions |" in table.stdout
    assert "| segment-popularity | > 20 interactions |" in table.stdout
    assert "best, all users: Recall@10 " in table.stdout and "ours #" not in table.stdout


def test_bench_summary_marks_ours_rank_and_the_speed_peer():
    rows = [{"method": m, "recall_at_10": v, "ndcg_at_10": v, "hit_rate_at_10": v, "coverage_at_10": v,
             "fit_seconds": s, "peak_rss_mb": 100.0, "implicit_version": "0.7.2",
             "segments": [{"segment": "<= 20 interactions", "users": 5, "recall_at_10": v, "ndcg_at_10": v,
                           "hit_rate_at_10": v, "coverage_at_10": v}]}
            for m, v, s in (("ours", 0.2, 4.0), ("ease", 0.3, 1.0), ("implicit-als", 0.1, 2.0))]
    from artist_recommender import bench

    text = bench.format_summary(bench.summary(rows))
    assert "NDCG@10 ease (ours #2)" in text and "fit s ease (ours #3)" in text
    assert "fit time ratio 2.00 (ours / implicit), NDCG@10 difference +0.100" in text


def test_bad_kind_and_missing_folders_are_one_line_errors(tmp_path):
    bad_kind = run(["artist_recommender.bench_data", "--kind", "movies", "--out", str(tmp_path / "x")])
    assert bad_kind.returncode == 2 and "Traceback" not in bad_kind.stderr
    assert len(bad_kind.stderr.strip().splitlines()) == 1 and "--kind" in bad_kind.stderr
    (tmp_path / "file").write_text("not a folder")
    not_folder = run(["artist_recommender.bench_data", "--kind", "ratings", "--out", str(tmp_path / "file")])
    assert not_folder.returncode == 2 and "--out" in not_folder.stderr and "Traceback" not in not_folder.stderr
    missing = run(["artist_recommender.bench", "--train", str(tmp_path / "nowhere"), "--validation",
                   str(tmp_path / "nowhere")])
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    no_python = run(["artist_recommender.bench", "--train", str(tmp_path), "--validation", str(tmp_path),
                     "--ours-python", str(tmp_path / "python")])
    assert no_python.returncode == 2 and "--ours-python" in no_python.stderr and "Traceback" not in no_python.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "--train" in missing.stderr
    assert "no such folder" in missing.stderr
    assert not os.path.exists(tmp_path / "x")
