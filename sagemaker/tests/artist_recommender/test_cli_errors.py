"""Every command-line tool reports bad input as one line on stderr and exit 2 (1 when the work
itself failed), never a traceback; --help works and unknown flags are refused."""
import gzip
import os
import socket
import subprocess
import sys

import pytest

from helpers import SOURCE_DIR, child_env

# Each tool with its required arguments (a valid channel where the flags are parsed after it).
CLIS = {
    "artist_recommender.offline": ["--train", "{channel}", "--out", "{tmp}/r.tsv"],
    "artist_recommender.bench": ["--data", "{tmp}"],
    "artist_recommender.bench_data": ["--kind", "planted", "--out", "{tmp}/generated"],
    "artist_recommender.local_train": ["--train", "{channel}", "--work", "{tmp}/w"],
    "artist_recommender.local_server": ["--model-dir", "{tmp}"],
    "artist_recommender.channels": ["--raw", "{tmp}", "--out", "{tmp}/c"],
    "artist_recommender.plots": ["latency", "--in", "{tmp}/l.json", "--out", "{tmp}/l.png"],
}


def run(args, **env):
    return subprocess.run([sys.executable, "-m", *args], env=child_env(**env), capture_output=True, text=True,
                          timeout=120)


def assert_one_line(done, code, *fragments):
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert done.returncode == code, (done.returncode, done.stderr)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """One folder per kind of bad input."""
    root = tmp_path_factory.mktemp("bad")
    (root / "empty").mkdir()
    (root / "weight").mkdir()
    (root / "weight" / "interactions.csv").write_text("user_id,item_id,weight,ts\nu1,a1,3,\nu1,a2,abc,\n")
    # A header with an extra column and a row shorter than the header: an IndexError before.
    (root / "short").mkdir()
    (root / "short" / "interactions.csv").write_text("user_id,item_id,extra,weight\nu1,a1,x,3\nu2,a2,x\n")
    (root / "latin1").mkdir()
    (root / "latin1" / "interactions.csv").write_bytes(b"user_id,item_id,weight\nJos\xe9,a1,3\n")
    (root / "lastfm").mkdir()
    (root / "lastfm" / "user_artists.dat").write_text("userID\tartistID\tweight\n2\t51\t13883\n2\t52\n")
    partition = root / "raw" / "raw" / "2026" / "01" / "01" / "00"
    partition.mkdir(parents=True)
    (partition / "events.gz").write_bytes(b"not gzip")
    (root / "raw" / "accounts.csv").write_text("user_id,date_of_birth,city,state,country,created_at\n")
    accounts = root / "accounts"
    (accounts / "raw" / "2026" / "01" / "01" / "00").mkdir(parents=True)
    (accounts / "raw" / "2026" / "01" / "01" / "00" / "e.gz").write_bytes(gzip.compress(b"\n"))
    (accounts / "accounts.csv").write_text("user,dob\nu1,2000-01-01\n")
    (root / "model" / "code").mkdir(parents=True)
    (root / "model" / "code" / "inference.py").write_text("")
    (root / "model" / "config.json").write_text('{"kind": ')
    (root / "latency.json").write_text('{"handler": [1.5, 2, "fast"], "client": [1]}')
    (root / "truncated.json").write_text('{"handler": [1.5, 2')
    return root


@pytest.mark.parametrize("module", CLIS)
def test_help_and_unknown_flags(module, channel, tmp_path):
    done = run([module, "--help"])
    assert done.returncode == 0 and "usage:" in done.stdout and not done.stderr
    args = [a.format(channel=channel, tmp=tmp_path) for a in CLIS[module]]
    assert_one_line(run([module, *args, "--no-such-flag"]), 2, "unrecognized arguments: --no-such-flag")


@pytest.mark.parametrize("module", CLIS)
def test_help_shows_defaults_and_exit_codes(module):
    done = run([module, "--help"])
    assert "exit codes: 0 success, 1 the work failed, 2 bad usage" in done.stdout
    # An option with a default says it; a required one shows no "(default: None)".
    assert "(default: None)" not in done.stdout


@pytest.mark.parametrize("module", CLIS)
def test_a_mistyped_flag_is_named_before_missing_required_options(module):
    done = run([module, "--no-such-flag"] if module != "artist_recommender.plots" else [module, "latency", "--no-such-flag"])
    assert_one_line(done, 2, "unrecognized arguments: --no-such-flag")


def test_abbreviated_options_are_refused():
    done = run(["artist_recommender.offline", "--tra", "x", "--out", "y"])
    assert_one_line(done, 2, "unrecognized arguments: --tra")


