"""artist_recommender.channels: generated raw events -> the snapshot's channel format, by the ETL's rules."""
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from helpers import SOURCE_DIR, child_env
from artist_recommender import channels

REPO = os.path.dirname(SOURCE_DIR)
HEADER = "user_id,item_id,weight,ts\n"


def event(event_id, user, event_type, item, ts, item_type="artist", **extra):
    return json.dumps({"event_id": event_id, "user_id": user, "event_type": event_type, "item_type": item_type,
                       "item_id": item, "ts": ts, "request_id": "r1", "variant": "champion", **extra})


def put_object(root, partition, name, lines, newline="\n"):
    folder = root / "raw" / partition
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(gzip.compress((newline.join(lines) + newline).encode()))


ACCOUNTS = """user_id,date_of_birth,city,state,country,created_at
u1,1990-01-01,Berlin,be,de,2025-01-01T00:00:00Z
u2,1989-01-01, BERLIN ,be,de,2025-01-01T00:00:00Z
u3,1985-01-01,Munich,by,de,2025-01-01T00:00:00Z
u4,1984-01-01,Nuremberg,by,de,2025-01-01T00:00:00Z
u5,2000-01-01,Tokyo,13,jp,2025-01-01T00:00:00Z
u6,,,,,2025-01-01T00:00:00Z
"""


@pytest.fixture
def raw(tmp_path):
    """Three days of partitions (2026-01-01 .. 01-03): the last day validates with --validation-days 1."""
    put_object(tmp_path, "2026/01/01/10", "a.gz", [
        event("e1", "u1", "click", "a1", "2026-01-01T10:00:00.000Z"),
        event("e2", "u1", "like", "a1", "2026-01-01T11:05:00+01:00"),  # summed with e1; the later ts wins
        event("e3", "u2", "play", "s9", "2026-01-01T11:00:00Z", item_type="song", artist_ids=["a2", "a3", "a2"]),
        event("e4", "u2", "impression", "a4", "2026-01-01T11:00:00.000Z"),  # credits nothing
        "   ",  # a separator, not a line
        '{"event_id": "e5"',  # invalid_json
        event("e6", "u2", "purchase", "a4", "2026-01-01T11:00:00.000Z"),  # unknown_event_type
        event("e7", "u2", "click", "a4", "2026-01-06T11:00:00.000Z"),  # future_timestamp
        event(" e8", "u2", "click", "a4", "2026-01-01T11:00:00.000Z"),  # invalid_id
        event("e9", "u3", " Click ", "a5", "2026-01-02T09:00:00.000Z"),  # enumerations fold case and space
        event("e14", "u6", "click", "a1", "2026-01-02T09:00:00.000Z"),
        event("e15", "u7", "click", "a2", "2026-01-02T09:00:00.000Z"),  # no account
    ], newline="\r\n")
    put_object(tmp_path, "2026/01/03/05", "b.gz", [
        event("e1", "u1", "click", "a9", "2026-01-01T10:00:00.000Z"),  # a repeated event_id: the first wins
        event("e10", "u1", "click", "a1", "2026-01-03T05:00:00.000Z"),  # pair already in train
        event("e11", "u1", "play", "s1", "2026-01-03T06:00:00.000Z", item_type="song", artist_ids=["a6"]),
        event("e12", "u4", "like", "a7", "2026-01-03T07:00:00.000Z"),
        '{"event_id": "e13", "x": NaN}',  # JSON.parse refuses NaN: invalid_json
        # A contract field named twice: which value is meant cannot be told (repeated_field); a
        # repeated field the contract ignores is harmless.
        '{"event_id": "e16", "event_id": "e17", "user_id": "u1", "event_type": "click", "item_type": "artist", '
        '"item_id": "a1", "ts": "2026-01-03T08:00:00Z"}',
    ])
    put_object(tmp_path, "2026/01/03/23", "c.gz", [""])
    (tmp_path / "raw" / "README.txt").write_text("not an object")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    return tmp_path


