"""common.cli, with a tool of the test's own: every design's command-line tool gets this behaviour."""
import errno

import pytest

from common.cli import FAILED, USAGE, CliError, DataError, Parser, need_dir, run, writable_parent


def parser() -> Parser:
    p = Parser(prog="tool", description="A tool.")
    p.add_argument("--input", required=True, help="input folder")
    p.add_argument("--limit", type=int, default=5, help="how many")
    p.add_argument("--verbose", action="store_true", help="say more")
    return p


def usage_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(argv)
    assert exit_.value.code == USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_help_shows_each_default_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "how many (default: 5)" in text
    # None for a required option or a plain flag.
    assert "input folder (default" not in text and "say more (default" not in text
    assert "exit codes: 0 success, 1 the work failed, 2 bad usage or unusable input" in text


def test_a_mistyped_flag_is_named_before_missing_required_options(capsys):
    err = usage_error(capsys, ["--limt", "3"])
    assert err == "tool: unrecognized arguments: --limt (--help lists the options)\n"


def test_options_are_never_abbreviated(capsys):
    assert "unrecognized arguments: --inp" in usage_error(capsys, ["--inp", "x"])


def test_negative_numbers_and_what_follows_a_double_dash_are_not_unknown_flags():
    assert parser().parse_args(["--input", "x", "--limit", "-1"]).limit == -1
    # A tool that passes the rest on (as a launcher does) checks only its own part.
    parser().reject_unknown(["--input", "x", "--", "--passed-on"])


def test_a_bad_value_is_one_line(capsys):
    err = usage_error(capsys, ["--input", "x", "--limit", "many"])
    assert err.startswith("tool: argument --limit: invalid int value: 'many'")


@pytest.mark.parametrize("raised, code, line", [
    (CliError("--input x:\nno such folder"), USAGE, "tool: --input x: no such folder"),
    (CliError("the upload failed", FAILED), FAILED, "tool: the upload failed"),
    (DataError("rows.csv line 3: 2 fields, expected 3"), USAGE, "tool: rows.csv line 3: 2 fields, expected 3"),
    (OSError(errno.ENOSPC, "No space left on device", "/out/r.tsv"), FAILED,
     "tool: /out/r.tsv: No space left on device"),
    (KeyboardInterrupt(), 130, "tool: interrupted"),
])
def test_run_turns_expected_failures_into_one_line_and_a_status(capsys, raised, code, line):
    def main(argv):
        raise raised

    assert run("tool", main, []) == code
    assert capsys.readouterr().err == line + "\n"


def test_run_returns_mains_status_and_lets_a_defect_keep_its_traceback():
    assert run("tool", lambda argv: 3, []) == 3
    assert run("tool", lambda argv: None, []) == 0
    with pytest.raises(ZeroDivisionError):
        run("tool", lambda argv: 1 / 0, [])


def test_paths_are_checked_before_the_work_starts(tmp_path):
    (tmp_path / "file").write_text("")
    need_dir(str(tmp_path), "--input")
    with pytest.raises(CliError, match=r"^--input \S+/missing: no such folder$"):
        need_dir(str(tmp_path / "missing"), "--input")
    with pytest.raises(CliError, match=r"^--input \S+/file: not a folder$"):
        need_dir(str(tmp_path / "file"), "--input")

    writable_parent(str(tmp_path / "out.tsv"), "--out")
    with pytest.raises(CliError, match=r"is a folder, expected a file path$"):
        writable_parent(str(tmp_path), "--out")
    with pytest.raises(CliError, match=r"^--out \S+/no/out.tsv: folder \S+/no does not exist$"):
        writable_parent(str(tmp_path / "no" / "out.tsv"), "--out")
