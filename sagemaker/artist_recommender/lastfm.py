"""Last.fm hetrec2011 benchmark data: the official split, checked against the protocol's md5s."""
from __future__ import annotations

import hashlib
import os

from .data import DataError
from .split import per_user_split

OFFICIAL_SEED = 42
INNER_SEED = 43
EXPECTED_MD5 = {
    "train": "8e1cefcba3070944d6cf3798fa36a558",
    "test": "d7e41e3478e9a961a39959d11f138335",
}


class ChecksumError(RuntimeError):
    """The computed split does not match the protocol: results would not be comparable."""


def read_user_artists(data_dir: str):
    """Rows (userID, artistID, weight-as-written) from user_artists.dat."""
    path = os.path.join(data_dir, "user_artists.dat")
    rows = []
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split("\t")
            if header != ["userID", "artistID", "weight"]:
                raise DataError(f"{path}:1: unexpected header {header}, expected userID, artistID, weight")
            for line_no, line in enumerate(handle, start=2):
                line = line.strip()
                if not line:
                    continue
                parts = line.split("\t")
                if len(parts) != 3:
                    raise DataError(f"{path}:{line_no}: expected 3 tab-separated fields")
                if not all(p.isascii() and p.isdigit() for p in parts[:2]):
                    raise DataError(f"{path}:{line_no}: userID and artistID must be integers")
                try:
                    float(parts[2])
                except ValueError:
                    raise DataError(f"{path}:{line_no}: field 'weight': {parts[2]!r} not a number") from None
                rows.append((parts[0], parts[1], parts[2]))
    except FileNotFoundError:
        raise DataError(f"{path}: not found (the hetrec2011-lastfm-2k files: see PROTOCOL.md)") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    return rows


def split_file_bytes(rows) -> bytes:
    """The protocol's canonical text: header, rows sorted by (userID, artistID), LF line ends."""
    ordered = sorted(rows, key=lambda r: (int(r[0]), int(r[1])))
    lines = ["userID\tartistID\tweight"] + [f"{u}\t{i}\t{w}" for u, i, w in ordered]
    return ("\n".join(lines) + "\n").encode()


def official_split(data_dir: str, seed: int = OFFICIAL_SEED, verify: bool = True):
    """Returns (train_rows, test_rows, md5s) with float weights; raises ChecksumError on mismatch."""
    rows = read_user_artists(data_dir)
    train, test = per_user_split(rows, seed)
    md5s = {
        "train": hashlib.md5(split_file_bytes(train)).hexdigest(),
        "test": hashlib.md5(split_file_bytes(test)).hexdigest(),
    }
    if verify and seed == OFFICIAL_SEED:
        for name, expected in EXPECTED_MD5.items():
            if md5s[name] != expected:
                raise ChecksumError(f"{name} split md5 {md5s[name]} != expected {expected}")
    as_float = lambda rs: [(u, i, float(w)) for u, i, w in rs]  # noqa: E731
    return as_float(train), as_float(test), md5s
