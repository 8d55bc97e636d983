"""`npm run recommender:serving-cost` at tiny sizes (sagemaker/tests/serving_cost_checks.py says what
is checked and why no timing is)."""
import pytest

from serving_cost_checks import check_help, check_refused, check_report, check_table, measure, run_serving_cost

PACKAGE = "artist_recommender"
TINY = ["--users", "300", "--artists", "400", "--artists-per-user", "6", "--factors", "8"]


@pytest.fixture(scope="module")
def report():
    return measure(PACKAGE, TINY)


def test_the_json_holds_every_number_the_hardware_choice_reads(report):
    check_report(report, "artist-recommender", {"known user", "new user (popularity)"})


def test_the_sizes_are_the_model_written(report):
    sizes = report["sizes"]
    assert (sizes["users"], sizes["artists"], sizes["factors"], sizes["k"]) == (300, 400, 8, 50)
    # Repeats of a user's draws are dropped: at most 6 artists each.
    assert 300 <= sizes["interactions"] <= 300 * 6


def test_the_table_shows_the_handler_the_baseline_and_their_ratio():
    check_table(PACKAGE, TINY)


def test_help_names_the_options_and_their_defaults():
    check_help(PACKAGE)


@pytest.mark.parametrize("args, named", [
    (["--users", "0"], "--users must be at least 1, got 0"),
    (["--artists", "10"], "--artists must be at least 50, got 10"),
    (["--requests", "0", "--factors", "-1"], "--requests must be at least 1, got 0"),
])
def test_a_bad_option_is_refused_naming_it(args, named):
    check_refused(PACKAGE, args, named)


def test_every_bad_option_is_named_in_one_line():
    done = run_serving_cost(PACKAGE, "--requests", "0", "--factors", "-1")
    assert done.returncode == 2
    assert "--requests must be at least 1" in done.stderr and "--factors must be at least 1" in done.stderr
