"""PNG charts of benchmark results, drawn with matplotlib's Agg renderer (no display needed).

    python -m artist_recommender.plots latency --in LATENCY.json --out serving.png
    python -m artist_recommender.plots quality --in BENCH.json --out quality.png

latency: the distribution of two latency samples, e.g. the serving handler against a raw cache
client (`npm run bench:serving -- --plot` writes the JSON and calls this). LATENCY.json:

    {"handler": [812.5, 790.1, ...], "client": [640.2, ...], "unit": "us", "title": "cache hit"}

handler and client: non-empty arrays of finite numbers >= 0, one per request, in `unit` ("us",
"ms" or "s"; default "ms"); title is optional; other keys are ignored. Left panel: both histograms
on shared logarithmic bins; right panel: latency by percentile (p50 to p99.9), where tails differ.

quality: NDCG@10 and Recall@10 per method, overall and per user segment, from the JSON that
`recommender:bench --json` prints (`recommender:bench --plot FILE.png` draws the same directly).
Bad input is one line on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import json
import math
import os

from common.cli import CliError, Parser, run, writable_parent

PROG = "recommender:plots"
UNITS = ("us", "ms", "s")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")  # one per bench method


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CliError("matplotlib is not installed (Debian: apt-get install python3-matplotlib; "
                       "pip: pip install matplotlib)", code=1) from None


def _figure(width: float, height: float):
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # never a window, whatever MPLBACKEND says
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def read_json(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise CliError(f"--in {path}: not found") from None
    except IsADirectoryError:
        raise CliError(f"--in {path}: is a folder, expected a JSON file") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None


# --- latency ----------------------------------------------------------------------------------
def latency_samples(doc, path: str) -> tuple[dict[str, list[float]], str, str]:
    """Checks a latency document; returns ({"handler": [...], "client": [...]}, unit, title)."""
    if not isinstance(doc, dict):
        raise CliError(f"{path}: expected a JSON object with 'handler' and 'client' arrays")
    series = {}
    for key in ("handler", "client"):
        values = doc.get(key)
        if not isinstance(values, list) or not values:
            raise CliError(f"{path}: field '{key}': expected a non-empty array of latencies")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise CliError(f"{path}: field '{key}'[{i}]: {json.dumps(v)[:40]} is not a finite number >= 0")
        series[key] = [float(v) for v in values]
    unit = doc.get("unit", "ms")
    if unit not in UNITS:
        raise CliError(f"{path}: field 'unit': {json.dumps(unit)[:40]}, expected one of {', '.join(UNITS)}")
    title = doc.get("title", "")
    if not isinstance(title, str):
        raise CliError(f"{path}: field 'title': expected a string")
    return series, unit, title


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_png(series: dict[str, list[float]], path: str, unit: str = "ms", title: str = "") -> None:
    import numpy as np

    fig = _figure(11, 4.5)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    hist, curve = fig.subplots(1, 2)
    positive = [v for values in series.values() for v in values if v > 0]
    low = min(positive) if positive else 1.0
    high = max(max(values) for values in series.values())
    # Log bins show the body and the tail at once; zeros (below timer resolution) go in the first.
    bins = np.geomspace(low, max(high, low * 1.01), 60)
    # Percentiles on a "nines" axis (-log10(1 - q)): p50, p90, p99 and p99.9 equally far apart.
    qs = 100 * (1 - np.logspace(np.log10(0.5), -3, 120))
    nines = lambda q: -np.log10(1 - np.asarray(q) / 100)  # noqa: E731
    for colour, (name, values) in zip(COLOURS, series.items()):
        ordered = sorted(values)
        p50, p99, p999 = (percentile(ordered, q) for q in (50, 99, 99.9))
        label = f"{name}: n={len(values):,}, p50 {p50:,.1f}, p99 {p99:,.1f}, p99.9 {p999:,.1f} {unit}"
        hist.hist(np.clip(values, low, None), bins=bins, histtype="stepfilled", alpha=0.35, color=colour, label=label)
        hist.hist(np.clip(values, low, None), bins=bins, histtype="step", color=colour)
        for q, style in ((p50, "-"), (p99, "--")):
            hist.axvline(q, color=colour, linestyle=style, linewidth=1)
        curve.plot(nines(qs), [percentile(ordered, q) for q in qs], color=colour, label=name)
    plain = FuncFormatter(lambda x, _: f"{x:g}")
    ticks = [50, 90, 99, 99.9]
    curve.set_xticks(nines(ticks), [f"p{q:g}" for q in ticks])
    hist.set_xscale("log")
    hist.set_xlabel(f"latency ({unit}), log scale; solid p50, dashed p99")
    hist.set_ylabel("requests")
    hist.legend(fontsize=7, loc="upper right")
    curve.set_xlabel("percentile (tail stretched)")
    curve.set_ylabel(f"latency ({unit})")
    curve.set_yscale("log")
    for axis in (hist.xaxis, curve.yaxis):  # after set_*scale("log"), which resets the ticks
        axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    curve.grid(True, which="both", alpha=0.3)
    curve.legend(fontsize=8)
    fig.suptitle(title or "latency distribution")
    fig.savefig(path, format="png")


# --- quality ----------------------------------------------------------------------------------
def quality_png(results: list[dict], path: str, title: str = "") -> None:
    """Grouped bars: one group per segment (all users first), one bar per method, per metric."""
    fig = _figure(11, 4.5)
    axes = fig.subplots(1, 2)
    first = results[0]
    segments = [(s["segment"], s["users"]) for s in first.get("segments", [])]
    groups = [("all users", sum(n for _, n in segments) if segments else None)] + segments
    width = 0.8 / len(results)
    for ax, (metric, label) in zip(axes, (("ndcg_at_10", "NDCG@10"), ("recall_at_10", "Recall@10"))):
        top = 0.0
        for m, (colour, result) in enumerate(zip(COLOURS, results)):
            by_segment = {s["segment"]: s[metric] for s in result.get("segments", [])}
            values = [result[metric]] + [by_segment.get(name, 0.0) for name, _ in segments]
            xs = [g + (m - (len(results) - 1) / 2) * width for g in range(len(groups))]
            bars = ax.bar(xs, values, width, color=colour, label=result["method"])
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
            top = max(top, *values)
        ax.set_xticks(range(len(groups)), [name if users is None else f"{name}\n({users:,} users)"
                                           for name, users in groups])
        ax.set_ylabel(label)
        ax.set_ylim(0, top * 1.15 or 1.0)
        ax.set_title(label)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"ranking quality by method and user segment{f' ({title})' if title else ''}")
    fig.savefig(path, format="png")


def bench_results(doc, path: str) -> tuple[list[dict], str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list) or not doc["results"]:
        raise CliError(f"{path}: expected the JSON of `recommender:bench --json` (a non-empty 'results' array)")
    for i, r in enumerate(doc["results"]):
        for key in ("method", "ndcg_at_10", "recall_at_10"):
            if not isinstance(r, dict) or key not in r:
                raise CliError(f"{path}: field 'results'[{i}].{key}: missing")
    return doc["results"], str(doc.get("split", ""))


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("chart", choices=("latency", "quality"))
    p.add_argument("--in", dest="source", required=True, metavar="FILE.json")
    p.add_argument("--out", required=True, metavar="FILE.png")
    args = p.parse_args(argv)
    if not os.path.exists(args.source):
        raise CliError(f"--in {args.source}: not found")
    writable_parent(args.out, "--out")
    doc = read_json(args.source)
    if args.chart == "latency":
        series, unit, title = latency_samples(doc, args.source)
        latency_png(series, args.out, unit, title)
    else:
        results, split = bench_results(doc, args.source)
        quality_png(results, args.out, split)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
