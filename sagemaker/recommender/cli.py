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


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line too: `prog: message (--help lists the options)`."""

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: {one_line(message)} (--help lists the options)\n")


def one_line(text: str) -> str:
    """Messages quote file content; a newline in it must not split the report."""
    return " ".join(str(text).split())


def run(prog: str, main, argv=None) -> int:
    """Runs main(argv) and turns CliError and OSError into `prog: message` and an exit status."""
    from .data import DataError  # imported here: data pulls numpy, which `--help` does not need

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
