"""PNG charts: the serving latency distribution and recommender:bench --plot."""
import json
import random
import struct
import subprocess
import sys

import pytest

from helpers import child_env

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def run(args):
    return subprocess.run([sys.executable, "-m", *args], env=child_env(), capture_output=True, text=True,
                          timeout=300)


def test_latency_distribution_png(tmp_path):
    rng = random.Random(3)
    doc = {"handler": [rng.lognormvariate(6.7, 0.3) for _ in range(3000)],
           "client": [rng.lognormvariate(6.4, 0.25) for _ in range(3000)] + [0.0],  # a sample under the timer's tick
           "unit": "us", "title": "cache hit", "extra": {"ignored": True}}
    (tmp_path / "latency.json").write_text(json.dumps(doc))
    out = tmp_path / "serving.png"
    done = run(["artist_recommender.plots", "latency", "--in", str(tmp_path / "latency.json"), "--out", str(out)])
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert png_size(out) == (1320, 540) and out.stat().st_size > 20_000


@pytest.fixture(scope="module")
def bench(channel_split, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    done = run(["artist_recommender.bench", "--train", channel_split["train"], "--validation", channel_split["validation"],
                "--methods", "popularity,ours", "--factors", "8", "--iterations", "3", "--json", "--no-tune",
                "--plot", str(folder / "quality.png")])
    assert done.returncode == 0, done.stderr
    (folder / "bench.json").write_text(done.stdout)
    return {"folder": folder, "result": json.loads(done.stdout), "stderr": done.stderr}


def test_bench_plot_png(bench):
    assert png_size(bench["folder"] / "quality.png") == (1320, 540)
    assert (bench["folder"] / "quality.png").stat().st_size > 20_000
    assert bench["stderr"].strip().splitlines()[-1] == f"bench: wrote {bench['folder'] / 'quality.png'}"


def test_bench_segments_split_the_evaluated_users(bench, channel_split):
    assert bench["result"]["segment_at"] == 20
    for method in bench["result"]["results"]:
        light, heavy = method["segments"]
        assert (light["segment"], heavy["segment"]) == ("<= 20 interactions", "> 20 interactions")
        assert light["users"] + heavy["users"] == channel_split["num_val_users"]
        assert light["users"] > 0 and heavy["users"] > 0
        # The overall metric is the user-weighted mean of the segments': the same recommendations.
        for metric in ("ndcg_at_10", "recall_at_10"):
            mean = (light[metric] * light["users"] + heavy[metric] * heavy["users"]) / (light["users"] + heavy["users"])
            assert method[metric] == pytest.approx(mean)


def test_quality_png_from_bench_json(bench):
    out = bench["folder"] / "again.png"
    done = run(["artist_recommender.plots", "quality", "--in", str(bench["folder"] / "bench.json"), "--out", str(out)])
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert png_size(out) == (1320, 540) and out.stat().st_size > 20_000
