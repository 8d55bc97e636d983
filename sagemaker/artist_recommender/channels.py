"""Training channels from `npm run data:generate` output, without a database.

    python -m artist_recommender.channels --raw DATA_DIR --out DIR [--validation-days N] [--k 10] [--quiet]

DATA_DIR is what the generator writes: raw/YYYY/MM/DD/HH/*.gz (gzip JSON lines, one object per
hour, as Firehose delivers events) and accounts.csv. DIR receives the files the ETL's snapshot
step (lambda/snapshot/export.ts) exports once the same events are in PostgreSQL:

  DIR/train/interactions.csv       user_id,item_id,weight,ts
  DIR/train/users.csv              user_id,age_group,location (k-anonymous)
  DIR/train/feedback.csv           user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts
  DIR/validation/interactions.csv  user_id,item_id,weight,ts
  DIR/validation/feedback.csv      (as train/feedback.csv)
  DIR/manifest.json                cutoff, k, rows/bytes/sha256 of each file, suppressedUsers,
                                   unmatchedFeedback (counts by reason)

so that `recommender:train-local --train DIR/train --validation DIR/validation` trains on it.
The pipeline's rules, step by step:
  events    every non-blank line of every object, in key order, is checked as the event transform
            checks it (lambda/event-transform/stored-event.ts): a `recommendation` or `feedback`
            line by the stored contract, any other as an interaction; a bad line is counted by
            reason and left out; a repeat keeps its first occurrence, by its table's primary key
            (a served list's request_id, else the event_id)
  accounts  each accounts.csv row is checked as the accounts import checks it; a bad row or a
            repeated user_id is left out, and more than 1% bad rows fails the run, as the import does
  credit    a click, play or like of an artist credits that artist, of a song each of its
            artist_ids, with weight 1, 2 or 3 (sql event_weight); impressions credit nothing
  split     end = the UTC midnight after the newest raw partition; cutoff = end - N days; train =
            pairs credited before the cutoff (weights summed, latest ts); validation = pairs
            credited at or after it, less every pair that train holds
  users     generalise_locations(k, cutoff date) of sql/migrations/003_privacy_functions.sql over
            the users of either file: location generalised city -> state -> country -> unknown
            until each (age group, location) group has k users; users still below k are left out
  feedback  feedback_labels() of sql/migrations/006_feedback_labels.sql: one row per served item,
            clicked 1 when a feedback with clicked true or a click event on the same request and
            artist came at most 7 days after the list was served, else 0; train = items served
            before the cutoff, validation = at or after it; ordered by request_id, position.
            Feedback that labels no item is counted by reason (unmatched_feedback():
            unknown_request, unknown_item, expired_request)
"Now" for the timestamp checks is the end plus one hour: an ETL run just after the last object
landed, as e2e:local runs it. Rows are ordered by user_id, item_id in byte order (COLLATE "C"), so
the same input gives byte-identical files. Exit 2 when the input is unusable, 0 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import re
import sys
import unicodedata
import zlib
from collections import Counter
from datetime import date, datetime, timezone

from common.cli import CliError, Parser, need_dir, run
from common.progress import Progress, choose

PROG = "recommender:channels"
# The command that makes a channel; named by every tool that wants one and finds none.
MAKE_COMMAND = "npm run recommender:channels -- --raw DATA_DIR --out DIR"
DAY_MS = 86_400_000
MAX_LINE_BYTES = 65_536  # the transform's MAX_LINE_BYTES default
MAX_AGE_MS = 365 * DAY_MS  # MAX_EVENT_AGE_DAYS
MAX_FUTURE_SKEW_MS = 300_000  # MAX_FUTURE_SKEW_SECONDS
MAX_BAD_ACCOUNT_FRACTION = 0.01  # DEFAULT_IMPORT_OPTIONS.maxBadFraction
DEFAULT_K = 10  # the snapshot Lambda's K_ANONYMITY default
EVENT_WEIGHT = {"click": 1, "play": 2, "like": 3}
EVENT_TYPES = ("impression", "click", "play", "like")
SYSTEM_EVENT_TYPES = ("recommendation", "feedback")
RECOMMENDATION_SOURCES = ("cache", "model", "fallback")
MAX_RECOMMENDED_ITEMS = 100
# The identifier fields of the service's kinds, in the stored contract's order.
RECOMMENDATION_ID_FIELDS = ("event_id", "request_id", "user_id", "variant", "model_version")
FEEDBACK_ID_FIELDS = ("event_id", "request_id", "user_id", "artist_id")
FEEDBACK_EVENT_ID = re.compile(r"fb-[0-9a-f]{64}\Z")
FEEDBACK_WINDOW_MS = 7 * DAY_MS  # feedback_window() of sql/migrations/006_feedback_labels.sql
UNMATCHED_REASONS = ("unknown_request", "unknown_item", "expired_request")
FEEDBACK_HEADER = ("user_id", "item_id", "request_id", "position", "shown_score", "variant", "model_version",
                   "clicked", "ts")
MAX_SAFE_INTEGER = 2 ** 53 - 1
ITEM_TYPES = ("artist", "song")
ID_FIELDS = ("event_id", "user_id", "item_id", "request_id", "variant")
ACCOUNT_COLUMNS = ("user_id", "date_of_birth", "city", "state", "country", "created_at")
PARTITION = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+\.gz\Z")

# --- the event contract (lambda/events/schema.ts) ---------------------------------------------
MAX_ID_LENGTH = 128
MAX_LINKED_IDS = 100
# JavaScript's \s and String.prototype.trim(): what the TypeScript checks treat as whitespace.
JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000\ufeff"
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\Z")
# Controls, DEL, C1, U+FFFD and surrogates (json.loads leaves an unpaired \\ud800 escape as one).
FORBIDDEN_ID_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")
ISO_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)\Z")


def identifier_problem(value: str) -> str | None:
    if len(value) <= MAX_ID_LENGTH and PLAIN_ID.match(value):
        return None
    if not value:
        return "is empty"
    if FORBIDDEN_ID_CHAR.search(value):
        return "holds a forbidden character"
    if len(value) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    if value[0] in JS_SPACE or value[-1] in JS_SPACE:
        return "starts or ends with whitespace"
    if not any(unicodedata.category(c)[0] in "LN" for c in value):
        return "has no letter or digit"
    return None


def iso_epoch_ms(value: str) -> int | None:
    """Epoch ms of an ISO-8601 timestamp with a zone designator (schema.ts parseIsoTimestamp)."""
    match = ISO_TIMESTAMP.match(value.strip(JS_SPACE))
    if not match:
        return None
    y, mo, d, h, mi, s, frac, zone = match.groups()
    offset = 0
    if zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        hh, mm = int(digits[:2]), int(digits[2:4] or 0)
        if hh > 23 or mm > 59:
            return None
        offset = (hh * 60 + mm) * (1 if zone[0] == "+" else -1)
    try:
        # Year 0 is valid ISO but not a Python date; it is far past the age limit either way.
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=timezone.utc)
    except ValueError:
        return None
    ms = int(((frac or "") + "000")[:3])
    return int(local.timestamp()) * 1000 + ms - offset * 60_000


def iso_ms(epoch_ms: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ`, as toISOString() and the snapshot's to_char write it."""
    stamp = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{epoch_ms % 1000:03d}Z"