@pytest.mark.parametrize(
    "args, code, fragments",
    [
        # offline
        (["artist_recommender.offline", "--train", "{bad}/missing", "--out", "{bad}/r.tsv"], 2,
         ["--train", "missing: no such folder", "npm run recommender:channels"]),
        (["artist_recommender.offline", "--train", "{bad}/weight", "--out", "{bad}/r.tsv"], 2,
         ["interactions.csv:3: field 'weight': 'abc' not a number"]),
        (["artist_recommender.offline", "--train", "{bad}/short", "--out", "{bad}/r.tsv"], 2,
         ["interactions.csv:3: field 'weight': missing value"]),
        (["artist_recommender.offline", "--train", "{bad}/latin1", "--out", "{bad}/r.tsv"], 2,
         ["interactions.csv: not UTF-8 text"]),
        (["artist_recommender.offline", "--train", "{bad}/weight", "--out", "{bad}/no/such/r.tsv"], 2,
         ["--out", "does not exist"]),
        (["artist_recommender.offline", "--train", "{bad}/weight", "--out", "{bad}/r.tsv", "--k", "0"], 2, ["--k"]),
        # train-local: the missing channel names the command that makes one
        (["artist_recommender.local_train", "--train", "{bad}/empty", "--work", "{bad}/w"], 2,
         ["--train", "no interactions.csv", "npm run recommender:channels -- --raw DATA_DIR --out DIR"]),
        (["artist_recommender.local_train", "--train", "{bad}/raw", "--work", "{bad}/w"], 2,
         ["raw events, not a channel", "npm run recommender:channels -- --raw {bad}/raw --out DIR"]),
        (["artist_recommender.local_train", "--train", "{bad}/weight", "--validation", "{bad}/missing", "--work", "{bad}/w"],
         2, ["--validation", "missing: no such folder"]),
        (["artist_recommender.local_train", "--train", "{bad}/weight", "--work", "{bad}/w"], 2,
         ["interactions.csv:3: field 'weight'"]),
        (["artist_recommender.local_train", "--train", "{bad}/weight", "--work", "{bad}/w", "--", "--factors", "x"], 2,
         ["--factors", "invalid int value"]),
        # bench
        (["artist_recommender.bench", "--data", "{bad}/missing"], 2, ["--data", "no such folder"]),
        (["artist_recommender.bench", "--data", "{bad}/empty"], 2, ["no user_artists.dat"]),
        (["artist_recommender.bench", "--data", "{bad}/lastfm"], 2, ["user_artists.dat:3: expected 3 tab-separated fields"]),
        (["artist_recommender.bench", "--train", "{bad}/weight"], 2, ["--validation"]),
        (["artist_recommender.bench", "--train", "{bad}/weight", "--validation", "{bad}/weight"], 2,
         ["interactions.csv:3: field 'weight'"]),
        (["artist_recommender.bench", "--data", "{bad}/lastfm", "--methods", "ours,best"], 2, ["--methods", "best"]),
        (["artist_recommender.bench", "--gpu-synthetic", "--users", "0"], 2, ["--users must be positive"]),
        # serve-local
        (["artist_recommender.local_server", "--model-dir", "{bad}/missing"], 2, ["--model-dir", "no such folder"]),
        (["artist_recommender.local_server", "--model-dir", "{bad}/empty"], 2, ["no code/inference.py"]),
        (["artist_recommender.local_server", "--model-dir", "{bad}/model"], 2, ["config.json:1:10: not valid JSON"]),
        (["artist_recommender.local_server", "--model-dir", "{bad}/model", "--port", "70000"], 2, ["--port 70000"]),
        # channels
        (["artist_recommender.channels", "--raw", "{bad}/empty", "--out", "{bad}/c"], 2, ["no raw/ folder"]),
        (["artist_recommender.channels", "--raw", "{bad}/raw", "--out", "{bad}/c"], 2,
         ["events.gz: not a complete gzip file"]),
        (["artist_recommender.channels", "--raw", "{bad}/accounts", "--out", "{bad}/c"], 2,
         ["accounts.csv:1: header is", "expected user_id,date_of_birth"]),
        # plots
        (["artist_recommender.plots", "latency", "--in", "{bad}/missing.json", "--out", "{bad}/p.png"], 2, ["not found"]),
        (["artist_recommender.plots", "latency", "--in", "{bad}/truncated.json", "--out", "{bad}/p.png"], 2,
         ["truncated.json:1:20: not valid JSON"]),
        (["artist_recommender.plots", "latency", "--in", "{bad}/latency.json", "--out", "{bad}/p.png"], 2,
         ["field 'handler'[2]: \"fast\" is not a finite number"]),
    ],
)
def test_bad_input_is_one_line(bad, args, code, fragments):
    done = run([a.format(bad=bad) for a in args])
    assert_one_line(done, code, *(f.format(bad=bad) for f in fragments))


def test_corrupt_model_file_is_one_line(bad, trained_job, tmp_path):
    model = tmp_path / "model"
    subprocess.run(["cp", "-r", trained_job["model_dir"], str(model)], check=True)
    (model / "model.pt").write_bytes(b"not a torch file")
    assert_one_line(run(["artist_recommender.local_server", "--model-dir", str(model)]), 2, "the model does not load")


def test_port_in_use_is_one_line_and_exit_1(trained_job):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(["artist_recommender.local_server", "--model-dir", trained_job["model_dir"], "--port", str(port)])
    assert_one_line(done, 1, f"--port {port}", "in use")


def test_validation_channel_without_interactions_fails_the_job_in_one_line(tmp_path, channel):
    # The job itself (not only train-local's check) reports it: SageMaker runs train.py directly.
    (tmp_path / "validation").mkdir()
    done = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "artist_recommender", "train.py"),
                           "--train", channel, "--validation", str(tmp_path / "validation"),
                           "--model-dir", str(tmp_path / "m"), "--output-data-dir", str(tmp_path / "o"),
                           "--checkpoint-dir", ""],
                          env=child_env(), capture_output=True, text=True, timeout=120)
    assert_one_line(done, 2, "validation/interactions.csv: not found")
