"""Progress of long runs on stderr: a live bar on a terminal, one line per stage otherwise, nothing
under --quiet; recommender:bench reports each method as it finishes."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from helpers import child_env

# tqdm's live counter: "5/8 [00:01<00:00, 7.30sweep/s]" (elapsed<left, rate).
LIVE_BAR = re.compile(r"\d+/\d+ \[\d\d:\d\d<\d\d:\d\d, *[\d.]+sweep/s")


def train_local(channel, work, *extra):
    return [sys.executable, "-m", "artist_recommender.local_train", "--train", channel, "--work", str(work), *extra, "--",
            "--factors", "8", "--iterations", "4", "--tune", "false"]


def stage_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("train: ")]


def test_without_a_terminal_each_stage_is_one_line_with_counts_and_rates(trained_job):
    lines = stage_lines(trained_job["stderr"])
    names = [line.split(":")[1].strip() for line in lines]
    assert names == ["load", "fit (holdout of train)", "evaluate", "refit (all of train)", "write"]
    fit = lines[1]
    assert re.search(r"6 sweeps in [\d.]+s \([\d.]+ sweeps/s\); 300 users x 200 artists, [\d,]+ interactions, "
                     r"[\d,]+ interactions/s", fit), fit
    assert re.search(r"load: [\d.]+ KB in [\d.]+s \([\d.]+ [KM]B/s\); 6,000 interactions", lines[0]), lines[0]
    assert "NDCG@10" in lines[2]
    # The job's own log (stdout, what CloudWatch shows for a SageMaker job) keeps a line per sweep.
    assert "als iteration 6/6" in trained_job["stdout"]


def test_quiet_prints_no_progress(channel, tmp_path):
    done = subprocess.run(train_local(channel, tmp_path / "w", "--quiet"), env=child_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [line for line in done.stderr.strip().splitlines()
                                                if line.startswith("recommender:train-local: model in")]
    assert "als iteration" not in done.stdout and "metric: ndcg_at_10=" in done.stdout


def run_on_terminal(cmd, env, timeout=300) -> str:
    """Runs cmd with stderr on a pseudo-terminal and returns what it wrote there."""
    master, slave = pty.openpty()
    # A terminal has a size; tqdm 4.70 (the training image environment's) draws nothing on one of
    # width 0, which is what a bare pseudo-terminal reports.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=max(1, deadline - time.monotonic())) == 0, b"".join(chunks).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_a_live_bar_shows_rate_and_time_left(channel, tmp_path):
    text = run_on_terminal(train_local(channel, tmp_path / "w"), child_env())
    assert LIVE_BAR.search(text), text
    assert "train: write:" in text  # the stage lines remain when the bars are gone


def test_ci_on_a_terminal_gets_stage_lines_only(channel, tmp_path):
    text = run_on_terminal(train_local(channel, tmp_path / "w"), child_env(CI="true"))
    assert not LIVE_BAR.search(text), text
    assert [line.split(":")[1].strip() for line in text.splitlines() if line.startswith("train: ")] == [
        "load", "fit (holdout of train)", "evaluate", "refit (all of train)", "write"]


def test_bench_reports_each_method_as_it_finishes(channel_split, tmp_path):
    cmd = [sys.executable, "-m", "artist_recommender.bench", "--train", channel_split["train"], "--validation",
           channel_split["validation"], "--methods", "popularity,ours", "--factors", "8", "--iterations", "3",
           "--no-tune"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    try:
        first = proc.stderr.readline()
        # Reported while the second method has yet to run (its process must still start torch).
        still_running = proc.poll() is None
        rest, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert re.match(r"bench: popularity \(1/2\): NDCG@10 [\d.]+, Recall@10 [\d.]+, fit [\d.]+s, peak RSS \d+ MB; "
                    r"[\d.]+s elapsed", first), first
    assert still_running
    assert err.startswith("bench: ours (2/2): NDCG@10") and len(err.strip().splitlines()) == 1, err
    assert "| ours |" in rest and "| popularity | <= 20 interactions |" in rest


@pytest.mark.parametrize("quiet", [["--quiet"], []])
def test_channels_progress(tmp_path, quiet):
    from test_channels import ACCOUNTS, event, put_object

    put_object(tmp_path, "2026/01/01/10", "a.gz", [event("e1", "u1", "click", "a1", "2026-01-01T10:00:00.000Z")])
    put_object(tmp_path, "2026/01/02/10", "b.gz", [event("e2", "u1", "click", "a2", "2026-01-02T10:00:00.000Z")])
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    done = subprocess.run([sys.executable, "-m", "artist_recommender.channels", "--raw", str(tmp_path), "--out",
                           str(tmp_path / "out"), *quiet], env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    progress = [line for line in lines if line.startswith("channels: ")]
    if quiet:
        assert progress == []
    else:
        assert progress[0].startswith("channels: read raw events: 2 objects in ")
        assert "2 lines: 2 events, 0 repeats dropped, 0 rejected (none)" in progress[0]
        assert progress[1].startswith("channels: split and write: ")
    assert lines[-1].startswith("recommender:channels: wrote ")