def _id(event: dict, field: str) -> str | tuple[str, str]:
    value = event.get(field)
    if value is None:
        return ("missing_field", field)
    if not isinstance(value, str):
        return ("wrong_type", field)
    return value if identifier_problem(value) is None else ("invalid_id", field)


def _enum(event: dict, field: str, values: tuple[str, ...], reason: str) -> str | tuple[str, str]:
    value = event.get(field)
    if value is None:
        return ("missing_field", field)
    if not isinstance(value, str):
        return ("wrong_type", field)
    if value in values:
        return value
    folded = value.strip(JS_SPACE).lower() if len(value) <= 64 else ""
    return folded if folded in values else (reason, field)


def _id_list(event: dict, field: str) -> list[str] | tuple[str, str]:
    value = event.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        return ("wrong_type", field)
    if len(value) > MAX_LINKED_IDS:
        return ("too_many_ids", field)
    ids: list[str] = []
    for entry in value:
        checked = _id({"v": entry}, "v")
        if isinstance(checked, tuple):
            return (checked[0], field)
        if checked not in ids:
            ids.append(checked)
    return ids


def validate_event(event, now_ms: int):
    """(reason, None) for a rejected event, else (None, (event_id, user_id, event_type, item_type,
    item_id, artist_ids, ts_ms)). Checks run in the contract's order, as validateEvent's do."""
    if not isinstance(event, dict):
        return "not_an_object", None
    ids = {}
    for field in ID_FIELDS:
        checked = _id(event, field)
        if isinstance(checked, tuple):
            return checked[0], None
        ids[field] = checked
    event_type = _enum(event, "event_type", EVENT_TYPES, "unknown_event_type")
    if isinstance(event_type, tuple):
        return event_type[0], None
    item_type = _enum(event, "item_type", ITEM_TYPES, "unknown_item_type")
    if isinstance(item_type, tuple):
        return item_type[0], None
    artist_ids = _id_list(event, "artist_ids")
    if isinstance(artist_ids, tuple):
        return artist_ids[0], None
    song_ids = _id_list(event, "song_ids")
    if isinstance(song_ids, tuple):
        return song_ids[0], None
    ts = event.get("ts")
    if ts is None:
        return "missing_field", None
    if not isinstance(ts, str):
        return "wrong_type", None
    epoch = iso_epoch_ms(ts) if len(ts) <= 64 else None
    if epoch is None:
        return "invalid_timestamp", None
    if epoch > now_ms + MAX_FUTURE_SKEW_MS:
        return "future_timestamp", None
    if epoch < now_ms - MAX_AGE_MS:
        return "ancient_timestamp", None
    return None, (ids["event_id"], ids["user_id"], event_type, item_type, ids["item_id"], artist_ids, epoch,
                  ids["request_id"])


