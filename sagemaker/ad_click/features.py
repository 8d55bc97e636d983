"""The feature contract of a row: the one list of fields every other module reads.

A training channel is a folder holding `data.csv`: a header row naming exactly `label` and the
categorical fields (any order), then one impression per row. `label` is 0 or 1; every other value is
a string (an empty one means "unknown"). Any other column is refused, so nothing the model must not
see (such as the generator's true probabilities) can slip into training.

Values become hash buckets (inference.value_key: keyed BLAKE2b, a fixed bucket count per field), and
buckets become embedding rows through a vocabulary of the keys seen at least `min_count` times in
training; every other key, including values first seen at serving time, maps to its column's
reserved row 0, which training fits on the rare values.
"""
from __future__ import annotations

import csv
import itertools
import os
from dataclasses import dataclass

import numpy as np

from common.cli import DataError

from .inference import FORMAT, cross_key, value_key

LABEL = "label"
CATEGORICAL_FIELDS = (
    "user_id",
    "age_group",
    "country",
    "device",
    "ad_id",
    "advertiser_id",
    "ad_category",
    "placement",
    "hour_of_day",
    "day_of_week",
)
COLUMNS = (LABEL, *CATEGORICAL_FIELDS)
# Which part of a scoring request carries each field (inference.parse_request reads this from the manifest).
REQUEST_GROUPS = {
    "user": ("user_id", "age_group", "country"),
    "context": ("device", "placement", "hour_of_day", "day_of_week"),
    "candidate": ("ad_id", "advertiser_id", "ad_category"),
}
# Hash buckets per field: far more than the field's distinct values, so that two values share a
# bucket rarely (about n^2 / 2B pairs of n values); the bucket count costs nothing, since only the
# buckets seen in training get a row. The product of any two stays below 2^63 (inference.cross_key).
BUCKETS = {field: 1 << 20 for field in CATEGORICAL_FIELDS} | {"user_id": 1 << 30, "ad_id": 1 << 26}
CHANNEL_FILE = "data.csv"

assert sorted(itertools.chain(*REQUEST_GROUPS.values())) == sorted(CATEGORICAL_FIELDS)
assert all(BUCKETS[a] * BUCKETS[b] < 1 << 63 for a, b in itertools.combinations(CATEGORICAL_FIELDS, 2))


def parse_crosses(text: str) -> tuple[tuple[str, str], ...]:
    """'none', 'all' (every pair of fields) or 'a*b,c*d' -> pairs in CATEGORICAL_FIELDS order."""
    text = text.strip()
    if text in ("", "none"):
        return ()
    if text == "all":
        return tuple(itertools.combinations(CATEGORICAL_FIELDS, 2))
    pairs = []
    for item in text.split(","):
        names = [name.strip() for name in item.split("*")]
        unknown = [name for name in names if name not in CATEGORICAL_FIELDS]
        if len(names) != 2 or unknown or names[0] == names[1]:
            raise ValueError(f"cross {item.strip()!r}: expected two different fields joined by '*' "
                             f"(fields: {', '.join(CATEGORICAL_FIELDS)})")
        pair = tuple(sorted(names, key=CATEGORICAL_FIELDS.index))
        if pair not in pairs:
            pairs.append(pair)
    return tuple(pairs)


@dataclass
class Rows:
    """A channel read into memory: labels and one int64 bucket array per field."""

    labels: np.ndarray  # float32 (n,)
    buckets: dict  # field -> int64 (n,)
    path: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> "Rows":
        return Rows(self.labels[index], {f: b[index] for f, b in self.buckets.items()}, self.path)


def hash_column(field: str, values) -> np.ndarray:
    """Buckets of many values; each distinct value is hashed once."""
    codes: dict[str, int] = {}
    index = np.fromiter((codes.setdefault(v, len(codes)) for v in values), dtype=np.int64)
    keys = np.fromiter((value_key(field, v, BUCKETS[field]) for v in codes), dtype=np.int64, count=len(codes))
    return keys[index] if len(index) else np.zeros(0, dtype=np.int64)


