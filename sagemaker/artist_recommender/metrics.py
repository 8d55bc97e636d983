"""Top-K ranking metrics as the benchmark protocol defines them."""
from __future__ import annotations

import math


def ranking_metrics(recommendations: dict, truth: dict, num_catalog_items: int, k: int = 10) -> dict:
    """recommendations: user -> ranked item list; truth: user -> set of held-out items.

    Averaged over users in `truth`; a user without recommendations scores 0. Coverage is the number
    of distinct recommended items (over evaluated users) divided by the catalogue size.
    """
    recall = ndcg = hits = precision = 0.0
    distinct: set = set()
    for user, relevant in truth.items():
        ranked = list(recommendations.get(user, []))[:k]
        distinct.update(ranked)
        gains = [1.0 if item in relevant else 0.0 for item in ranked]
        found = sum(gains)
        recall += found / len(relevant)
        precision += found / k
        hits += 1.0 if found else 0.0
        ndcg += _ndcg(gains, len(relevant), k)
    n = max(1, len(truth))
    return {
        f"recall_at_{k}": recall / n,
        f"ndcg_at_{k}": ndcg / n,
        f"hit_rate_at_{k}": hits / n,
        f"precision_at_{k}": precision / n,
        f"coverage_at_{k}": len(distinct) / max(1, num_catalog_items),
    }


def _ndcg(gains: list, relevant: int, k: int) -> float:
    dcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, relevant)))
    return dcg / ideal


def ndcg_per_user(recommendations: dict, truth: dict, k: int = 10) -> dict:
    """user -> NDCG@k, for each user in `truth` (ranking_metrics' ndcg_at_k is their mean)."""
    out = {}
    for user, relevant in truth.items():
        ranked = list(recommendations.get(user, []))[:k]
        out[user] = _ndcg([1.0 if item in relevant else 0.0 for item in ranked], len(relevant), k)
    return out