def _timestamp(event: dict, now_ms: int) -> int | tuple[str, str]:
    ts = event.get("ts")
    if ts is None:
        return ("missing_field", "ts")
    if not isinstance(ts, str):
        return ("wrong_type", "ts")
    epoch = iso_epoch_ms(ts) if len(ts) <= 64 else None
    if epoch is None:
        return ("invalid_timestamp", "ts")
    if epoch > now_ms + MAX_FUTURE_SKEW_MS:
        return ("future_timestamp", "ts")
    if epoch < now_ms - MAX_AGE_MS:
        return ("ancient_timestamp", "ts")
    return epoch


def _number(value, integer: bool) -> str | None:
    """None when `value` is a JSON number (an integer if asked) as zod's z.number() / z.int() take it;
    else the reason. JSON true/false are not numbers, though Python's bool is an int."""
    if value is None:
        return "missing_field"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        return "wrong_type"
    if integer and (value != int(value) or abs(value) > MAX_SAFE_INTEGER):
        return "wrong_type"
    return None


def _items(event: dict) -> list | str:
    """The served items [(artist_id, position, score)], or the first reason: each item's fields in
    order (artist_id, position, score), then the list's length, then positions 1, 2, 3..."""
    items = event.get("items")
    if items is None:
        return "missing_field"
    if not isinstance(items, list):
        return "wrong_type"
    out = []
    for item in items:
        if item is None:
            return "missing_field"
        if not isinstance(item, dict):
            return "wrong_type"
        artist = _id(item, "artist_id")
        if isinstance(artist, tuple):
            return artist[0]
        position, score = item.get("position"), item.get("score")
        problem = _number(position, integer=True)
        if problem:
            return problem
        if position < 1:
            return "invalid_value"
        problem = _number(score, integer=False)
        if problem:
            return problem
        if not -1 <= score <= 1:
            return "invalid_value"
        out.append((artist, int(position), float(score)))
    if not 1 <= len(out) <= MAX_RECOMMENDED_ITEMS:
        return "invalid_value"
    if any(position != i + 1 for i, (_, position, _) in enumerate(out)):
        return "invalid_position"
    return out


def system_kind(value) -> str | None:
    """'recommendation' or 'feedback' when a decoded line claims a kind only the service writes."""
    if not isinstance(value, dict):
        return None
    kind = value.get("event_type")
    if not isinstance(kind, str) or len(kind) > 64:
        return None
    folded = kind if kind in SYSTEM_EVENT_TYPES else kind.strip(JS_SPACE).lower()
    return folded if folded in SYSTEM_EVENT_TYPES else None


