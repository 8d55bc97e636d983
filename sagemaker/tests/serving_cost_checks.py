"""What every design's serving-cost benchmark must print (sagemaker/common/serving_cost.py), for the
design's own tests. No timing is asserted: the numbers depend on the machine. What is checked is that
every number the endpoint hardware choice reads (lib/platform/config/endpoint-hardware.ts) is there
and positive, and that the command line refuses what it should."""
import json
import subprocess
import sys

from helpers import child_env

STATS = ("p50_ms", "p99_ms", "mean_ms", "requests_per_second_per_vcpu")


def run_serving_cost(package: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"{package}.serving_cost", *args], env=child_env(),
                          capture_output=True, text=True, timeout=300)


def measure(package: str, tiny: list) -> dict:
    done = run_serving_cost(package, *tiny, "--requests", "9", "--warmup", "2", "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check_report(report: dict, design: str, kinds: set) -> None:
    """The JSON holds every number the hardware choice reads, for the handler and its baseline."""
    assert report["design"] == design
    assert report["threads"] == 1 and report["warmup"] == 2
    handler, baseline = report["handler"], report["baseline"]
    assert handler["requests"] == baseline["requests"] == 9
    for stats in (handler, baseline, *handler["by_kind"].values()):
        assert all(stats[key] > 0 for key in STATS), stats
        assert stats["p99_ms"] >= stats["p50_ms"]
    assert set(handler["by_kind"]) == kinds
    assert sum(stats["requests"] for stats in handler["by_kind"].values()) == 9
    assert baseline["name"]
    assert all(report["ratio_to_baseline"][key] > 0 for key in ("p50_ms", "p99_ms", "mean_ms"))
    assert report["memory"]["peak_rss_mb"] > 0 and report["memory"]["model_mb"] >= 0
    assert report["model_fn_seconds"] > 0


def check_table(package: str, tiny: list) -> None:
    """Without --json: the handler, the baseline and their ratio, nothing on stderr."""
    done = run_serving_cost(package, *tiny, "--requests", "3", "--warmup", "0", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "handler, all requests" in done.stdout and "baseline: " in done.stdout
    assert "handler / baseline: p50 " in done.stdout
    assert done.stderr == ""


def check_help(package: str) -> None:
    done = run_serving_cost(package, "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "--requests" in text and "--json" in text and "--users" in text and "(default:" in text


def check_refused(package: str, args: list, named: str) -> None:
    """A bad option: exit 2, one line on stderr naming it, nothing on stdout."""
    done = run_serving_cost(package, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert named in done.stderr and done.stderr.count("\n") == 1, done.stderr
