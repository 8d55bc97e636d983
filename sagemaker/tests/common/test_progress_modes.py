"""common.progress: which display a run gets, and what each one writes."""
import io

import pytest

from common import progress
from common.progress import Progress, amount, choose


class Stderr(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def no_overrides(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)


@pytest.mark.parametrize("tty, ci, forced, quiet, mode", [
    (True, None, None, False, "bar"),
    (False, None, None, False, "lines"),  # a log file, a pipe, SageMaker's log stream
    (True, "true", None, False, "lines"),
    (True, "false", None, False, "bar"),
    (True, None, "lines", False, "lines"),  # a parent process decided for the stderr it shares
    (False, None, "bar", False, "bar"),
    (True, None, "bar", True, "off"),
    (True, None, "sideways", False, "bar"),  # an unknown override is ignored
])
def test_the_mode_follows_quiet_then_the_override_then_ci_then_the_terminal(
        monkeypatch, no_overrides, tty, ci, forced, quiet, mode):
    monkeypatch.setattr("sys.stderr", Stderr(tty))
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    if forced is not None:
        monkeypatch.setenv(progress.ENV, forced)
    assert choose(quiet) == mode


def test_in_lines_mode_a_stage_is_one_line_with_its_count_time_rate_and_summary(capsys):
    run = Progress("tool", mode="lines")
    with run.stage("load", total=3, unit="file") as stage:
        for _ in range(3):
            stage.update()
        stage.summary = "3 files, 12 rows"
    with run.stage("write"):
        pass
    run.echo("result line")
    out, err = capsys.readouterr()
    assert out == "result line\n"
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("tool: load: 3 files in ") and lines[0].endswith("/s); 3 files, 12 rows")
    assert lines[1].startswith("tool: write: ") and lines[1].endswith("s")


def test_a_failed_stage_prints_nothing_and_off_prints_no_progress(capsys):
    with pytest.raises(RuntimeError):
        with Progress("tool", mode="lines").stage("fit", total=2) as stage:
            stage.update()
            raise RuntimeError("diverged")
    quiet = Progress("tool", mode="off")
    with quiet.stage("fit", total=2) as stage:
        stage.update(2)
    quiet.echo("still on stdout")
    assert capsys.readouterr() == ("still on stdout\n", "")


@pytest.mark.parametrize("n, unit, text", [
    (1, "row", "1 row"), (1234, "row", "1,234 rows"), (12_345, "row", "12.3k rows"),
    (2_500_000, "row", "2.50M rows"), (2.5, "sweep", "2.5 sweeps"), (2_500_000, "B", "2.5 MB"), (999, "B", "999 B"),
])
def test_amounts_read_as_a_person_would_write_them(n, unit, text):
    assert amount(n, unit) == text