def validate_system_event(event: dict, kind: str, now_ms: int):
    """(reason, None) or (None, row) for a `recommendation` or `feedback` line, checked in the stored
    contract's field order (lib/designs/artist-recommender/contracts/events.ts). A recommendation row is
    (event_id, request_id, user_id, variant, model_version, source, items, ts_ms), a feedback row
    (event_id, request_id, user_id, artist_id, clicked, variant | None, ts_ms)."""
    if kind == "recommendation":
        ids = {}
        for field in RECOMMENDATION_ID_FIELDS:
            checked = _id(event, field)
            if isinstance(checked, tuple):
                return checked[0], None
            ids[field] = checked
        source = _enum(event, "source", RECOMMENDATION_SOURCES, "invalid_value")
        if isinstance(source, tuple):
            return source[0], None
        items = _items(event)
        if isinstance(items, str):
            return items, None
        ts = _timestamp(event, now_ms)
        if isinstance(ts, tuple):
            return ts[0], None
        return None, (ids["event_id"], ids["request_id"], ids["user_id"], ids["variant"], ids["model_version"],
                      source, items, ts)
    ids = {}
    for field in FEEDBACK_ID_FIELDS:
        checked = _id(event, field)
        if isinstance(checked, tuple):
            return checked[0], None
        if field == "event_id" and not FEEDBACK_EVENT_ID.match(checked):
            return "invalid_id", None
        ids[field] = checked
    clicked = event.get("clicked")
    if clicked is None:
        return "missing_field", None
    if not isinstance(clicked, bool):
        return "wrong_type", None
    variant = None
    if event.get("variant") is not None:
        variant = _id(event, "variant")
        if isinstance(variant, tuple):
            return variant[0], None
    ts = _timestamp(event, now_ms)
    if isinstance(ts, tuple):
        return ts[0], None
    return None, (ids["event_id"], ids["request_id"], ids["user_id"], ids["artist_id"], clicked, variant, ts)


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")  # JSON.parse refuses NaN and Infinity; so must this


# The contract fields of an event (lambda/events/schema.ts EVENT_FIELDS): one named twice is refused
# as `repeated_field`, since which value is meant cannot be told.
EVENT_FIELDS = frozenset(
    ("event_id", "user_id", "item_id", "request_id", "variant", "event_type", "item_type", "ts",
     "artist_ids", "song_ids")
)
# A `recommendation` or `feedback` line is checked against every field of every stored kind
# (STORED_EVENT_CONTRACT's fields).
STORED_EVENT_FIELDS = EVENT_FIELDS | frozenset(("model_version", "source", "items", "artist_id", "clicked"))


class _Pairs(dict):
    """A JSON object that remembers which of its keys appeared more than once."""

    repeated: frozenset = frozenset()


def _object_pairs(pairs):
    obj = _Pairs(pairs)
    if len(obj) < len(pairs):
        seen, repeated = set(), set()
        for key, _ in pairs:
            (repeated if key in seen else seen).add(key)
        obj.repeated = frozenset(repeated)
    return obj


def object_lines(data: bytes):
    """The lines of one object as the transform's splitter cuts them: LF, CRLF or a lone CR ends a
    line and a leading BOM is dropped. Yields bytes, blank lines included."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    yield from re.split(rb"\r\n|\r|\n", data)


# --- raw objects ------------------------------------------------------------------------------
def raw_objects(data_dir: str) -> list[tuple[str, str]]:
    """(key relative to data_dir, hour partition 'YYYY/MM/DD/HH') of every .gz under raw/, in key
    order (the order e2e:local loads them, so the first copy of a repeated event wins alike)."""
    root = os.path.join(data_dir, "raw")
    if not os.path.isdir(root):
        raise CliError(f"--raw {data_dir}: no raw/ folder (expected `npm run data:generate` output)")
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".gz"):
                continue
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            match = PARTITION.match(relative)
            if not match:
                raise CliError(f"{os.path.join(root, relative)}: not under raw/YYYY/MM/DD/HH/ as Firehose writes")
            found.append(("raw/" + relative, "/".join(match.groups())))
    found.sort()
    if not found:
        raise CliError(f"{root}: no .gz objects (expected `npm run data:generate` output)")
    return found


def day_start_ms(partition: str) -> int:
    """Epoch ms of the UTC midnight that starts an hour partition's day."""
    y, mo, d, _ = (int(p) for p in partition.split("/"))
    try:
        day = date(y, mo, d)
    except ValueError:
        raise CliError(f"raw partition {partition}: not a date") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1000


def read_object(path: str) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise CliError(f"{path}: not a complete gzip file ({exc or type(exc).__name__})") from None


