"""Generated benchmark data sets in the channel format (DIR/train and DIR/validation), two shapes
unlike Last.fm so that a model tuned there is tested on data it was not tuned on.

    python -m artist_recommender.bench_data --kind planted|ratings --out DIR [--seed N]

planted: listening events of 4,000 users over 1,500 artists in 12 clusters and 30 days. Age group
  (5 values) and location (6 values) each shift the user's taste towards some clusters, so a
  segment prefers different clusters (a real side-feature effect); each user also has a personal
  8-dimensional taste over artist factors. Artist popularity is Zipf (exponent 1). Most users are
  light: the number of distinct artists is lognormal with median 14, so about three quarters of users
  have <= 20 training interactions. Weight = plays (1 + geometric), ts = the event time. Split:
  per user, the latest fifth of their events (max(1, 2n // 10), users with >= 5 events) validate.
ratings: explicit 1-5 ratings of 2,000 users over 600 items (no side features, no timestamps):
  rating = item quality + user bias + taste match + noise, items chosen with Zipf popularity
  (exponent 0.8) and taste; about 60 rated items per user (median). Only ratings >= 4 are kept,
  weight = the rating (4 or 5). Split: split.per_user_split with seed 42 (never 43, the seed the
  benchmark's inner tuning split uses).

Deterministic by --seed; both take under two minutes to benchmark on two cores.
"""
from __future__ import annotations

import csv
import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np

from common.cli import CliError, Parser, run
from .split import per_user_split

PROG = "recommender:bench-data"
KINDS = ("planted", "ratings")
RATINGS_SPLIT_SEED = 42
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55+")
LOCATIONS = ("US", "GB", "DE", "BR", "JP", "IN")


def _gumbel_top(rng, logits: np.ndarray, n: int) -> np.ndarray:
    """n distinct indices drawn without replacement with probability proportional to exp(logits)."""
    keys = logits + rng.gumbel(size=logits.shape)
    return np.argpartition(-keys, n - 1)[:n] if n < len(logits) else np.arange(len(logits))


def planted(seed: int = 0, num_users: int = 4000, num_items: int = 1500, clusters: int = 12, days: int = 30):
    """(events [(user, item, plays, ts)], users {user: {age_group, location}})."""
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, clusters, num_items)
    log_pop = -1.0 * np.log1p(rng.permutation(num_items))  # Zipf rank^-1, ranks shuffled across clusters
    item_taste = rng.normal(0, 1, (num_items, 8))
    # Each age group and each location shifts taste by +-1.5 nats on a few clusters: the segment
    # (age, location) adds both, so segments differ and side features predict taste.
    age_effect = rng.normal(0, 1.5, (len(AGE_GROUPS), clusters))
    loc_effect = rng.normal(0, 1.5, (len(LOCATIONS), clusters))
    events, users = [], {}
    sizes = np.clip(np.round(rng.lognormal(np.log(14), 0.9, num_users)), 3, 300).astype(int)
    for u in range(num_users):
        user = f"p{u}"
        age, loc = rng.integers(len(AGE_GROUPS)), rng.integers(len(LOCATIONS))
        users[user] = {"age_group": AGE_GROUPS[age], "location": LOCATIONS[loc]}
        taste = rng.normal(0, 0.5, 8)
        logits = log_pop + age_effect[age, item_cluster] + loc_effect[loc, item_cluster] + item_taste @ taste
        chosen = _gumbel_top(rng, logits, min(sizes[u], num_items))
        times = np.sort(rng.uniform(0, days * 86400.0, len(chosen)))
        for item, t in zip(chosen.tolist(), times.tolist()):
            plays = 1 + int(rng.geometric(0.15))
            events.append((user, f"artist{item}", float(plays), START + timedelta(seconds=round(t))))
    return events, users


def temporal_split(events):
    """Per user: the latest max(1, 2n // 10) events validate when the user has >= 5, as the
    per-user holdout counts them, but by time instead of at random."""
    by_user: dict[str, list] = {}
    for event in events:
        by_user.setdefault(event[0], []).append(event)
    train, validation = [], []
    for rows in by_user.values():
        rows.sort(key=lambda e: (e[3], e[1]))
        n_val = max(1, (2 * len(rows)) // 10) if len(rows) >= 5 else 0
        train.extend(rows[: len(rows) - n_val])
        validation.extend(rows[len(rows) - n_val:])
    return train, validation


def ratings(seed: int = 0, num_users: int = 2000, num_items: int = 600):
    """Implicit rows [(user, item, rating)] of the ratings >= 4."""
    rng = np.random.default_rng(seed)
    log_pop = -0.8 * np.log1p(rng.permutation(num_items))
    item_taste = rng.normal(0, 1, (num_items, 10))
    quality = rng.normal(3.2, 0.6, num_items)
    sizes = np.clip(np.round(rng.lognormal(np.log(60), 0.7, num_users)), 10, 400).astype(int)
    rows = []
    for u in range(num_users):
        taste = rng.normal(0, 0.4, 10)
        match = item_taste @ taste
        chosen = _gumbel_top(rng, log_pop + 0.8 * match, min(sizes[u], num_items))
        stars = np.clip(np.round(quality[chosen] + rng.normal(0, 0.4) + 0.6 * match[chosen]
                                 + rng.normal(0, 0.7, len(chosen))), 1, 5)
        rows.extend((f"r{u}", f"item{i}", float(s)) for i, s in zip(chosen.tolist(), stars.tolist()) if s >= 4)
    return rows


def write_interactions(directory: str, rows) -> None:
    """rows: (user, item, weight[, ts datetime]); an absent ts is written empty."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "interactions.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "weight", "ts"])
        for row in rows:
            ts = row[3].strftime("%Y-%m-%dT%H:%M:%SZ") if len(row) > 3 else ""
            writer.writerow([row[0], row[1], f"{row[2]:g}", ts])


def write_users(directory: str, users: dict) -> None:
    with open(os.path.join(directory, "users.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "age_group", "location"])
        for user, values in users.items():
            writer.writerow([user, values["age_group"], values["location"]])


def generate(kind: str, out: str, seed: int = 0, **sizes) -> dict:
    """Writes out/train and out/validation; returns row counts. sizes: num_users, num_items (tests
    make small ones)."""
    if kind == "planted":
        events, users = planted(seed, **sizes)
        train, validation = temporal_split(events)
        write_interactions(os.path.join(out, "train"), train)
        write_users(os.path.join(out, "train"), users)
    elif kind == "ratings":
        train, validation = per_user_split(ratings(seed, **sizes), RATINGS_SPLIT_SEED)
        write_interactions(os.path.join(out, "train"), train)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    write_interactions(os.path.join(out, "validation"), validation)
    return {"train": len(train), "validation": len(validation), "users": len({r[0] for r in train}),
            "items": len({r[1] for r in train})}


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--kind", required=True, choices=KINDS, help="which data set")
    p.add_argument("--out", required=True, metavar="DIR", help="gets train/ and validation/")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CliError(f"--out {args.out}: exists and is not a folder")
    try:
        counts = generate(args.kind, args.out, args.seed)
    except OSError as exc:
        raise CliError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"{PROG}: wrote {args.out}: {args.kind}, train {counts['train']} rows ({counts['users']} users, "
          f"{counts['items']} items), validation {counts['validation']} rows; next: npm run recommender:bench -- "
          f"--train {os.path.join(args.out, 'train')} --validation {os.path.join(args.out, 'validation')}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
