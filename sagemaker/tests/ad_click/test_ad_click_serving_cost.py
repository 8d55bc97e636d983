"""`npm run ad-click:serving-cost` at tiny sizes (sagemaker/tests/serving_cost_checks.py says what is
checked and why no timing is)."""
import pytest

from serving_cost_checks import check_help, check_refused, check_report, check_table, measure

PACKAGE = "ad_click"
TINY = ["--users", "200", "--ads", "40", "--advertisers", "5", "--factors", "4", "--candidates", "12"]


@pytest.fixture(scope="module")
def report():
    return measure(PACKAGE, TINY)


def test_the_json_holds_every_number_the_hardware_choice_reads(report):
    check_report(report, "ad-click", {"12 candidates"})


def test_the_sizes_are_the_model_written(report):
    sizes = report["sizes"]
    assert (sizes["users"], sizes["ads"], sizes["factors"], sizes["candidates"]) == (200, 40, 4, 12)
    assert sizes["model_type"] == "fm" and sizes["rows"] > 200 + 40


def test_the_table_shows_the_handler_the_baseline_and_their_ratio():
    check_table(PACKAGE, TINY)


def test_help_names_the_options_and_their_defaults():
    check_help(PACKAGE)


@pytest.mark.parametrize("args, named", [
    (["--candidates", "101"], "--candidates must be between 1 and 100, got 101"),
    (["--warmup", "-1"], "--warmup must be 0 or more, got -1"),
    (["--userz", "5"], "unrecognized arguments: --userz"),
])
def test_a_bad_option_is_refused_naming_it(args, named):
    check_refused(PACKAGE, args, named)
