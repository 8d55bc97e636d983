"""Synthetic channels with a planted click model: interactions, users and served-list feedback.

Users have an age group, a location and a latent taste; artists a latent profile, an appeal per age
group and per location, and a popularity, whose top tenth are the platform's favourites (a chart).
  history   each user plays `per_user` artists, drawn with probability ~ exp(1.2 taste.profile +
            0.6 age appeal + 0.6 location appeal) * popularity (train/interactions.csv), and
            `validation_per_user` more later (validation/interactions.csv)
  served    lists of `list_length` artists the user has not played, drawn uniformly (an exploring
            policy, so every artist gets shown); `train_requests` lists per user before the cutoff
            (train/feedback.csv), `validation_requests` after it (validation/feedback.csv)
  clicks    P(click) = sigmoid(CLICK_BIAS + sum of CLICK_WEIGHTS * (collaborative affinity = the
            taste.profile dot product, age-group appeal, location appeal, favourite flag)): what
            users click on a recommendation shelf weighs their segment and the chart more than
            what they play does, which is what a learned weighting can find and a cosine cannot.
The files follow the training-channel contract (data.py, feedback.py), so train.py reads them as it
reads the ETL's export. The true click probability of each served item stays in memory (PlantedData).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

from .feedback import FEEDBACK_COLUMNS, FEEDBACK_FILE

HISTORY_WEIGHTS = {"collaborative": 1.2, "age_group": 0.6, "location": 0.6}
CLICK_BIAS = -3.0
CLICK_WEIGHTS = {"collaborative": 0.8, "age_group": 1.0, "location": 1.0, "favourite": 1.5}
FAVOURITE_SHARE = 0.1


@dataclass
class ServedItem:
    user_id: str
    item_id: str
    request_id: str
    position: int
    clicked: int
    probability: float  # the planted click probability
    ts: str


@dataclass
class PlantedData:
    users: dict[str, dict[str, str]]
    train_rows: list[tuple[str, str, float, str]]
    validation_rows: list[tuple[str, str, float, str]]
    train_served: list[ServedItem]
    validation_served: list[ServedItem]


def _draw(rng, logits: np.ndarray, size: int) -> np.ndarray:
    p = np.exp(logits - logits.max())
    return rng.choice(len(logits), size=size, replace=False, p=p / p.sum())


def make_planted(num_users: int = 2000, num_items: int = 300, age_groups: int = 5, locations: int = 8,
                 dims: int = 8, per_user: int = 20, validation_per_user: int = 5, train_requests: int = 3,
                 validation_requests: int = 2, list_length: int = 20, seed: int = 1) -> PlantedData:
    rng = np.random.default_rng(seed)
    taste = rng.normal(0, dims**-0.25, (num_users, dims))  # taste . profile has variance 1
    profile = rng.normal(0, dims**-0.25, (num_items, dims))
    age_appeal = rng.normal(0, 1, (age_groups, num_items))
    location_appeal = rng.normal(0, 1, (locations, num_items))
    log_popularity = -0.8 * np.log1p(rng.permutation(num_items))
    favourite = (log_popularity >= np.quantile(log_popularity, 1 - FAVOURITE_SHARE)).astype(np.float64)
    user_age = rng.integers(0, age_groups, num_users)
    user_location = rng.integers(0, locations, num_users)
    users = {f"u{u}": {"age_group": f"age{user_age[u]}", "location": f"loc{user_location[u]}"}
             for u in range(num_users)}
    train_rows, validation_rows, train_served, validation_served = [], [], [], []
    request = 0
    for u in range(num_users):
        user = f"u{u}"
        collaborative = profile @ taste[u]
        segment = (HISTORY_WEIGHTS["age_group"] * age_appeal[user_age[u]]
                   + HISTORY_WEIGHTS["location"] * location_appeal[user_location[u]])
        played = _draw(rng, HISTORY_WEIGHTS["collaborative"] * collaborative + segment + log_popularity,
                       per_user + validation_per_user)
        for n, item in enumerate(played):
            day, rows = (1 + n % 28, train_rows) if n < per_user else (29 + n % 3, validation_rows)
            rows.append((user, f"a{item}", float(rng.integers(1, 50)), f"2026-01-{day:02d}T12:00:00Z"))
        logit = (CLICK_BIAS + CLICK_WEIGHTS["collaborative"] * collaborative
                 + CLICK_WEIGHTS["age_group"] * age_appeal[user_age[u]]
                 + CLICK_WEIGHTS["location"] * location_appeal[user_location[u]]
                 + CLICK_WEIGHTS["favourite"] * favourite)
        probability = 1 / (1 + np.exp(-logit))
        unseen = np.setdiff1d(np.arange(num_items), played[:per_user])
        for r in range(train_requests + validation_requests):
            request += 1
            later = r >= train_requests
            ts = f"2026-02-{(8 + r % 3) if later else (1 + r % 7):02d}T10:00:00.000Z"
            shown = rng.choice(unseen, size=min(list_length, len(unseen)), replace=False)
            for position, item in enumerate(shown, start=1):
                clicked = int(rng.random() < probability[item])
                (validation_served if later else train_served).append(ServedItem(
                    user, f"a{item}", f"r{request:07d}", position, clicked, float(probability[item]), ts))
    return PlantedData(users, train_rows, validation_rows, train_served, validation_served)


def _write_csv(path: str, header, rows) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_feedback(path: str, served: list[ServedItem]) -> None:
    """feedback.csv (header only for no rows), ordered by request_id, position as the export orders."""
    rows = sorted(served, key=lambda s: (s.request_id.encode(), s.position))
    _write_csv(path, FEEDBACK_COLUMNS, [
        (s.user_id, s.item_id, s.request_id, s.position, f"{1 - 2 * (s.position - 1) / 100:.6f}", "champion",
         "planted-policy", s.clicked, s.ts) for s in rows])


def write_planted(root: str, data: PlantedData) -> dict:
    """root/train (with feedback), root/train-no-feedback (feedback.csv header only, the same
    interactions and users) and root/validation; returns their paths."""
    paths = {name: os.path.join(root, name) for name in ("train", "train-no-feedback", "validation")}
    users = [(u, f["age_group"], f["location"]) for u, f in data.users.items()]
    for name in ("train", "train-no-feedback"):
        _write_csv(os.path.join(paths[name], "interactions.csv"), ("user_id", "item_id", "weight", "ts"),
                   [(u, i, f"{w:g}", ts) for u, i, w, ts in data.train_rows])
        _write_csv(os.path.join(paths[name], "users.csv"), ("user_id", "age_group", "location"), users)
    write_feedback(os.path.join(paths["train"], FEEDBACK_FILE), data.train_served)
    write_feedback(os.path.join(paths["train-no-feedback"], FEEDBACK_FILE), [])
    _write_csv(os.path.join(paths["validation"], "interactions.csv"), ("user_id", "item_id", "weight", "ts"),
               [(u, i, f"{w:g}", ts) for u, i, w, ts in data.validation_rows])
    write_feedback(os.path.join(paths["validation"], FEEDBACK_FILE), data.validation_served)
    return paths