def test_channels_follow_the_etl_rules(raw, tmp_path):
    out = tmp_path / "out"
    manifest, counts = channels.build(str(raw), str(out), validation_days=1, k=2)
    assert (out / "train" / "interactions.csv").read_text() == HEADER + (
        "u1,a1,4,2026-01-01T10:05:00.000Z\n"
        "u2,a2,2,2026-01-01T11:00:00.000Z\n"
        "u2,a3,2,2026-01-01T11:00:00.000Z\n"
        "u3,a5,1,2026-01-02T09:00:00.000Z\n"
        "u6,a1,1,2026-01-02T09:00:00.000Z\n"
        "u7,a2,1,2026-01-02T09:00:00.000Z\n")
    # u1's click on a1 in the validation days is left out: train holds the pair.
    assert (out / "validation" / "interactions.csv").read_text() == HEADER + (
        "u1,a6,2,2026-01-03T06:00:00.000Z\n"
        "u4,a7,3,2026-01-03T07:00:00.000Z\n")
    # k = 2: u1 and u2 share a city (after trim and lower-case), u3 and u4 only a state; u5 has no
    # events; u6 (no birth date, no location) is alone in (unknown, unknown) and left out; u7 has no account.
    assert (out / "train" / "users.csv").read_text() == (
        "user_id,age_group,location\n"
        "u1,35-44,de/be/berlin\nu2,35-44,de/be/berlin\nu3,35-44,de/by\nu4,35-44,de/by\n")
    assert manifest["cutoff"] == "2026-01-03T00:00:00.000Z" and manifest["suppressedUsers"] == 1
    assert manifest["files"]["train/interactions.csv"]["rows"] == 6
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert counts == {"lines": 17, "events": 10, "duplicates": 1,
                      "rejected": {"invalid_json": 2, "unknown_event_type": 1, "future_timestamp": 1, "invalid_id": 1,
                                   "repeated_field": 1},
                      "recommendations": 0, "feedback": 0}


def test_channels_read_events_by_the_event_contract():
    """channels mirrors the contract (lib/designs/artist-recommender/contracts/events.ts): its fields, the
    identifier fields and the order they are checked in (the first problem is the reason counted), the
    enumerations and the limits (the id length is the platform's, lambda/platform/events/fields.ts)."""
    contract = (Path(REPO) / "lib" / "designs" / "artist-recommender" / "contracts" / "events.ts").read_text()
    shape = re.search(r"export const InteractionEvent = z\.object\(\{\n(.*?)\n\}\);", contract, re.S).group(1)
    rules = re.findall(r"^  ([a-z_]+): (\w+)", shape, re.M)
    assert channels.EVENT_FIELDS == frozenset(name for name, _ in rules)
    assert channels.ID_FIELDS == tuple(name for name, rule in rules if rule == "Identifier")
    # validate_event checks the ids first, then event_type, item_type, the id lists and ts: the contract's order.
    assert [name for name, _ in rules] == [*channels.ID_FIELDS, "event_type", "item_type", "artist_ids", "song_ids",
                                           "ts"]

    def constant(source, name, pattern):
        return re.search(rf"export const {name} = {pattern};", source).group(1)

    def listed(name):
        return tuple(re.findall(r"'(\w+)'", constant(contract, name, r"\[(.*?)\] as const")))

    assert channels.EVENT_TYPES == listed("EVENT_TYPES") and channels.ITEM_TYPES == listed("ITEM_TYPES")
    assert channels.MAX_LINKED_IDS == int(constant(contract, "MAX_LINKED_IDS", r"(\d+)"))
    fields = (Path(REPO) / "lambda" / "platform" / "events" / "fields.ts").read_text()
    assert channels.MAX_ID_LENGTH == int(constant(fields, "MAX_ID_LENGTH", r"(\d+)"))


def test_channels_read_the_service_kinds_by_the_stored_contract():
    """A `recommendation` or `feedback` line is checked in the field order of its kind in the stored
    contract (RecommendationEvent, FeedbackEvent), against every field of every kind for repeats."""
    contract = (Path(REPO) / "lib" / "designs" / "artist-recommender" / "contracts" / "events.ts").read_text()

    def fields(name):
        shape = re.search(rf"export const {name} = z\.object\(\{{\n(.*?)\n\}}\);", contract, re.S).group(1)
        return [field for field in re.findall(r"^  ([a-z_]+):", shape, re.M)]

    assert fields("RecommendationEvent") == ["event_type", *channels.RECOMMENDATION_ID_FIELDS, "source", "items", "ts"]
    assert fields("RecommendedItem") == ["artist_id", "position", "score"]
    assert fields("FeedbackEvent") == ["event_type", *channels.FEEDBACK_ID_FIELDS, "clicked", "variant", "ts"]
    assert channels.STORED_EVENT_FIELDS == channels.EVENT_FIELDS | set(fields("RecommendationEvent")) | set(
        fields("FeedbackEvent"))
    assert re.search(r"MAX_RECOMMENDED_ITEMS = (\d+);", contract).group(1) == str(channels.MAX_RECOMMENDED_ITEMS)
    assert re.search(r"RECOMMENDATION_SOURCES = \[(.*?)\] as const", contract).group(1).replace("'", "").split(
        ", ") == list(channels.RECOMMENDATION_SOURCES)


