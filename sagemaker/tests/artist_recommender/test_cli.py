import json
import subprocess
import sys

import pytest

from helpers import child_env
from artist_recommender import bench, lastfm


def run(args, timeout=180):
    return subprocess.run([sys.executable, "-m", *args], env=child_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_offline_writes_one_line_per_user_without_seen_items(channel, synthetic, tmp_path):
    out = tmp_path / "recs.tsv"
    done = run(["artist_recommender.offline", "--train", channel, "--k", "7", "--out", str(out),
                "--factors", "8", "--iterations", "3", "--tune-max-configs", "3"])
    assert done.returncode == 0, done.stderr
    rows, _ = synthetic
    seen = {}
    for user, item, _ in rows:
        seen.setdefault(user, set()).add(item)
    lines = out.read_text().splitlines()
    assert len(lines) == 300
    for line in lines:
        user, items = line.split("\t")
        items = items.split(",")
        assert len(items) == 7 and len(set(items)) == 7 and not set(items) & seen[user]


@pytest.mark.parametrize("solver", ["cg", "exact"])
def test_gpu_synthetic_mode_runs_tiny_on_cpu(solver):
    done = run(["artist_recommender.bench", "--gpu-synthetic", "--users", "300", "--items", "120",
                "--interactions", "5000", "--factors", "8", "--epochs", "2", "--device", "cpu", "--json",
                "--solver", solver])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["finite"] and result["samples_per_second"] > 0 and len(result["epoch_seconds"]) == 2
    # every flag reaches it
    assert (result["users"], result["items"], result["factors"], result["solver"]) == (300, 120, 8, solver)


def _fake_hetrec(path, rows):
    path.mkdir()
    body = "".join(f"{u}\t{a}\t{w}\r\n" for u, a, w in rows)
    (path / "user_artists.dat").write_text("userID\tartistID\tweight\r\n" + body, newline="")


def test_benchmark_split_checks_md5_loudly(tmp_path):
    rows = [(u, a, 10 + a) for u in range(2, 12) for a in range(50 + u, 60 + u)]
    _fake_hetrec(tmp_path / "fake", rows)
    with pytest.raises(lastfm.ChecksumError, match="md5"):
        lastfm.official_split(str(tmp_path / "fake"))
    train, test, md5s = lastfm.official_split(str(tmp_path / "fake"), verify=False)
    assert len(train) + len(test) == len(rows) and len(test) == 10 * 2
    done = run(["artist_recommender.bench", "--data", str(tmp_path / "fake")])
    assert done.returncode != 0 and "md5" in done.stderr


def test_benchmark_table_format():
    results = [{"method": "ours", "recall_at_10": 0.2, "ndcg_at_10": 0.25, "hit_rate_at_10": 0.8,
                "coverage_at_10": 0.05, "fit_seconds": 12.3, "peak_rss_mb": 500.0, "torch": "2.8.0"}]
    table = bench.format_table(results)
    assert "| ours | 0.200 | 0.250 | 0.800 | 0.050 | 12.30 | 500 | 2.8.0 |" in table
