"""What one request costs a design's endpoint: the CPU time of its inference handler, per request.

A design's `serving_cost` module writes a model of production size in the artefact format its
handler's model_fn loads (synthetic weights: the cost depends on the sizes, not on the values), and
builds the requests the endpoint gets; this module loads the model through model_fn and times
input_fn -> predict_fn -> output_fn, the path the SageMaker inference toolkit runs per request, on
one thread (torch.set_num_threads(1)): one serving worker on one vCPU, the way the toolkit starts
one worker per vCPU on a CPU instance. After --warmup untimed requests, --requests requests are
timed, each followed by the design's baseline on the same request, so both share the machine's
state and the ratio handler / baseline reads the same on a busy or an idle machine.

Reported: p50, p99 and mean milliseconds per request (overall and per request kind), requests per
second per vCPU (1000 / mean ms), the same for the baseline and the ratios, the seconds model_fn
took, and memory: the resident memory model_fn added and the process's peak, which is what each
worker of an instance holds (lib/platform/config/endpoint-hardware.ts divides an instance's memory
by it). `--json` prints one JSON object instead of the table.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from common.cli import CliError, Parser
from common.progress import Progress, choose

JSON_TYPE = "application/json"


@dataclass
class Workload:
    """What a design's serving_cost module hands over: its handler, the model it wrote, its requests.

    Measured in a fresh interpreter (multiprocessing's spawn), so the memory it reports is a serving
    worker's, not the writer's: the handler is named by module and the baseline is a module-level
    function."""

    handler: str  # the design's inference module: model_fn, input_fn, predict_fn, output_fn
    model_dir: str
    # (kind, JSON body): the requests, replayed in order and round again as --requests needs.
    requests: list[tuple[str, str]]
    # What the baseline is, in a few words, and the function that does it for one request body.
    baseline_name: str
    baseline: Callable[[object, str], object]  # (loaded model, body) -> anything
    sizes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A positive integer option of a design's model or requests (`--users 2000000`)."""

    flag: str
    default: int
    help: str
    minimum: int = 1
    maximum: int | None = None


def _rss_mb() -> float:
    """Resident memory now (Linux /proc; ru_maxrss, the peak, elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _stats(ms: list[float]) -> dict:
    values = np.asarray(ms, dtype=np.float64)
    mean = float(values.mean())
    return {
        "requests": len(values),
        "p50_ms": round(float(np.percentile(values, 50)), 4),
        "p99_ms": round(float(np.percentile(values, 99)), 4),
        "mean_ms": round(mean, 4),
        "requests_per_second_per_vcpu": round(1000.0 / mean, 2),
    }


def handle(handler, model, body: str) -> str:
    """One request the way the toolkit serves it."""
    return handler.output_fn(handler.predict_fn(handler.input_fn(body, JSON_TYPE), model), JSON_TYPE)


def measure(workload: Workload, requests: int, warmup: int, progress: Progress) -> dict:
    """Loads the model through the handler and times `requests` requests and their baselines, in
    this process."""
    import importlib

    import torch

    torch.set_num_threads(1)
    handler = importlib.import_module(workload.handler)
    before = _rss_mb()
    began = time.perf_counter()
    with progress.stage("model_fn") as stage:
        model = handler.model_fn(workload.model_dir)
        stage.summary = workload.model_dir
    load_seconds = time.perf_counter() - began
    loaded_mb = _rss_mb() - before
    bodies = workload.requests
    with progress.stage("warm-up", total=warmup, unit="request") as stage:
        for i in range(warmup):
            _, body = bodies[i % len(bodies)]
            json.loads(handle(handler, model, body))
            workload.baseline(model, body)
            stage.update()
    timed: dict[str, list[float]] = {}
    base: list[float] = []
    clock = time.perf_counter_ns
    with progress.stage("requests", total=requests, unit="request") as stage:
        for i in range(requests):
            kind, body = bodies[(warmup + i) % len(bodies)]
            start = clock()
            handle(handler, model, body)
            middle = clock()
            workload.baseline(model, body)
            end = clock()
            timed.setdefault(kind, []).append((middle - start) / 1e6)
            base.append((end - middle) / 1e6)
            stage.update()
    every = [ms for kind in timed for ms in timed[kind]]
    overall = _stats(every)
    baseline = _stats(base)
    return {
        "sizes": workload.sizes,
        "threads": torch.get_num_threads(),
        "warmup": warmup,
        "handler": {**overall, "by_kind": {kind: _stats(ms) for kind, ms in timed.items()}},
        "baseline": {"name": workload.baseline_name, **baseline},
        "ratio_to_baseline": {
            key: round(overall[key] / baseline[key], 2) for key in ("p50_ms", "p99_ms", "mean_ms")
        },
        "model_fn_seconds": round(load_seconds, 3),
        "memory": {"model_mb": round(max(loaded_mb, 0.0), 1), "peak_rss_mb": round(_peak_rss_mb(), 1)},
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpu": _cpu_name(),
            "jemalloc": "libjemalloc" in os.environ.get("LD_PRELOAD", ""),
        },
    }


def _measure_child(workload: Workload, requests: int, warmup: int, mode: str) -> dict:
    return measure(workload, requests, warmup, Progress("serving-cost", mode))


def measure_apart(workload: Workload, requests: int, warmup: int, mode: str) -> dict:
    """measure() in a fresh interpreter."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_child, (workload, requests, warmup, mode))


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_report(design: str, report: dict) -> str:
    sizes = ", ".join(f"{name} {value:,}" if isinstance(value, int) else f"{name} {value}"
                      for name, value in report["sizes"].items())
    handler, baseline, ratio = report["handler"], report["baseline"], report["ratio_to_baseline"]
    header = f"{'':<40}{'requests':>9}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'req/s/vCPU':>12}"
    rows = [("handler, all requests", handler)]
    rows += [(f"  {kind}", stats) for kind, stats in handler["by_kind"].items()]
    rows.append((f"baseline: {baseline['name']}", baseline))
    lines = [f"{design}: {sizes}", f"one thread; {report['warmup']} warm-up requests; model_fn "
             f"{report['model_fn_seconds']:.1f} s; model {report['memory']['model_mb']:,.0f} MB, peak RSS "
             f"{report['memory']['peak_rss_mb']:,.0f} MB; torch {report['environment']['torch']} on "
             f"{report['environment']['cpu']}", "", header, "-" * len(header)]
    for name, stats in rows:
        lines.append(f"{name:<40}{stats['requests']:>9}{stats['p50_ms']:>10.2f}{stats['p99_ms']:>10.2f}"
                     f"{stats['mean_ms']:>10.2f}{stats['requests_per_second_per_vcpu']:>12.1f}")
    lines.append("")
    lines.append(f"handler / baseline: p50 {ratio['p50_ms']:.2f}x, p99 {ratio['p99_ms']:.2f}x, mean {ratio['mean_ms']:.2f}x")
    return "\n".join(lines)


def main(argv, *, prog: str, design: str, description: str, options: tuple[Option, ...],
         build: Callable[[str, dict, int, Progress], Workload], default_requests: int = 200,
         default_warmup: int = 20) -> int:
    """The command line every design's serving_cost module shares.

    build(model_dir, sizes, seed, progress) writes the model into model_dir and returns the workload;
    sizes maps each option's name (`users` for --users) to its value."""
    p = Parser(prog=prog, description=description)
    p.add_argument("--requests", type=int, default=default_requests, help="requests timed")
    p.add_argument("--warmup", type=int, default=default_warmup, help="requests served before the timing")
    for option in options:
        p.add_argument(option.flag, type=int, default=option.default, help=option.help)
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic weights and requests")
    p.add_argument("--keep", metavar="DIR", help="write the model here and keep it (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    problems = []
    if args.requests < 1:
        problems.append(f"--requests must be at least 1, got {args.requests}")
    if args.warmup < 0:
        problems.append(f"--warmup must be 0 or more, got {args.warmup}")
    sizes = {}
    for option in options:
        value = getattr(args, option.flag[2:].replace("-", "_"))
        if value < option.minimum or (option.maximum is not None and value > option.maximum):
            bound = f"between {option.minimum:,} and {option.maximum:,}" if option.maximum is not None \
                else f"at least {option.minimum:,}"
            problems.append(f"{option.flag} must be {bound}, got {value}")
        sizes[option.flag[2:].replace("-", "_")] = value
    if problems:
        p.error("; ".join(problems))
    if args.keep and os.path.exists(args.keep) and not os.path.isdir(args.keep):
        raise CliError(f"--keep {args.keep}: exists and is not a folder")
    progress = Progress("serving-cost", choose(args.quiet))

    def measured(model_dir: str) -> dict:
        with progress.stage("write the model") as stage:
            workload = build(model_dir, sizes, args.seed, progress)
            stage.summary = ", ".join(f"{k} {v:,}" for k, v in workload.sizes.items() if isinstance(v, int))
        return measure_apart(workload, args.requests, args.warmup, progress.mode)

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        report = measured(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix=f"{design}-serving-cost-") as model_dir:
            report = measured(model_dir)
    report = {"design": design, **report}
    print(json.dumps(report) if args.json else format_report(design, report))
    return 0