def _counted(lines, on_bytes, every: int = 1 << 20):
    """The lines of a text file, reporting their size (characters, bytes for ASCII) every MiB."""
    pending = 0
    for line in lines:
        pending += len(line)
        if pending >= every:
            on_bytes(pending)
            pending = 0
        yield line
    if pending:
        on_bytes(pending)


def read_channel(directory: str, on_bytes=None) -> Rows:
    """Reads `<directory>/data.csv`; a row that breaks the contract is a DataError naming the file,
    the line and the field."""
    path = os.path.join(directory, CHANNEL_FILE)
    try:
        handle = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise DataError(f"{path}: not found (a channel folder holds {CHANNEL_FILE})") from None
    labels = []
    values = {field: [] for field in CATEGORICAL_FIELDS}
    with handle:
        reader = csv.reader(_counted(handle, on_bytes) if on_bytes else handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: empty file, expected the header {','.join(COLUMNS)}")
            header = [name.strip() for name in header]
            missing = [name for name in COLUMNS if name not in header]
            extra = [name for name in header if name not in COLUMNS]
            if missing or extra or len(set(header)) != len(header):
                problems = ([f"missing column {', '.join(missing)}"] if missing else []) + (
                    [f"unexpected column {', '.join(extra)}"] if extra else []) + (
                    ["a column repeats"] if len(set(header)) != len(header) else [])
                raise DataError(f"{path}:1: {'; '.join(problems)} (the header must name {','.join(COLUMNS)})")
            position = {name: header.index(name) for name in COLUMNS}
            label_at = position[LABEL]
            targets = [(values[field], position[field]) for field in CATEGORICAL_FIELDS]
            width = len(header)
            for fields in reader:
                if len(fields) != width:
                    if fields == [] or fields == [""]:
                        continue  # a blank line
                    short = header[len(fields)] if len(fields) < width else None
                    where = f"field {short}: missing" if short else f"{len(fields)} fields, the header has {width}"
                    raise DataError(f"{path}:{reader.line_num}: {where}")
                label = fields[label_at]
                if label == "1":
                    labels.append(1.0)
                elif label == "0":
                    labels.append(0.0)
                else:
                    raise DataError(f"{path}:{reader.line_num}: field {LABEL}: {label[:40]!r} is not 0 or 1")
                for target, at in targets:
                    target.append(fields[at])
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text (after line {reader.line_num})") from None
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: {exc}") from None
    if not labels:
        raise DataError(f"{path}: no rows after the header")
    buckets = {field: hash_column(field, values.pop(field)) for field in CATEGORICAL_FIELDS}
    return Rows(np.asarray(labels, dtype=np.float32), buckets, path)


def build_vocabulary(rows: Rows, crosses, min_count: int) -> tuple[dict, dict]:
    """The manifest's feature part and the keys per column: base fields first (the factorization
    machine's columns), then the crosses; a key gets a row when it occurs at least min_count times."""
    columns, keys, offset = [], {}, 0
    specs = [(field, (field,)) for field in CATEGORICAL_FIELDS] + [(f"{a}*{b}", (a, b)) for a, b in crosses]
    for name, fields in specs:
        if len(fields) == 1:
            column_keys = rows.buckets[fields[0]]
        else:
            column_keys = cross_key(rows.buckets[fields[0]], rows.buckets[fields[1]], BUCKETS[fields[1]])
        unique, counts = np.unique(column_keys, return_counts=True)
        kept = unique[(counts >= min_count) & (unique >= 0)]
        keys[name] = kept
        columns.append({"name": name, "fields": list(fields), "rows": len(kept) + 1, "offset": offset})
        offset += len(kept) + 1
    manifest = {
        "format": FORMAT,
        "label": LABEL,
        "fields": list(CATEGORICAL_FIELDS),
        "request_groups": {group: list(fields) for group, fields in REQUEST_GROUPS.items()},
        "hash": {"function": "blake2b, 8-byte digest keyed by the field name, of the UTF-8 value; "
                             "little-endian integer mod the field's buckets; crosses: left * right_buckets + right",
                 "buckets": {field: BUCKETS[field] for field in CATEGORICAL_FIELDS}},
        "min_count": min_count,
        "columns": columns,
        "factor_columns": len(CATEGORICAL_FIELDS),
    }
    return manifest, keys
