"""Synthetic interaction data with planted tastes, for tests and local runs.

Each user belongs to a taste group that age group and location reveal; artists belong to groups
too, with a Zipf-like popularity inside each group. Users mostly play artists of their own group,
so a model that learns tastes beats popularity, and side features alone identify the taste.
"""
from __future__ import annotations

import csv
import os

import numpy as np


def make_rows(num_users=300, num_items=200, groups=5, per_user=20, own_group=0.85, seed=0):
    """Returns (interaction rows [(user, item, weight)], users {user: {age_group, location}})."""
    rng = np.random.default_rng(seed)
    item_group = np.arange(num_items) % groups
    popularity = 1.0 / (1.0 + np.arange(num_items)) ** 0.6
    rows, users = [], {}
    for u in range(num_users):
        g = u % groups
        user = f"u{u}"
        users[user] = {"age_group": f"age{g}", "location": f"loc{g}"}
        own = np.where(item_group == g, popularity, 0.0)
        other = np.where(item_group != g, popularity, 0.0)
        probs = own_group * own / own.sum() + (1 - own_group) * other / other.sum()
        chosen = rng.choice(num_items, size=per_user, replace=False, p=probs)
        for item in chosen:
            rows.append((user, f"a{item}", float(rng.integers(1, 500))))
    return rows, users


def write_channel(directory: str, rows, users=None, with_ts: bool = True) -> None:
    """Writes interactions.csv (and users.csv) in the training-channel format."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "interactions.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "weight", "ts"])
        for n, (user, item, weight) in enumerate(rows):
            ts = f"2024-01-{1 + n % 28:02d}T12:00:00Z" if with_ts else ""
            writer.writerow([user, item, f"{weight:g}", ts])
    if users:
        with open(os.path.join(directory, "users.csv"), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "age_group", "location"])
            for user, values in users.items():
                writer.writerow([user, values.get("age_group", ""), values.get("location", "")])