class Events:
    """Clean lines as the events, served_items and feedback tables would hold them, with the
    transform's counts."""

    def __init__(self, now_ms: int):
        self.now_ms = now_ms
        # One set per table: each table's primary key is its dedupe (see the transform's Deduper).
        self.seen: dict[str, set[str]] = {"events": set(), "served_items": set(), "feedback": set()}
        self.credits: list[tuple[str, str, int, int]] = []  # user, artist, weight, ts_ms
        # request_id, position, user, artist, variant, model_version, source, score, ts_ms
        self.served: list[tuple] = []
        # event_id, request_id, user, artist, clicked, variant, ts_ms
        self.feedback: list[tuple] = []
        self.clicks: dict[tuple[str, str], list[int]] = {}  # (request_id, item_id) -> click ts_ms
        self.counts = Counter()
        self.rejected = Counter()

    def _first(self, table: str, key: str) -> bool:
        if key in self.seen[table]:
            self.counts["duplicates"] += 1
            return False
        self.seen[table].add(key)
        self.counts["events"] += 1
        return True

    def _add_system(self, value: dict, kind: str) -> None:
        reason, row = validate_system_event(value, kind, self.now_ms)
        if reason:
            self.rejected[reason] += 1
            return
        if kind == "recommendation":
            _, request, user, variant, model_version, source, items, ts = row
            if self._first("served_items", request):
                self.counts["recommendations"] += 1
                for artist, position, score in items:
                    self.served.append((request, position, user, artist, variant, model_version, source, score, ts))
        elif self._first("feedback", row[0]):
            self.counts["feedback"] += 1
            self.feedback.append(row)

    def add_object(self, data: bytes) -> None:
        # The splitter's order: size first, then UTF-8, then blank lines (separators, not records).
        for raw in object_lines(data):
            if len(raw) > MAX_LINE_BYTES:
                self.counts["lines"] += 1
                self.rejected["oversized_line"] += 1
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.counts["lines"] += 1
                self.rejected["invalid_utf8"] += 1
                continue
            if not text or (ord(text[0]) <= 0x20 and not text.strip(JS_SPACE)):
                continue
            self.counts["lines"] += 1
            try:
                value = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_object_pairs)
            except ValueError:
                self.rejected["invalid_json"] += 1
                continue
            kind = system_kind(value)
            if isinstance(value, _Pairs) and value.repeated & (STORED_EVENT_FIELDS if kind else EVENT_FIELDS):
                self.rejected["repeated_field"] += 1
                continue
            if kind:
                self._add_system(value, kind)
                continue
            reason, event = validate_event(value, self.now_ms)
            if reason:
                self.rejected[reason] += 1
                continue
            event_id, user, event_type, item_type, item_id, artist_ids, ts, request = event
            if not self._first("events", event_id):
                continue
            if event_type == "click":
                self.clicks.setdefault((request, item_id), []).append(ts)
            weight = EVENT_WEIGHT.get(event_type)
            if weight is None:
                continue
            for artist in ([item_id] if item_type == "artist" else artist_ids):
                self.credits.append((user, artist, weight, ts))


# --- accounts (lambda/accounts-import/import.ts parseAccount) --------------------------------
ACCOUNT_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                               r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)\Z")
CONTROL = re.compile("[\x00-\x1f\x7f]")


def parse_account(fields: list[str], now_ms: int):
    """(reason, None) or (None, (user_id, date_of_birth | None, city, state, country))."""
    if len(fields) != len(ACCOUNT_COLUMNS):
        return f"{len(fields)} fields, expected {len(ACCOUNT_COLUMNS)}", None
    user, raw_dob, *places, created = fields
    problem = identifier_problem(user)
    if problem:
        return f"user_id {problem}", None
    dob = None
    if raw_dob.strip(JS_SPACE):
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", raw_dob.strip(JS_SPACE))
        try:
            dob = date(*(int(g) for g in match.groups())) if match else None
        except ValueError:
            dob = None
        if dob is None:
            return "date_of_birth is not a YYYY-MM-DD date", None
        born_ms = int(datetime(dob.year, dob.month, dob.day, tzinfo=timezone.utc).timestamp()) * 1000
        if dob.year < 1900 or born_ms > now_ms:
            return "date_of_birth is out of range", None
    location = []
    for name, value in zip(("city", "state", "country"), places):
        value = value.strip(JS_SPACE)
        if len(value) > 200:
            return f"{name} is longer than 200 characters", None
        if CONTROL.search(value):
            return f"{name} holds a control character", None
        location.append(value or None)
    created = created.strip(JS_SPACE)
    created_ms = iso_epoch_ms(created) if ACCOUNT_TIMESTAMP.match(created) else None
    if created_ms is None:
        return "created_at is not an ISO-8601 timestamp with a zone", None
    if created_ms > now_ms + DAY_MS:
        return "created_at is in the future", None
    return None, (user, dob, *location)


