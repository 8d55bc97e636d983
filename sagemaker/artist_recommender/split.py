"""Deterministic per-user holdout split (the Last.fm protocol rule, usable on any data).

Users with fewer than 5 rows stay entirely in train; others put max(1, floor(2n/10)) rows in
test, chosen by the smallest blake2b("{seed}:{user}:{item}") keys, ties broken by item id.
"""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict


def split_key(seed: int, user: str, item: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{user}:{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _item_order(item: str):
    # Numeric ids tie-break numerically (as the protocol's artistID), others as strings.
    return (0, int(item), "") if item.isdigit() else (1, 0, item)


def per_user_split(rows, seed: int, min_rows: int = 5):
    """rows: iterable of (user, item, weight). Returns (train_rows, test_rows) in input order."""
    by_user: dict[str, list[str]] = defaultdict(list)
    rows = list(rows)
    for user, item, _ in rows:
        by_user[user].append(item)
    held_out: set[tuple[str, str]] = set()
    for user, items in by_user.items():
        n = len(items)
        if n < min_rows:
            continue
        n_test = max(1, (2 * n) // 10)
        ranked = sorted(items, key=lambda item: (split_key(seed, user, item), _item_order(item)))
        held_out.update((user, item) for item in ranked[:n_test])
    train = [r for r in rows if (r[0], r[1]) not in held_out]
    test = [r for r in rows if (r[0], r[1]) in held_out]
    return train, test


def latest_per_user_split(rows, times, seed: int, min_rows: int = 5):
    """The temporal form of per_user_split: the same users and counts, but each user's held-out rows
    are their latest by `times` (epoch seconds, parallel to rows; NaN counts as older than any
    time), ties broken by the split key, so the result does not depend on row order."""
    by_user: dict[str, list[tuple[float, str]]] = defaultdict(list)
    rows = list(rows)
    for (user, item, _), when in zip(rows, times):
        by_user[user].append((-math.inf if math.isnan(when) else float(when), item))
    held_out: set[tuple[str, str]] = set()
    for user, dated in by_user.items():
        n = len(dated)
        if n < min_rows:
            continue
        n_test = max(1, (2 * n) // 10)
        ranked = sorted(dated, key=lambda d: (-d[0], split_key(seed, user, d[1]), _item_order(d[1])))
        held_out.update((user, item) for _, item in ranked[:n_test])
    train = [r for r in rows if (r[0], r[1]) not in held_out]
    test = [r for r in rows if (r[0], r[1]) in held_out]
    return train, test
