"""Progress of long local runs, on stderr: a live bar on a terminal, one line per stage elsewhere.

Modes (choose()):
  bar    stderr is a terminal and CI is unset: a tqdm bar per counted stage (count, rate, time
         left), and one line when a stage ends
  lines  CI is set or stderr is not a terminal (a log file, a pipe, SageMaker's log stream):
         only the line at the end of each stage, with its count, time and rate
  off    --quiet: nothing
RECOMMENDER_PROGRESS=bar|lines|off overrides the choice. A command that runs another in a child
process sets it, so that the child shows what the parent chose on the stderr they share.
A stage that fails prints nothing: the error line is the last word.
"""
from __future__ import annotations

import os
import sys
import time

ENV = "RECOMMENDER_PROGRESS"
MODES = ("bar", "lines", "off")


def choose(quiet: bool = False) -> str:
    if quiet:
        return "off"
    forced = os.environ.get(ENV, "")
    if forced in MODES:
        return forced
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        return "lines"
    try:
        return "bar" if sys.stderr.isatty() else "lines"
    except (AttributeError, ValueError):  # stderr replaced or closed
        return "lines"


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:  # the SageMaker training image need not have it; lines need nothing
        return None
    return tqdm


def amount(n: float, unit: str) -> str:
    """1234 rows -> '1,234 rows'; 2_500_000 B -> '2.5 MB'."""
    if unit == "B":
        for suffix, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
            if n >= size:
                return f"{n / size:.1f} {suffix}"
        return f"{n:.0f} B"
    if n >= 1e6:
        text = f"{n / 1e6:.2f}M"
    elif n >= 1e4:
        text = f"{n / 1e3:.1f}k"
    else:
        text = f"{n:,.0f}" if float(n).is_integer() else f"{n:.1f}"
    return f"{text} {unit}{'s' if n != 1 else ''}"


def seconds(s: float) -> str:
    return f"{s:.1f}s" if s < 120 else f"{int(s // 60)}m{int(s % 60):02d}s"


class Stage:
    """One stage of a run: `with progress.stage("fit", total=15, unit="sweep") as st: ... st.update()`."""

    def __init__(self, progress: "Progress", name: str, total: int | None, unit: str, every: bool):
        self.progress, self.name, self.total, self.unit = progress, name, total, unit
        self.n = 0
        self.summary = ""
        self.began = time.perf_counter()
        self._bar = None
        tqdm = _tqdm() if progress.mode == "bar" and total is not None else None
        if tqdm is not None:
            # every: each update is drawn (rare ones, like ALS sweeps); else at most ten a second.
            self._bar = tqdm(total=total, desc=f"{progress.prefix}: {name}", unit=unit, unit_scale=unit == "B",
                             file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0 if every else 0.1)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)

    def moveto(self, n: int) -> None:
        """Sets the count (e.g. a fit resumed after sweep n from a checkpoint)."""
        self.update(n - self.n)

    def postfix(self, text: str) -> None:
        """Extra live detail on the bar, e.g. '1.2M interactions/s'."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def line(self) -> str:
        elapsed = time.perf_counter() - self.began
        parts = [f"{self.progress.prefix}: {self.name}:"]
        if self.total is not None or self.n:
            done = amount(self.n, self.unit)
            rate = amount(self.n / elapsed, self.unit) if elapsed > 0 else "-"
            parts.append(f"{done} in {seconds(elapsed)} ({rate}/s)")
        else:
            parts.append(seconds(elapsed))
        return " ".join(parts) + (f"; {self.summary}" if self.summary else "")

    def __enter__(self) -> "Stage":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if self._bar is not None:
            self._bar.close()
        if kind is None:
            self.progress.note(self.line())


class Progress:
    def __init__(self, prefix: str, mode: str | None = None):
        self.prefix = prefix
        self.mode = mode or choose()

    def stage(self, name: str, total: int | None = None, unit: str = "item", every: bool = False) -> Stage:
        return Stage(self, name, total, unit, every)

    def echo(self, text: str) -> None:
        """A line of the job's own log (stdout), in every mode; drawn above a live bar, not through it."""
        tqdm = _tqdm() if self.mode == "bar" else None
        if tqdm is not None:
            tqdm.write(text, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(text, flush=True)

    def note(self, text: str) -> None:
        """A progress line (stderr), unless quiet."""
        if self.mode == "off":
            return
        tqdm = _tqdm() if self.mode == "bar" else None
        if tqdm is not None:
            tqdm.write(text, file=sys.stderr)  # keeps a live bar below the line
        else:
            print(text, file=sys.stderr, flush=True)