def read_accounts(path: str, now_ms: int) -> tuple[dict, int, int]:
    """({user_id: (dob, city, state, country)}, rows, bad rows); first row of a user_id wins."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CliError(f"{path}: not found (`npm run data:generate` writes it beside raw/)") from None
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from None
    accounts: dict[str, tuple] = {}
    rows = bad = 0
    samples = []
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise CliError(f"{path}: empty file, expected header {','.join(ACCOUNT_COLUMNS)}")
            if [h.strip().lower() for h in header] != list(ACCOUNT_COLUMNS):
                raise CliError(f"{path}:1: header is {','.join(header)!r}, expected {','.join(ACCOUNT_COLUMNS)}")
            for fields in reader:
                if not fields or fields == [""]:
                    continue
                rows += 1
                reason, account = parse_account(fields, now_ms)
                if reason is None and account[0] in accounts:
                    reason = f"user_id {account[0]!r} repeats an earlier row"
                if reason:
                    bad += 1
                    if len(samples) < 3:
                        samples.append(f"line {reader.line_num}: {reason}")
                    continue
                accounts[account[0]] = account[1:]
        except UnicodeDecodeError:
            raise CliError(f"{path}: not UTF-8 text (after line {reader.line_num})") from None
        except csv.Error as exc:
            raise CliError(f"{path}:{reader.line_num}: {exc}") from None
    if bad > MAX_BAD_ACCOUNT_FRACTION * rows:
        raise CliError(f"{path}: {bad} of {rows} rows are bad (the import accepts at most "
                       f"{MAX_BAD_ACCOUNT_FRACTION:.0%}); {'; '.join(samples)}")
    return accounts, rows, bad


# --- privacy functions (sql/migrations/003_privacy_functions.sql) -----------------------------
def age_group(dob: date | None, as_of: date) -> str:
    if dob is None or dob > as_of:
        return "unknown"
    years = as_of.year - dob.year - ((as_of.month, as_of.day) < (dob.month, dob.day))
    for bound, label in ((18, "under-18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"),
                         (65, "55-64"), (120, "65+")):
        if years < bound:
            return label
    return "unknown"


def generalise_locations(k: int, as_of: date, accounts: dict, population) -> dict[str, tuple[str, str]]:
    """{user_id: (age_group, location)}: every returned (age_group, location) group has >= k users."""

    def norm(value):
        # nullif(lower(btrim(v)), ''); the import stores values already trimmed.
        return (value or "").strip(" ").lower() or None

    people = []
    for user in population:
        if user not in accounts:
            continue
        dob, city, state, country = accounts[user]
        country, state, city = norm(country), norm(state), norm(city)
        people.append({
            "user": user, "age": age_group(dob, as_of),
            "city": f"{country}/{state}/{city}" if country and state and city else None,
            "state": f"{country}/{state}" if country and state else None,
            "country": country, "loc": None,
        })

    def sizes(key):
        counts = Counter(key(p) for p in people)
        return lambda p: counts[key(p)]

    at_city = sizes(lambda p: (p["age"], p["city"]))
    for p in people:
        if p["city"] is not None and at_city(p) >= k:
            p["loc"] = p["city"]
    # Each coarser level groups only the users still unplaced (`loc IS NULL` in the window).
    for level in ("state", "country"):
        grouped = sizes(lambda p, level=level: (p["age"], p[level], p["loc"] is None))
        placed = [p for p in people if p["loc"] is None and p[level] is not None and grouped(p) >= k]
        for p in placed:
            p["loc"] = p[level]
    for p in people:
        p["loc"] = p["loc"] or "unknown"
    unknown = sizes(lambda p: (p["age"], p["loc"]))
    for p in [p for p in people if p["loc"] == "unknown" and unknown(p) < k]:
        p["age"] = "unknown"
    final = sizes(lambda p: (p["age"], p["loc"]))
    return {p["user"]: (p["age"], p["loc"]) for p in people if final(p) >= k}


# --- snapshot ---------------------------------------------------------------------------------
def pairs(credits) -> dict[tuple[str, str], list[int]]:
    """(user, artist) -> [summed weight, latest ts]: the snapshot's GROUP BY user_id, item_id."""
    out: dict[tuple[str, str], list[int]] = {}
    for user, artist, weight, ts in credits:
        entry = out.setdefault((user, artist), [0, ts])
        entry[0] += weight
        entry[1] = max(entry[1], ts)
    return out


