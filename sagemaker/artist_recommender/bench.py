"""Offline benchmark on Last.fm hetrec2011 (PROTOCOL.md) or on channel folders, and a synthetic GPU
throughput mode.

    python -m artist_recommender.bench --data DIR [--json] [--inner] [--plot FILE.png] [--quiet]
    python -m artist_recommender.bench --train DIR --validation DIR [--json] [--plot FILE.png] [--quiet]

--data builds the official seed-42 split of the Last.fm files (md5-checked, fails loudly on
mismatch); --inner evaluates on the seed-43 split of the official train instead (the only data used
for tuning). --train/--validation take channel folders instead, e.g. from `recommender:channels`
(a temporal split of generated events; users.csv side features are used by our model, not by the
iALS baseline). Reports Recall@10, NDCG@10, HitRate@10, Coverage@10, fit seconds and peak memory
for: our model (ours; searched on an inner split of train as the training job does, tuning.py, or
with --no-tune its fixed defaults), popularity, popularity within the user's age group + location segment
(segment-popularity), item-kNN, EASE, plain iALS (ials) and the `implicit` library's ALS
(implicit-als), overall and per user segment (at most --segment-at training interactions, and the
rest). The baselines, their hyperparameter grids and how a grid point is chosen (on an inner split
of train, never on the test rows) are described in artist_recommender/baselines.py. Each method
runs in its own subprocess so fit time and peak RSS are its own; a line on stderr reports each
method as it finishes (a live bar follows the fit on a terminal). Under the tables: the best method
per column with ours' rank, and ours against implicit-als (fit-time ratio, NDCG@10 difference).
Ours runs on the torch the training job runs: the training image's environment
(.venv-sagemaker-training, which scripts/setup-test-env.sh builds; --ours-python names another),
falling back to this interpreter, with a note, when it is missing; the table's torch column says
which ran. The baselines run on this interpreter (the `implicit` peer is compiled code of its own).
Any channel-format folder works: `npm run recommender:bench-data -- --kind planted|ratings --out DIR`
makes two generated ones (artist_recommender/bench_data.py).
--plot writes a PNG of NDCG@10 and Recall@10 per method and segment (see artist_recommender/plots.py).

    python -m artist_recommender.bench --gpu-synthetic [--users N --items N --interactions N ...]

see recommender/gpu_synthetic.py.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from common import progress as progress_mod
from . import baselines
from .als import ALSParams
from .channels import channel_problem
from common.cli import CliError, Parser, run, writable_parent
from .data import build_interactions, load_channel, read_interaction_rows
from .evaluation import model_recommendations, segment_metrics, truth_by_user
from .lastfm import INNER_SEED, ChecksumError, official_split
from .metrics import ranking_metrics
from .model import ModelParams
from common.progress import Progress
from .split import per_user_split
from .train_job import fit_stage
from . import tuning

PROG = "recommender:bench"
METHODS = ("ours", *baselines.METHODS)
REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAINING_PYTHON = os.path.join(REPO_DIR, ".venv-sagemaker-training", "bin", "python")


def ours_python(given: str | None, report: Progress) -> str:
    """The interpreter of ours: --ours-python, else the training image's environment, else this one."""
    if given:
        return given
    if os.access(TRAINING_PYTHON, os.X_OK):
        return TRAINING_PYTHON
    report.note(f"bench: {TRAINING_PYTHON} is missing (scripts/setup-test-env.sh builds it); ours runs on "
                f"torch {torch.__version__} here, not the training image's")
    return sys.executable
BASELINE_IALS = baselines.BASELINE_IALS
COLUMNS = ("recall_at_10", "ndcg_at_10", "hit_rate_at_10", "coverage_at_10")
COLUMN_NAMES = {"recall_at_10": "Recall@10", "ndcg_at_10": "NDCG@10", "hit_rate_at_10": "HitRate@10",
                "coverage_at_10": "Coverage@10", "fit_seconds": "fit s", "peak_rss_mb": "peak RSS MB"}
SPEED_PEER = "implicit-als"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def load_split(data_dir: str, inner: bool):
    try:
        train, test, md5s = official_split(data_dir)
    except ChecksumError as exc:
        raise CliError(f"{os.path.join(data_dir, 'user_artists.dat')}: {exc}: not the protocol's hetrec2011 "
                       "data, so results would not be comparable") from None
    if inner:
        train, test = per_user_split(train, INNER_SEED)
    return build_interactions(train), test, {"split": "inner-seed-43" if inner else "official-seed-42", "md5": md5s}