def test_feedback_channel_labels_flags_and_split(tmp_path):
    """Served lists and feedback -> train/ and validation/feedback.csv, split by serving time."""
    def fb(request, artist, clicked, ts, **extra):
        return json.dumps({"event_type": "feedback", "event_id": "fb-" + hashlib.sha256(
            f"{request}\n{artist}\n{str(clicked).lower()}".encode()).hexdigest(), "request_id": request,
            "user_id": "u1", "artist_id": artist, "clicked": clicked, "ts": ts, **extra})

    def served(request, ts, artists, **extra):
        return json.dumps({"event_type": "recommendation", "event_id": request, "request_id": request,
                           "user_id": "u1", "variant": "champion", "model_version": "m1", "source": "cache",
                           "items": [{"artist_id": a, "position": i + 1, "score": s}
                                     for i, (a, s) in enumerate(artists)], "ts": ts, **extra})

    put_object(tmp_path, "2026/01/01/10", "a.gz", [
        event("e1", "u1", "click", "a1", "2026-01-01T10:00:00.000Z"),
        served("r1", "2026-01-01T10:00:00.000Z", [("a1", 0.5), ("a2", 1.0), ("a3", -0.0)]),
        served("r1", "2026-01-01T10:00:00.000Z", [("a9", 0.5)], event_id="r1-b"),  # same request: a repeat
        fb("r1", "a2", True, "2026-01-01T10:01:00.000Z"),
        fb("r1", "a2", True, "2026-01-01T10:01:00.000Z"),  # resent: a repeat
        fb("r1", "a7", True, "2026-01-01T10:01:00.000Z"),  # unknown_item
        fb("r0", "a1", False, "2026-01-01T10:01:00.000Z", variant=None),  # unknown_request
        json.dumps({"event_id": "c1", "user_id": "u1", "event_type": "click", "item_type": "artist", "item_id": "a3",
                    "ts": "2026-01-01T10:02:00.000Z", "request_id": "r1", "variant": "champion"}),
    ])
    put_object(tmp_path, "2026/01/03/01", "b.gz", [
        served("r2", "2026-01-03T01:00:00.000Z", [("a1", 0.25)], items=[{"artist_id": "a1", "position": 2,
                                                                          "score": 0.25}]),  # invalid_position
        served("r3", "2026-01-03T01:00:00.000Z", [("a4", 0.125)], event_type="Recommendation"),
        fb("r3", "a4", False, "2026-01-03T01:00:00.000Z"),
    ])
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    out = tmp_path / "out"
    manifest, counts = channels.build(str(tmp_path), str(out), validation_days=1, k=2)
    header = "user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts\n"
    assert (out / "train" / "feedback.csv").read_text() == header + (
        "u1,a1,r1,1,0.5,champion,m1,1,2026-01-01T10:00:00.000Z\n"  # e1, a click event of request r1
        "u1,a2,r1,2,1,champion,m1,1,2026-01-01T10:00:00.000Z\n"
        "u1,a3,r1,3,0,champion,m1,1,2026-01-01T10:00:00.000Z\n")
    assert (out / "validation" / "feedback.csv").read_text() == header + (
        "u1,a4,r3,1,0.125,champion,m1,0,2026-01-03T01:00:00.000Z\n")
    assert manifest["unmatchedFeedback"] == {"unknown_request": 1, "unknown_item": 1, "expired_request": 0}
    assert manifest["files"]["train/feedback.csv"]["rows"] == 3
    assert counts["rejected"] == {"invalid_position": 1} and counts["duplicates"] == 2
    assert counts["recommendations"] == 2 and counts["feedback"] == 4