def feedback_labels(events: Events) -> list[tuple]:
    """feedback_labels() of sql/migrations/006_feedback_labels.sql over every served item: rows
    (request_id, position, user, artist, variant, model_version, source, score, clicked, ts_ms), clicked
    1 when a clicked feedback or a click event on the same request and artist came at most
    FEEDBACK_WINDOW_MS after the list was served."""
    clicked: dict[tuple[str, str], list[int]] = {key: list(times) for key, times in events.clicks.items()}
    for _, request, _, artist, was_clicked, _, ts in events.feedback:
        if was_clicked:
            clicked.setdefault((request, artist), []).append(ts)
    rows = []
    for request, position, user, artist, variant, model_version, source, score, ts in events.served:
        label = any(t <= ts + FEEDBACK_WINDOW_MS for t in clicked.get((request, artist), ()))
        rows.append((request, position, user, artist, variant, model_version, source, score, int(label), ts))
    return rows


def unmatched_feedback(events: Events) -> dict[str, int]:
    """unmatched_feedback() of sql/migrations/006_feedback_labels.sql, counted by reason."""
    lists: dict[str, list[tuple[str, int]]] = {}
    for request, _, _, artist, _, _, _, _, ts in events.served:
        lists.setdefault(request, []).append((artist, ts))
    counts = dict.fromkeys(UNMATCHED_REASONS, 0)
    for _, request, _, artist, _, _, ts in events.feedback:
        items = lists.get(request)
        if not items:
            counts["unknown_request"] += 1
        elif not any(a == artist for a, _ in items):
            counts["unknown_item"] += 1
        elif not any(a == artist and ts <= served + FEEDBACK_WINDOW_MS for a, served in items):
            counts["expired_request"] += 1
    return counts