def load_channels(train_dir: str, validation_dir: str):
    data = load_channel(train_dir)
    test, _ = read_interaction_rows(os.path.join(validation_dir, "interactions.csv"))
    return data, test, {"split": f"channels {train_dir} / {validation_dir}", "md5": None}


def run_method(method: str, source: dict, params: ModelParams, k: int = 10, segment_at: int = 20,
               progress: Progress | None = None, tune_budget_seconds: float | None = 300.0) -> dict:
    if source.get("data"):
        data, test, info = load_split(source["data"], source.get("inner", False))
    else:
        data, test, info = load_channels(source["train"], source["validation"])
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    progress = progress or Progress(f"bench: {method}", "off")
    truth = truth_by_user(data, test)
    users = sorted(truth)
    extra = {}
    if method != "ours":
        recs, fit, extra = run_baseline(method, data, users, k, progress)
    else:
        chosen = params
        if tune_budget_seconds is not None:
            # As the training job: searched on an inner split of train (tuning.py), the winner
            # fitted on all of train; fit_seconds is that fit, the search is reported apart.
            search = tuning.tune(data, params, tune_budget_seconds, seed=params.als.seed, progress=progress)
            chosen = search.best
            extra = {"params": search.best_values, "tuning": search.to_dict()}
        began = time.perf_counter()
        trained = fit_stage(progress, "fit", data, chosen)
        fit = time.perf_counter() - began
        recs, _ = model_recommendations(trained, users, k)
    metrics = ranking_metrics(recs, truth, data.num_items, k)
    counts = np.bincount(data.users, minlength=data.num_users)
    segments = [{key: value for key, value in s.items() if key in ("segment", "users", *COLUMNS)}
                for s in segment_metrics(recs, truth, counts, data.num_items, k, segment_at)]
    return {"method": method, **metrics, "fit_seconds": round(fit, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "torch": torch.__version__.split("+")[0], "segments": segments, **extra, **info}


def run_baseline(method: str, data, users: list[int], k: int, progress: Progress):
    """(recommendations, fit seconds, report fields) of a baseline: its grid point chosen on the
    inner split of `data` (baselines.select), then fitted on all of `data`."""
    with progress.stage("tune", total=None, unit="point"):
        selection = baselines.select(method, data, k)
    timing: dict = {}
    recs = baselines.recommend(method, data, users, k, selection.point,
                               fit=lambda d, p: fit_stage(progress, "fit", d, p), timing=timing)
    extra = {"params": selection.point, "tuning": selection.to_dict()}
    if method == SPEED_PEER:
        extra["implicit_version"] = baselines.implicit_version()
    return recs, timing["fit"], extra


def params_from(args) -> ModelParams:
    d = ModelParams()
    return ModelParams(
        als=ALSParams(factors=args.factors or d.als.factors, reg=args.reg if args.reg is not None else d.als.reg,
                      reg_exponent=args.reg_exponent if args.reg_exponent is not None else d.als.reg_exponent,
                      unobserved_weight=args.unobserved_weight if args.unobserved_weight is not None
                      else d.als.unobserved_weight,
                      unobserved_exponent=args.unobserved_exponent if args.unobserved_exponent is not None
                      else d.als.unobserved_exponent,
                      iterations=args.iterations or d.als.iterations),
        alpha=args.alpha if args.alpha is not None else d.alpha,
        norm_exponent=args.norm_exponent if args.norm_exponent is not None else d.norm_exponent,
        neighbour_weight=args.neighbour_weight if args.neighbour_weight is not None else d.neighbour_weight,
    )


def format_table(results: list[dict]) -> str:
    lines = ["| Method | Recall@10 | NDCG@10 | HitRate@10 | Coverage@10 | fit s | peak RSS MB | torch |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        values = " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
        lines.append(f"| {r['method']} | {values} | {r['fit_seconds']:.2f} | {r['peak_rss_mb']:.0f} | {r['torch']} |")
    return "\n".join(lines)


def format_segments(results: list[dict]) -> str:
    lines = ["| Method | Segment | Users | Recall@10 | NDCG@10 | HitRate@10 | Coverage@10 |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for s in r.get("segments", []):
            values = " | ".join(f"{s[c]:.3f}" for c in COLUMNS)
            lines.append(f"| {r['method']} | {s['segment']} | {s['users']} | {values} |")
    return "\n".join(lines)


def leaders(rows: list[dict], columns) -> dict:
    """Per column: the best method (highest quality, lowest fit seconds and RSS; first on ties),
    and ours' rank (1 = best; methods with the same value share a rank) when ours is among them."""
    out = {}
    for column in columns:
        lower_is_better = column in ("fit_seconds", "peak_rss_mb")
        key = (lambda v: v) if lower_is_better else (lambda v: -v)
        ordered = sorted(rows, key=lambda r: key(r[column]))
        entry = {"best": ordered[0]["method"], "value": ordered[0][column]}
        ours = next((r for r in rows if r["method"] == "ours"), None)
        if ours is not None:
            entry["ours_rank"] = 1 + sum(1 for r in rows if key(r[column]) < key(ours[column]))
            entry["ours_minus_best"] = ours[column] - ordered[0][column]
        out[column] = entry
    return out


def summary(results: list[dict]) -> dict:
    """Best method per column, over all users and over the first (light) segment, and ours against
    the speed peer when both ran."""
    doc = {"all_users": leaders(results, (*COLUMNS, "fit_seconds", "peak_rss_mb"))}
    if all(r.get("segments") for r in results):
        light = [{"method": r["method"], **r["segments"][0]} for r in results]
        doc["light_users"] = {"segment": results[0]["segments"][0]["segment"], **leaders(light, COLUMNS)}
    by_method = {r["method"]: r for r in results}
    if "ours" in by_method and SPEED_PEER in by_method:
        ours, peer = by_method["ours"], by_method[SPEED_PEER]
        doc["ours_vs_implicit"] = {
            "fit_time_ratio": ours["fit_seconds"] / max(peer["fit_seconds"], 1e-9),
            "ndcg_difference": ours["ndcg_at_10"] - peer["ndcg_at_10"],
            "implicit_version": peer.get("implicit_version"), "ours_torch": ours.get("torch")}
    return doc


def format_summary(doc: dict) -> str:
    def line(label: str, entries: dict) -> str:
        parts = []
        for column, e in entries.items():
            if not isinstance(e, dict):
                continue
            rank = f" (ours #{e['ours_rank']})" if "ours_rank" in e else ""
            parts.append(f"{COLUMN_NAMES[column]} {e['best']}{rank}")
        return f"best, {label}: " + "; ".join(parts)

    lines = [line("all users", doc["all_users"])]
    if "light_users" in doc:
        lines.append(line(doc["light_users"]["segment"], doc["light_users"]))
    versus = doc.get("ours_vs_implicit")
    if versus:
        lines.append(f"ours (torch {versus['ours_torch']}) vs implicit-als {versus['implicit_version']}: fit time ratio "
                     f"{versus['fit_time_ratio']:.2f} (ours / implicit), NDCG@10 difference "
                     f"{versus['ndcg_difference']:+.3f} (ours - implicit)")
    return "\n".join(lines)


def method_line(result: dict, done: int, total: int, elapsed: float) -> str:
    return (f"bench: {result['method']} ({done}/{total}): NDCG@10 {result['ndcg_at_10']:.3f}, Recall@10 "
            f"{result['recall_at_10']:.3f}, fit {result['fit_seconds']:.1f}s, peak RSS {result['peak_rss_mb']:.0f} MB; "
            f"{progress_mod.seconds(elapsed)} elapsed")


def check_source(args, p) -> dict:
    """The data the methods will read, checked before any subprocess starts."""
    if args.data and (args.train or args.validation):
        p.error("use --data, or --train and --validation, not both")
    if args.data:
        if not os.path.isdir(args.data):
            raise CliError(f"--data {args.data}: no such folder (the hetrec2011-lastfm-2k files)")
        if not os.path.isfile(os.path.join(args.data, "user_artists.dat")):
            raise CliError(f"--data {args.data}: no user_artists.dat (the hetrec2011-lastfm-2k files)")
        return {"data": args.data, "inner": args.inner}
    if not (args.train and args.validation):
        p.error("--data DIR, or --train DIR and --validation DIR, is required")
    if args.inner:
        p.error("--inner splits the Last.fm data; channel folders are split already")
    for flag, folder in (("--train", args.train), ("--validation", args.validation)):
        problem = channel_problem(folder, flag)
        if problem:
            raise CliError(problem)
    return {"train": args.train, "validation": args.validation}


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--data", help="folder with the hetrec2011 Last.fm files")
    p.add_argument("--train", help="training channel folder (instead of --data)")
    p.add_argument("--validation", help="validation channel folder (with --train)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--inner", action="store_true", help="evaluate on the seed-43 inner split (tuning)")
    p.add_argument("--only", choices=METHODS, help="run one method in this process")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset to run")
    p.add_argument("--segment-at", type=int, default=20,
                   help="users with at most this many training interactions form the first segment")
    p.add_argument("--plot", metavar="FILE.png", help="write NDCG@10 and Recall@10 per method and segment")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--ours-python", help="interpreter of ours (default: the training image's environment)")
    for name in ("--factors", "--iterations"):
        p.add_argument(name, type=int)
    for name in ("--reg", "--reg-exponent", "--unobserved-weight", "--unobserved-exponent", "--alpha", "--norm-exponent",
                 "--neighbour-weight"):
        p.add_argument(name, type=float)
    p.add_argument("--no-tune", action="store_true", help="ours with the fixed defaults, no search (tuning.py)")
    p.add_argument("--tune-budget-seconds", type=float, default=300.0, help="time budget of ours' search")
    p.add_argument("--gpu-synthetic", action="store_true", help="synthetic throughput benchmark")
    args, rest = p.parse_known_args(argv)

    if args.gpu_synthetic:
        from . import gpu_synthetic

        # Its own parser reads every flag: --factors and --json mean the same there.
        given = argv if argv is not None else sys.argv[1:]
        gpu_synthetic.main([a for a in given if a != "--gpu-synthetic"])
        return 0
    if rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        p.error(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    for name in ("factors", "iterations"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name} must be positive")
    if args.ours_python and not (os.path.isfile(args.ours_python) and os.access(args.ours_python, os.X_OK)):
        raise CliError(f"--ours-python {args.ours_python}: not an executable file")
    source = check_source(args, p)
    params = params_from(args)
    mode = progress_mod.choose(args.quiet)
    if args.only:
        result = run_method(args.only, source, params, segment_at=args.segment_at,
                            progress=Progress(f"bench: {args.only}", mode),
                            tune_budget_seconds=None if args.no_tune else args.tune_budget_seconds)
        print(json.dumps(result))
        return 0
    if args.plot:
        writable_parent(args.plot, "--plot")
        from . import plots

        plots.require_matplotlib()

    results = []
    began = time.perf_counter()
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in ("--json",)]
    env = dict(os.environ)
    # A live bar of each fit on a terminal; otherwise the line per method below is all.
    env[progress_mod.ENV] = "bar" if mode == "bar" else "off"
    report = Progress("bench", mode)
    ours_interpreter = ours_python(args.ours_python, report) if "ours" in methods else None
    for n, method in enumerate(methods, start=1):
        python = ours_interpreter if method == "ours" else sys.executable
        cmd = [python, "-m", "artist_recommender.bench", *forwarded, "--only", method]
        # The child's stderr is this one: its one-line error, if any, is the report.
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
        if done.returncode != 0:
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        report.note(method_line(results[-1], n, len(methods), time.perf_counter() - began))
    first = results[0]
    if args.json:
        print(json.dumps({"split": first["split"], "md5": first["md5"], "params": params.to_dict(),
                          "segment_at": args.segment_at, "summary": summary(results),
                          "results": [{k: v for k, v in r.items() if k not in ("md5", "split")} for r in results]}))
    else:
        if first["md5"]:
            md5s = first["md5"]
            print(f"split {first['split']}: train md5 {md5s['train']}, test md5 {md5s['test']} (verified)")
        else:
            print(f"split {first['split']}")
        print(format_table(results))
        print()
        print(format_segments(results))
        print()
        print(format_summary(summary(results)))
    if args.plot:
        plots.quality_png(results, args.plot, title=first["split"])
        report.note(f"bench: wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
