"""Held-out evaluation of the model and the popularity baseline, and threshold selection."""
from __future__ import annotations

import torch

from .metrics import ranking_metrics


def truth_by_user(data, rows) -> dict:
    """user index -> set of held-out artists (index when known in train, else the raw id: a miss
    the model cannot hit, but it still counts in |test items|). Users unknown to train are skipped."""
    user_index = {u: i for i, u in enumerate(data.user_ids)}
    item_index = {a: i for i, a in enumerate(data.item_ids)}
    truth: dict[int, set] = {}
    for user, item, _ in rows:
        if user in user_index:
            truth.setdefault(user_index[user], set()).add(item_index.get(item, f"unknown:{item}"))
    return truth


def popularity_recommendations(data, users: list[int], k: int) -> dict:
    counts = torch.bincount(torch.from_numpy(data.items), minlength=data.num_items)
    ranked = torch.argsort(counts, descending=True, stable=True).tolist()
    seen: dict[int, set] = {}
    for u, i in zip(data.users.tolist(), data.items.tolist()):
        seen.setdefault(u, set()).add(i)
    recs = {}
    for u in users:
        s = seen.get(u, set())
        out = []
        for item in ranked:
            if item not in s:
                out.append(item)
                if len(out) == k:
                    break
        recs[u] = out
    return recs


def choose_threshold(hit_scores: list[float], keep_fraction: float) -> float:
    """Highest cosine threshold that keeps `keep_fraction` of the validation hits in the top-K.

    Items under it were almost never relevant on validation data, so the serving API drops them."""
    if not hit_scores:
        return -1.0
    ordered = sorted(hit_scores)
    index = min(len(ordered) - 1, int((1.0 - keep_fraction) * len(ordered)))
    return float(ordered[index])


def model_recommendations(trained, users: list[int], k: int):
    """(user -> top-k item indices, user -> their scores), seen artists excluded, no threshold."""
    indices, scores = trained.scorer().recommend_known(torch.tensor(users, dtype=torch.long), k, threshold=None)
    return dict(zip(users, indices)), dict(zip(users, scores))


def segment_metrics(recommendations: dict, truth: dict, train_counts, num_items: int, k: int, at: int) -> list[dict]:
    """ranking_metrics of the users with at most `at` training interactions, and of the rest."""
    light = {u: t for u, t in truth.items() if train_counts[u] <= at}
    heavy = {u: t for u, t in truth.items() if train_counts[u] > at}
    return [{"segment": label, "users": len(part), **ranking_metrics(recommendations, part, num_items, k)}
            for label, part in ((f"<= {at} interactions", light), (f"> {at} interactions", heavy))]


def evaluate(trained, rows, k: int = 10, keep_fraction: float = 0.95) -> dict:
    """Metrics of model and popularity on held-out rows, plus the chosen threshold."""
    data = trained.data
    truth = truth_by_user(data, rows)
    users = sorted(truth)
    model_recs, model_scores = model_recommendations(trained, users, k)
    indices = [model_recs[u] for u in users]
    scores = [model_scores[u] for u in users]
    hit_scores = [s for u, idx, sc in zip(users, indices, scores) for i, s in zip(idx, sc) if i in truth[u]]
    threshold = choose_threshold(hit_scores, keep_fraction)
    filtered = {u: [i for i, s in zip(idx, sc) if s >= threshold] for u, idx, sc in zip(users, indices, scores)}
    result = {"model": ranking_metrics(model_recs, truth, data.num_items, k)}
    result["model_thresholded"] = ranking_metrics(filtered, truth, data.num_items, k)
    result["popularity"] = ranking_metrics(popularity_recommendations(data, users, k), truth, data.num_items, k)
    result["threshold"] = threshold
    result["evaluated_users"] = len(users)
    return result