def pg_float(value: float) -> str:
    """A double as PostgreSQL's float8 output writes it (extra_float_digits = 1): the shortest text
    that reads back to the same value, like repr, but without a trailing '.0' and with no negative
    zero (the transform sends -0 as JavaScript writes it, '0')."""
    if value == 0:
        return "0"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def write_csv(path: str, header, rows) -> dict:
    """Writes rows as COPY ... WITH (FORMAT csv, HEADER true) would; returns the manifest entry."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"rows": count, "bytes": size, "sha256": digest.hexdigest()}


def build(data_dir: str, out: str, validation_days: int | None = None, k: int = DEFAULT_K,
          progress: Progress | None = None) -> tuple[dict, dict]:
    """Writes the channels; returns (manifest, counts of lines, events, repeats and rejections)."""
    progress = progress or Progress("channels", "off")
    objects = raw_objects(data_dir)
    partitions = [partition for _, partition in objects]
    end = day_start_ms(max(partitions)) + DAY_MS  # the midnight after the newest partition
    days = (end - day_start_ms(min(partitions))) // DAY_MS
    if validation_days is None:
        validation_days = max(1, int(days / 5 + 0.5))  # e2e:local: a fifth of the days, at least one
    cutoff = end - validation_days * DAY_MS
    now = end + 3_600_000
    # Accounts first and without a progress line: a bad accounts file is then the only line printed.
    accounts, account_rows, bad_accounts = read_accounts(os.path.join(data_dir, "accounts.csv"), now)
    events = Events(now)
    with progress.stage("read raw events", total=len(objects), unit="object", every=True) as stage:
        for key, _ in objects:
            events.add_object(read_object(os.path.join(data_dir, key)))
            stage.postfix(f"{events.counts['lines']:,} lines")
            stage.update()
        rejected = ", ".join(f"{reason} {n}" for reason, n in events.rejected.most_common())
        stage.summary = (f"{events.counts['lines']:,} lines: {events.counts['events']:,} events, "
                         f"{events.counts['duplicates']:,} repeats dropped, "
                         f"{sum(events.rejected.values()):,} rejected ({rejected or 'none'})")
    with progress.stage("split and write") as stage:
        train = pairs(c for c in events.credits if c[3] < cutoff)
        later = pairs(c for c in events.credits if c[3] >= cutoff)
        validation = {key: value for key, value in later.items() if key not in train}
        if not train:
            raise CliError(f"--raw {data_dir}: no events before the cutoff {iso_ms(cutoff)} "
                           f"({days} days of data, --validation-days {validation_days})")
        population = {user for user, _ in train} | {user for user, _ in validation}
        users = generalise_locations(k, datetime.fromtimestamp(cutoff / 1000, tz=timezone.utc).date(), accounts,
                                     population)
        header = ("user_id", "item_id", "weight", "ts")

        def rows(table):
            return ((user, artist, weight, iso_ms(ts)) for (user, artist), (weight, ts) in sorted(table.items()))

        labels = sorted(feedback_labels(events), key=lambda row: (row[0], row[1]))

        def feedback_rows(served_in_train: bool):
            for request, position, user, artist, variant, model_version, _, score, clicked, ts in labels:
                if (ts < cutoff) == served_in_train:
                    yield user, artist, request, position, pg_float(score), variant, model_version, clicked, iso_ms(ts)

        files = {
            "train/interactions.csv": write_csv(os.path.join(out, "train", "interactions.csv"), header, rows(train)),
            "validation/interactions.csv": write_csv(os.path.join(out, "validation", "interactions.csv"), header,
                                                     rows(validation)),
            "train/users.csv": write_csv(os.path.join(out, "train", "users.csv"), ("user_id", "age_group", "location"),
                                         ((u, *users[u]) for u in sorted(users))),
            "train/feedback.csv": write_csv(os.path.join(out, "train", "feedback.csv"), FEEDBACK_HEADER,
                                            feedback_rows(True)),
            "validation/feedback.csv": write_csv(os.path.join(out, "validation", "feedback.csv"), FEEDBACK_HEADER,
                                                 feedback_rows(False)),
        }
        manifest = {
            "cutoff": iso_ms(cutoff),
            "validationEnd": None,
            "k": k,
            "files": files,
            "suppressedUsers": sum(1 for u in population if u in accounts) - len(users),
            "unmatchedFeedback": unmatched_feedback(events),
        }
        with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        unmatched = ", ".join(f"{reason} {n}" for reason, n in manifest["unmatchedFeedback"].items())
        stage.summary = (f"cutoff {manifest['cutoff']}: train {len(train):,} pairs, validation "
                         f"{len(validation):,} pairs, feedback {len(labels):,} served items "
                         f"({sum(row[8] for row in labels):,} clicked; unmatched feedback: {unmatched}), "
                         f"users.csv {len(users):,} users "
                         f"({manifest['suppressedUsers']} below k={k} left out; accounts.csv {account_rows:,} rows, "
                         f"{bad_accounts} bad)")
    counts = {"lines": events.counts["lines"], "events": events.counts["events"],
              "duplicates": events.counts["duplicates"], "rejected": dict(events.rejected),
              "recommendations": events.counts["recommendations"], "feedback": events.counts["feedback"]}
    return manifest, counts


def channel_problem(directory: str, flag: str) -> str | None:
    """Why `directory` is not a training channel, naming the command that makes one; None if it is."""
    path = os.path.join(directory, "interactions.csv")
    if os.path.isfile(path):
        return None
    if not os.path.exists(directory):
        return f"{flag} {directory}: no such folder; make a channel with `{MAKE_COMMAND}`"
    if not os.path.isdir(directory):
        return f"{flag} {directory}: not a folder"
    if os.path.isfile(os.path.join(directory, "train", "interactions.csv")):
        return (f"{flag} {directory}: holds channels, not a channel: pass --train {os.path.join(directory, 'train')}"
                f" --validation {os.path.join(directory, 'validation')}")
    if os.path.isdir(os.path.join(directory, "raw")):
        return (f"{flag} {directory}: raw events, not a channel: make one with "
                f"`npm run recommender:channels -- --raw {directory} --out DIR`")
    return f"{flag} {directory}: no interactions.csv; make a channel with `{MAKE_COMMAND}`"


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--raw", required=True, metavar="DATA_DIR",
                   help="`npm run data:generate` output (raw/, accounts.csv)")
    p.add_argument("--out", required=True, metavar="DIR", help="gets train/, validation/ and manifest.json")
    p.add_argument("--validation-days", type=int, help="days at the end that validate (default: a fifth, at least 1)")
    p.add_argument("--k", type=int, default=DEFAULT_K, help="k-anonymity of users.csv (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    if args.validation_days is not None and args.validation_days < 1:
        p.error("--validation-days must be at least 1")
    if args.k < 1:
        p.error("--k must be at least 1")
    need_dir(args.raw, "--raw")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CliError(f"--out {args.out}: exists and is not a folder")
    progress = Progress("channels", choose(args.quiet))
    manifest, _ = build(args.raw, args.out, args.validation_days, args.k, progress)
    rows = {name: entry["rows"] for name, entry in manifest["files"].items()}
    print(f"{PROG}: wrote {args.out}: train {rows['train/interactions.csv']} rows, validation "
          f"{rows['validation/interactions.csv']} rows, users {rows['train/users.csv']}, feedback "
          f"{rows['train/feedback.csv']} + {rows['validation/feedback.csv']} served items (cutoff "
          f"{manifest['cutoff']}); next: npm run recommender:train-local -- --train "
          f"{os.path.join(args.out, 'train')} --validation {os.path.join(args.out, 'validation')} --work DIR",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