def test_generalise_locations_widens_then_drops_age_then_suppresses():
    accounts = {
        "a": (date(1990, 1, 1), "berlin", "be", "de"),
        "b": (date(1989, 1, 1), "munich", "by", "de"),
        "c": (date(2000, 1, 1), "buffalo", "ny", "us"),
        "d": (date(1975, 1, 1), "fresno", "ca", "us"),
        "e": (None, None, None, None),
        "f": (date(1960, 1, 1), "reykjavik", "1", "is"),
    }
    got = channels.generalise_locations(2, date(2026, 1, 3), accounts, ["a", "b", "c", "d", "e"])
    # a and b meet at country level; c and d have no group of 2 anywhere, so they lose the age
    # group too and join e in (unknown, unknown); f is not in the population.
    assert got == {"a": ("35-44", "de"), "b": ("35-44", "de"), "c": ("unknown", "unknown"),
                   "d": ("unknown", "unknown"), "e": ("unknown", "unknown")}
    assert channels.generalise_locations(6, date(2026, 1, 3), accounts, ["a", "b", "c", "d", "e"]) == {}


def test_too_many_bad_accounts_fail_like_the_import(raw, tmp_path):
    (raw / "accounts.csv").write_text(ACCOUNTS + "u8,1990-02-30,,,,2025-01-01T00:00:00Z\n")
    with pytest.raises(channels.CliError, match=r"1 of 7 rows are bad .*line 8: date_of_birth is not a YYYY-MM-DD"):
        channels.build(str(raw), str(tmp_path / "out"), validation_days=1, k=2)


def test_no_training_events_before_the_cutoff_is_an_input_error(raw, tmp_path):
    with pytest.raises(channels.CliError, match="no events before the cutoff 2026-01-01T00:00:00.000Z"):
        channels.build(str(raw), str(tmp_path / "out"), validation_days=3, k=2)


@pytest.mark.skipif(not os.path.exists(os.path.join(REPO, "node_modules", ".bin", "ts-node")),
                    reason="needs the repository's node_modules (npm ci) to run the data generator")
def test_generated_data_to_a_trained_local_model(tmp_path):
    """The README's path: data:generate -> recommender:channels -> recommender:train-local."""
    data, out, work = tmp_path / "data", tmp_path / "channels", tmp_path / "work"
    generate = [os.path.join(REPO, "node_modules", ".bin", "ts-node"), "--transpile-only",
                "scripts/artist-recommender/generate-data.ts",
                "--users", "160", "--days", "5", "--seed", "7", "--out", str(data)]
    done = subprocess.run(generate, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "artist_recommender.channels", "--raw", str(data), "--out", str(out),
                           "--k", "5"], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"--train {out / 'train'} --validation {out / 'validation'}" in done.stderr

    # Every generated line is accounted for exactly as summary.json planted it, and a second run
    # writes byte-identical files.
    summary = json.loads((data / "summary.json").read_text())
    manifest, counts = channels.build(str(data), str(tmp_path / "again"), k=5)
    assert counts["lines"] == summary["lines"] and counts["events"] == summary["events"]
    assert counts["duplicates"] == summary["duplicatesWithinObject"] + summary["duplicatesAcrossObjects"]
    assert sum(counts["rejected"].values()) == summary["malformed"]["total"]
    assert counts["rejected"] == summary["malformed"]["byKind"]
    for name in manifest["files"]:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()

    done = subprocess.run([sys.executable, "-m", "artist_recommender.local_train", "--train", str(out / "train"),
                           "--validation", str(out / "validation"), "--work", str(work), "--",
                           "--factors", "16", "--iterations", "6", "--tune", "false"],
                          env=child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for path in ("model/model.pt", "model/config.json", "model/code/inference.py", "output/data/metrics.json",
                 "output/data/recommendations.jsonl", "output/data/popularity.json"):
        assert (work / path).is_file(), path
    metrics = json.loads((work / "output" / "data" / "metrics.json").read_text())
    assert metrics["num_users"] == summary["users"] and metrics["evaluated_users"] > 0
    # The planted taste groups: the model beats popularity on the later days.
    assert metrics["ndcg_at_10"] > 2 * metrics["popularity_ndcg_at_10"]
    shutil.rmtree(work)
