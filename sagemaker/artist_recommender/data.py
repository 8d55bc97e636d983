"""Training-channel data contract: interactions.csv (+ optional users.csv), validated on load.

interactions.csv: header `user_id,item_id,weight,ts`; ids are non-empty strings, weight a positive
finite float, ts ISO-8601 or empty. users.csv: header `user_id,age_group,location`; side features
may be empty. A bad row raises DataError naming file, line and field, unless skip_bad_rows is set,
in which case it is counted (never dropped silently).
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from common.cli import DataError  # noqa: F401  (raised here; the CLIs catch it)

INTERACTION_COLUMNS = ("user_id", "item_id", "weight", "ts")
USER_COLUMNS = ("user_id", "age_group", "location")


@dataclass
class Interactions:
    """Interactions with string ids mapped to dense indices (first-seen order)."""

    user_ids: list[str]
    item_ids: list[str]
    users: np.ndarray  # int64 row index per interaction
    items: np.ndarray  # int64 column index per interaction
    weights: np.ndarray  # float64, duplicates of (user, item) summed
    user_features: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped_rows: int = 0
    # (user, item) index pairs served and not clicked (feedback.py): explicit negatives of the fit.
    negatives: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def triples(self):
        """(user_id, item_id, weight) rows, for re-splitting."""
        for u, i, w in zip(self.users.tolist(), self.items.tolist(), self.weights.tolist()):
            yield self.user_ids[u], self.item_ids[i], w

    def negative_pairs(self) -> list[tuple[str, str]]:
        """(user_id, item_id) of the explicit negatives, for re-splitting."""
        return [(self.user_ids[u], self.item_ids[i]) for u, i in self.negatives.tolist()]


def _check_header(path: str, header: list[str] | None, required: tuple[str, ...], optional: tuple[str, ...]):
    if header is None:
        raise DataError(f"{path}:1: empty file, expected header {','.join(required + optional)}")
    names = [h.strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(f"{path}:1: field '{missing[0]}': missing from header {names}")
    return {name: names.index(name) for name in required + optional if name in names}


def _parse_weight(text: str) -> float:
    value = float(text)  # ValueError handled by the caller
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a positive finite number")
    return value


def _parse_ts(text: str) -> None:
    if text:
        # fromisoformat before 3.11 rejects a trailing Z; normalise it.
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


class _CountingReader(io.RawIOBase):
    """Reports the bytes read from a file, for progress over a large CSV."""

    def __init__(self, raw, on_bytes):
        super().__init__()
        self.raw, self.on_bytes = raw, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.on_bytes(n)
        return n


def csv_records(path: str, on_bytes=None):
    """Yields (line number, fields) of a UTF-8 CSV file, header included. A file that cannot be
    opened or read as CSV raises DataError naming it (and the line, where there is one)."""
    try:
        raw = open(path, "rb", buffering=0 if on_bytes else -1)
    except FileNotFoundError:
        raise DataError(f"{path}: not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a CSV file") from None
    except PermissionError:
        raise DataError(f"{path}: not readable (permission denied)") from None
    with raw:
        source = io.BufferedReader(_CountingReader(raw, on_bytes), 1 << 20) if on_bytes else raw
        reader = csv.reader(io.TextIOWrapper(source, encoding="utf-8", newline=""))
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                # The decoder works a block ahead of the reader: the bad byte lies after this line.
                raise DataError(f"{path}: not UTF-8 text (after line {reader.line_num})") from None
            except csv.Error as exc:
                raise DataError(f"{path}:{reader.line_num}: {exc}") from None
            yield reader.line_num, record


def _missing(path: str, line: int, record: list[str], cols: dict[str, int]) -> None:
    """A short row: names the first column the header promises and the row lacks."""
    absent = sorted((index, name) for name, index in cols.items() if index >= len(record))
    if absent:
        raise DataError(f"{path}:{line}: field '{absent[0][1]}': missing value")


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def read_interaction_rows(path: str, skip_bad_rows: bool = False, on_bytes=None):
    """Returns ([(user_id, item_id, weight)], skipped_count). on_bytes(n) is told of each block read."""
    rows: list[tuple[str, str, float]] = []
    skipped = 0
    records = csv_records(path, on_bytes)
    first = next(records, None)
    cols = _check_header(path, first and first[1], INTERACTION_COLUMNS[:3], INTERACTION_COLUMNS[3:])
    for line, record in records:
        if _blank(record):
            continue
        try:
            _missing(path, line, record, cols)
            user, item = record[cols["user_id"]].strip(), record[cols["item_id"]].strip()
            if not user:
                raise DataError(f"{path}:{line}: field 'user_id': empty")
            if not item:
                raise DataError(f"{path}:{line}: field 'item_id': empty")
            raw_weight = record[cols["weight"]].strip()
            try:
                weight = _parse_weight(raw_weight)
            except ValueError as exc:
                reason = str(exc) if "positive" in str(exc) else "not a number"
                raise DataError(f"{path}:{line}: field 'weight': {raw_weight!r} {reason}") from None
            if "ts" in cols:
                raw_ts = record[cols["ts"]].strip()
                try:
                    _parse_ts(raw_ts)
                except ValueError:
                    raise DataError(f"{path}:{line}: field 'ts': {raw_ts!r} is not ISO-8601") from None
        except DataError:
            if not skip_bad_rows:
                raise
            skipped += 1
            continue
        rows.append((user, item, weight))
    return rows, skipped


def read_users(path: str, skip_bad_rows: bool = False):
    """Returns ({user_id: {"age_group": ..., "location": ...}}, skipped_count)."""
    users: dict[str, dict[str, str]] = {}
    skipped = 0
    records = csv_records(path)
    first = next(records, None)
    cols = _check_header(path, first and first[1], USER_COLUMNS[:1], USER_COLUMNS[1:])
    for line, record in records:
        if _blank(record):
            continue
        try:
            _missing(path, line, record, cols)
            user = record[cols["user_id"]].strip()
            if not user:
                raise DataError(f"{path}:{line}: field 'user_id': empty")
            if user in users:
                raise DataError(f"{path}:{line}: field 'user_id': duplicate user {user!r}")
        except DataError:
            if not skip_bad_rows:
                raise
            skipped += 1
            continue
        users[user] = {name: record[cols[name]].strip() for name in USER_COLUMNS[1:] if name in cols}
    return users, skipped


def build_interactions(rows, user_features=None, skipped_rows: int = 0, negatives=None) -> Interactions:
    """Maps string ids to indices and sums duplicate (user, item) weights.

    negatives: (user_id, item_id) pairs to keep as explicit negatives; a pair the rows hold as a
    positive, or whose user or artist they do not hold, is left out."""
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    pairs: dict[tuple[int, int], float] = {}
    for user, item, weight in rows:
        u = user_index.setdefault(user, len(user_index))
        i = item_index.setdefault(item, len(item_index))
        pairs[(u, i)] = pairs.get((u, i), 0.0) + weight
    keys = np.array(list(pairs.keys()), dtype=np.int64).reshape(-1, 2)
    kept = sorted({(user_index[u], item_index[i]) for u, i in negatives or ()
                   if u in user_index and i in item_index and (user_index[u], item_index[i]) not in pairs})
    return Interactions(
        user_ids=list(user_index),
        item_ids=list(item_index),
        users=keys[:, 0].copy(),
        items=keys[:, 1].copy(),
        weights=np.fromiter(pairs.values(), dtype=np.float64, count=len(pairs)),
        user_features=dict(user_features or {}),
        skipped_rows=skipped_rows,
        negatives=np.array(kept, dtype=np.int64).reshape(-1, 2),
    )


def load_channel(directory: str, skip_bad_rows: bool = False, on_bytes=None) -> Interactions:
    """Loads a training channel folder: interactions.csv and, when present, users.csv."""
    path = os.path.join(directory, "interactions.csv")
    if not os.path.exists(path):
        raise DataError(f"{path}: not found (the channel must contain interactions.csv)")
    rows, skipped = read_interaction_rows(path, skip_bad_rows, on_bytes)
    if not rows:
        raise DataError(f"{path}: no valid interaction rows")
    features: dict[str, dict[str, str]] = {}
    users_path = os.path.join(directory, "users.csv")
    if os.path.exists(users_path):
        features, skipped_users = read_users(users_path, skip_bad_rows)
        skipped += skipped_users
    return build_interactions(rows, features, skipped)
