import subprocess
import sys

import pytest

from common.progress import Progress
from helpers import child_env
from ad_click import bench


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return bench.bench(str(tmp_path_factory.mktemp("bench")), 30_000, 2, Progress("bench", "off"), well_specified=True)


def test_rows_are_best_models_and_global_rate_with_ratios_to_the_best(report):
    results = {r["method"]: r for r in report["results"]}
    assert list(results) == ["best achievable", "fm", "lr-crosses", "well-specified", "global rate"]
    assert results["well-specified"]["params"]["crosses"] == "age_group*ad_category,device*placement,country*advertiser_id"
    best, rate = results["best achievable"], results["global rate"]
    assert best["log_loss_ratio"] == 1.0 and best["auc_gap"] == 0.0
    assert rate["auc"] == 0.5 and rate["log_loss_ratio"] > 1.0
    for name in ("fm", "lr-crosses", "well-specified"):
        r = results[name]
        assert r["log_loss_ratio"] == pytest.approx(r["log_loss"] / best["log_loss"])
        assert r["auc_gap"] == pytest.approx(best["auc"] - r["auc"])
        assert 1.0 < r["log_loss_ratio"] < rate["log_loss_ratio"] and r["fit_seconds"] > 0
        assert r["targets"]["log_loss_ratio"] == ("PASS" if r["log_loss_ratio"] <= 1.02 else "MISS")
        assert r["targets"]["expected_calibration_error"] == ("PASS" if r["expected_calibration_error"] < 0.01 else "MISS")


def test_table_prints_every_method_and_a_verdict_per_target(report):
    table = bench.format_table(report["results"], "fm")
    for name in ("best achievable", "fm", "lr-crosses", "well-specified", "global rate"):
        assert f"\n{name} " in "\n" + table
    verdicts = [line for line in table.splitlines() if "PASS" in line or "MISS" in line]
    # One verdict line per candidate model; none for the well-specified reference.
    assert [line.split(" ")[0].rstrip(":") for line in verdicts] == ["fm", "lr-crosses"]
    assert "(the training job's default)" in verdicts[0]
    assert all(line.count("PASS") + line.count("MISS") == 3 for line in verdicts)


def test_cli_refuses_a_too_small_data_set():
    done = subprocess.run([sys.executable, "-m", "ad_click.bench", "--rows", "50"], env=child_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--rows must be at least 1000" in done.stderr
