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
from datetime import datetime, timezone

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
    # float64 epoch seconds of the latest row of each (user, item) pair, NaN where no row had a ts
    # (None: no timestamps at all, filled with NaN). Only the tuning's inner split reads it.
    last_ts: np.ndarray | None = None

    def __post_init__(self):
        if self.last_ts is None:
            self.last_ts = np.full(len(self.weights), np.nan)

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

    def last_ts_of(self, rows) -> np.ndarray:
        """last_ts of the pairs of (user_id, item_id, ...) rows, NaN for a pair these data lack:
        carries the timestamps over when the pairs are rebuilt into new Interactions."""
        by_pair = {(self.user_ids[u], self.item_ids[i]): t
                   for u, i, t in zip(self.users.tolist(), self.items.tolist(), self.last_ts.tolist())}
        return np.array([by_pair.get((row[0], row[1]), math.nan) for row in rows], dtype=np.float64)

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


def _parse_ts(text: str) -> float:
    """Epoch seconds of an ISO-8601 ts (no offset: UTC), NaN for an empty one."""
    if not text:
        return math.nan
    # fromisoformat before 3.11 rejects a trailing Z; normalise it.
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


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
    rows, _, skipped = read_interaction_table(path, skip_bad_rows, on_bytes)
    return rows, skipped


def read_interaction_table(path: str, skip_bad_rows: bool = False, on_bytes=None):
    """Returns ([(user_id, item_id, weight)], [epoch seconds of each row's ts, NaN if empty], skipped)."""
    rows: list[tuple[str, str, float]] = []
    timestamps: list[float] = []
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
            ts = math.nan
            if "ts" in cols:
                raw_ts = record[cols["ts"]].strip()
                try:
                    ts = _parse_ts(raw_ts)
                except ValueError:
                    raise DataError(f"{path}:{line}: field 'ts': {raw_ts!r} is not ISO-8601") from None
        except DataError:
            if not skip_bad_rows:
                raise
            skipped += 1
            continue
        rows.append((user, item, weight))
        timestamps.append(ts)
    return rows, timestamps, skipped


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


def build_interactions(rows, user_features=None, skipped_rows: int = 0, negatives=None,
                       timestamps=None) -> Interactions:
    """Maps string ids to indices and sums duplicate (user, item) weights.

    negatives: (user_id, item_id) pairs to keep as explicit negatives; a pair the rows hold as a
    positive, or whose user or artist they do not hold, is left out.
    timestamps: epoch seconds of each row (NaN: none); a pair's last_ts is its latest."""
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    pairs: dict[tuple[int, int], float] = {}
    latest: dict[tuple[int, int], float] = {}
    for n, (user, item, weight) in enumerate(rows):
        u = user_index.setdefault(user, len(user_index))
        i = item_index.setdefault(item, len(item_index))
        pairs[(u, i)] = pairs.get((u, i), 0.0) + weight
        if timestamps is not None and not math.isnan(timestamps[n]):
            latest[(u, i)] = max(latest.get((u, i), -math.inf), timestamps[n])
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
        last_ts=np.fromiter((latest.get(pair, math.nan) for pair in pairs), dtype=np.float64, count=len(pairs)),
    )


def load_channel(directory: str, skip_bad_rows: bool = False, on_bytes=None) -> Interactions:
    """Loads a training channel folder: interactions.csv and, when present, users.csv."""
    path = os.path.join(directory, "interactions.csv")
    if not os.path.exists(path):
        raise DataError(f"{path}: not found (the channel must contain interactions.csv)")
    rows, timestamps, skipped = read_interaction_table(path, skip_bad_rows, on_bytes)
    if not rows:
        raise DataError(f"{path}: no valid interaction rows")
    features: dict[str, dict[str, str]] = {}
    users_path = os.path.join(directory, "users.csv")
    if os.path.exists(users_path):
        features, skipped_users = read_users(users_path, skip_bad_rows)
        skipped += skipped_users
    return build_interactions(rows, features, skipped, timestamps=timestamps)
