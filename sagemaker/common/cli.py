"""How the command-line tools end: bad input is one line on stderr and an exit status, not a traceback.

Exit 2: what was passed is unusable (a missing path, a malformed file, a bad flag value): the
command can do nothing with it. Exit 1: the input was fine but the work failed (a write error, a
failed subprocess). Any other exception is a defect of the code, and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

USAGE = 2
FAILED = 1


class CliError(Exception):
    """A problem to report as one line, with the exit status it deserves."""

    def __init__(self, message: str, code: int = USAGE):
        super().__init__(message)
        self.code = code


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written, and each option's default in its help line (not for required
    options and plain flags, where there is none to show)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS) or action.required:
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


EXIT_CODES = "exit codes: 0 success, 1 the work failed, 2 bad usage or unusable input"


class Parser(argparse.ArgumentParser):
    """argparse made strict and alike for every tool: usage errors are one line
    (`prog: message (--help lists the options)`), an unknown option is named before anything else,
    options are never abbreviated, and `--help` shows each default and the exit codes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("epilog", EXIT_CODES)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: {one_line(message)} (--help lists the options)\n")

    def parse_args(self, args=None, namespace=None):
        argv = sys.argv[1:] if args is None else list(args)
        self.reject_unknown(argv)
        return super().parse_args(argv, namespace)

    def reject_unknown(self, argv, also: argparse.ArgumentParser | None = None) -> None:
        """argparse reports missing required options before unknown ones; a mistyped flag is the
        likelier cause, so it is named first. `also`: a parser the remaining flags are passed on to."""
        argv = sys.argv[1:] if argv is None else list(argv)
        if "--" in argv:  # what follows `--` is passed on as it is
            argv = argv[: argv.index("--")]
        known = {flag for parser in (self, also) if parser for action in parser._actions
                 for flag in action.option_strings}
        unknown = [
            token
            for token in argv
            if token.startswith("-") and token != "-" and not _is_number(token)
            and token.split("=", 1)[0] not in known
        ]
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}")


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def one_line(text: str) -> str:
    """Messages quote file content; a newline in it must not split the report."""
    return " ".join(str(text).split())


class DataError(ValueError):
    """An input file violates its data contract (a training channel, a benchmark data set)."""


def run(prog: str, main, argv=None) -> int:
    """Runs main(argv) and turns CliError and OSError into `prog: message` and an exit status."""
    try:
        result = main(argv)
    except CliError as exc:
        print(f"{prog}: {one_line(exc)}", file=sys.stderr)
        return exc.code
    except DataError as exc:
        print(f"{prog}: {one_line(exc)}", file=sys.stderr)
        return USAGE
    except OSError as exc:  # a write that failed (disk full, permissions) after the input checks
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: {where}{one_line(exc.strerror or exc)}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def need_dir(path: str, flag: str) -> None:
    if not os.path.exists(path):
        raise CliError(f"{flag} {path}: no such folder")
    if not os.path.isdir(path):
        raise CliError(f"{flag} {path}: not a folder")


def writable_parent(path: str, flag: str) -> None:
    """Fails before the work starts when an output file could not be created afterwards."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CliError(f"{flag} {path}: is a folder, expected a file path")
    if not os.path.isdir(parent):
        raise CliError(f"{flag} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CliError(f"{flag} {path}: folder {parent} is not writable")
