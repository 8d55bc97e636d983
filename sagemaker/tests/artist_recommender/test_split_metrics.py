import hashlib

from artist_recommender.lastfm import split_file_bytes
from artist_recommender.metrics import ranking_metrics
from artist_recommender.split import per_user_split, split_key


def test_split_rule_counts_and_determinism():
    rows = [(str(u), str(i), 1.0) for u in range(1, 4) for i in range(1, 3 + 4 * u)]
    train, test = per_user_split(rows, seed=42)
    per_user = {u: sum(1 for r in test if r[0] == u) for u in ("1", "2", "3")}
    # user 1 has 6 rows -> 1 test row; user 2: 10 -> 2; user 3: 14 -> 2
    assert per_user == {"1": 1, "2": 2, "3": 2}
    assert per_user_split(rows, seed=42) == (train, test)
    assert per_user_split(rows, seed=43) != (train, test)
    small = [("9", str(i), 1.0) for i in range(4)]
    assert per_user_split(small, seed=42) == (small, [])


def test_split_key_is_blake2b_big_endian():
    digest = hashlib.blake2b(b"42:2:51", digest_size=8).digest()
    assert split_key(42, "2", "51") == int.from_bytes(digest, "big")


def test_split_file_format_sorts_numerically():
    text = split_file_bytes([("10", "2", "5"), ("9", "11", "1"), ("9", "3", "7")]).decode()
    assert text == "userID\tartistID\tweight\n9\t3\t7\n9\t11\t1\n10\t2\t5\n"


def test_ranking_metrics_by_hand():
    truth = {"u1": {"a", "b"}, "u2": {"c"}, "u3": {"z"}}
    recs = {"u1": ["a", "x", "b"], "u2": ["y"]}
    m = ranking_metrics(recs, truth, num_catalog_items=10, k=10)
    ndcg_u1 = (1 + 1 / 2) / (1 + 1 / 1.584962500721156)
    assert abs(m["ndcg_at_10"] - ndcg_u1 / 3) < 1e-9
    assert abs(m["recall_at_10"] - 1 / 3) < 1e-9
    assert abs(m["hit_rate_at_10"] - 1 / 3) < 1e-9
    assert abs(m["coverage_at_10"] - 4 / 10) < 1e-9
