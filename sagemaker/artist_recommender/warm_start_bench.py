"""Warm vs cold retrains on a temporal replay of planted data in daily slices.

    python -m artist_recommender.warm_start_bench [--days N] [--users N] [--items N] [--seed N]
        [--warm-sweeps N] [--json] [--quiet] [--factors N --iterations N ...]

Generates listening events over N + 1 days (planted_replay.py: users and artists arrive over time).
For each day d in 0..N-1, a scheduled retrain on days <= d is fitted twice:
  cold  from random factors, --iterations sweeps (the job's default, 15)
  warm  from day d-1's warm model (its saved artefact, read back through warm_start.load_champion,
        as the job reads the champion channel), --warm-sweeps sweeps; day 0 has no champion, so
        it is the cold fit. Warm models chain day after day, as scheduled retrains do, so any
        drift of repeated warm starts shows.
Both are evaluated on day d + 1's plays of users they know (NDCG@10, Recall@10; an artist new on
d + 1 counts as a miss for both) and timed: the warm time includes mapping the champion's factors.
Prints a per-day table and the means over days 1..N-1 of the warm/cold fit-time ratio (and its
median) and the NDCG@10 difference. Remaining flags (--factors, --iterations, --reg, ...) set the
model's hyperparameters as in the job (its defaults otherwise; no tuning).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace

from common.cli import Parser, run
from common.progress import Progress, choose
from .data import build_interactions
from .evaluation import model_recommendations, truth_by_user
from .metrics import ranking_metrics
from .model import fit_model
from .planted_replay import make_replay
from .train_job import build_parser, params_from_args
from .warm_start import initial_factors, load_champion

PROG = "recommender:warm-start-bench"
DEFAULT_WARM_SWEEPS = 5


def evaluate_day(trained, rows, k: int = 10) -> dict:
    truth = truth_by_user(trained.data, rows)
    recs, _ = model_recommendations(trained, sorted(truth), k)
    metrics = ranking_metrics(recs, truth, trained.data.num_items, k)
    return {"ndcg_at_10": metrics[f"ndcg_at_{k}"], "recall_at_10": metrics[f"recall_at_{k}"], "users": len(truth)}


def bench(days: int, users: int, items: int, seed: int, params, warm_sweeps: int, work: str,
          progress: Progress) -> dict:
    replay = make_replay(days=days + 1, num_users=users, num_items=items, seed=seed)
    warm_params = params_from_sweeps(params, warm_sweeps)
    results, champion_dir = [], None
    for day in range(days):
        with progress.stage(f"day {day}") as stage:
            data = build_interactions(replay.through(day), replay.users)
            test = replay.on(day + 1)
            began = time.perf_counter()
            cold = fit_model(data, params)
            cold_seconds = time.perf_counter() - began
            row = {"day": day, "users": data.num_users, "items": data.num_items,
                   "interactions": int(len(data.weights)), "cold_seconds": cold_seconds,
                   "cold": evaluate_day(cold, test)}
            if champion_dir is None:
                warm, row["warm_seconds"], row["warm"] = cold, None, None
            else:
                began = time.perf_counter()
                init = initial_factors(load_champion(champion_dir), data)
                warm = fit_model(data, warm_params, initial=init.initial)
                row["warm_seconds"] = time.perf_counter() - began
                row["warm"] = evaluate_day(warm, test)
                row.update(init.counts())
            champion_dir = os.path.join(work, f"day-{day}")
            warm.save(champion_dir, f"day-{day}", -1.0)
            stage.summary = _line(row)
        results.append(row)
    warm_days = [r for r in results if r["warm"] is not None]
    summary = {}
    if warm_days:
        summary = {
            "mean_fit_time_ratio": statistics.mean(r["warm_seconds"] / r["cold_seconds"] for r in warm_days),
            # A busy machine stretches single fits; the median ratio is the steadier figure.
            "median_fit_time_ratio": statistics.median(r["warm_seconds"] / r["cold_seconds"] for r in warm_days),
            "mean_ndcg_difference": statistics.mean(r["warm"]["ndcg_at_10"] - r["cold"]["ndcg_at_10"]
                                                    for r in warm_days),
            "mean_recall_difference": statistics.mean(r["warm"]["recall_at_10"] - r["cold"]["recall_at_10"]
                                                      for r in warm_days),
            "mean_cold_ndcg": statistics.mean(r["cold"]["ndcg_at_10"] for r in warm_days),
            "mean_warm_ndcg": statistics.mean(r["warm"]["ndcg_at_10"] for r in warm_days),
        }
    return {"data": {"days": days, "users": users, "items": items, "seed": seed, "events": len(replay.events)},
            "params": params.to_dict(), "cold_sweeps": params.als.iterations, "warm_sweeps": warm_sweeps,
            "days": results, "summary": summary}


def params_from_sweeps(params, sweeps: int):
    return replace(params, als=replace(params.als, iterations=sweeps))


def _line(row: dict) -> str:
    cold = f"cold NDCG@10 {row['cold']['ndcg_at_10']:.4f} in {row['cold_seconds']:.2f}s"
    if row["warm"] is None:
        return cold + " (no champion yet)"
    return cold + f", warm {row['warm']['ndcg_at_10']:.4f} in {row['warm_seconds']:.2f}s"


def table(report: dict) -> str:
    lines = [f"{report['data']['events']:,} events over {report['data']['days'] + 1} days; cold "
             f"{report['cold_sweeps']} sweeps, warm {report['warm_sweeps']} sweeps from the previous day's warm model",
             "",
             f"{'day':>3} {'users':>6} {'artists':>7} {'new u':>6} {'new a':>6} {'cold NDCG':>9} {'warm NDCG':>9} "
             f"{'cold R@10':>9} {'warm R@10':>9} {'cold s':>7} {'warm s':>7} {'ratio':>6}"]
    for r in report["days"]:
        warm = r["warm"]
        lines.append(
            f"{r['day']:>3} {r['users']:>6} {r['items']:>7} {r.get('new_users', '-'):>6} {r.get('new_items', '-'):>6} "
            f"{r['cold']['ndcg_at_10']:>9.4f} {warm['ndcg_at_10'] if warm else float('nan'):>9.4f} "
            f"{r['cold']['recall_at_10']:>9.4f} {warm['recall_at_10'] if warm else float('nan'):>9.4f} "
            f"{r['cold_seconds']:>7.2f} {r['warm_seconds'] or float('nan'):>7.2f} "
            f"{(r['warm_seconds'] or float('nan')) / r['cold_seconds']:>6.2f}")
    s = report["summary"]
    if s:
        lines += ["", f"days 1..{report['data']['days'] - 1}: mean warm/cold fit time {s['mean_fit_time_ratio']:.2f} "
                      f"(median {s['median_fit_time_ratio']:.2f}), "
                      f"mean NDCG@10 warm - cold {s['mean_ndcg_difference']:+.4f} "
                      f"({s['mean_warm_ndcg']:.4f} vs {s['mean_cold_ndcg']:.4f}), "
                      f"mean Recall@10 warm - cold {s['mean_recall_difference']:+.4f}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--days", type=int, default=8, help="retrain days (the data spans one more, for evaluation)")
    p.add_argument("--users", type=int, default=3000, help="users of the generated data (over all days)")
    p.add_argument("--items", type=int, default=600, help="artists of the generated data (over all days)")
    p.add_argument("--seed", type=int, default=3, help="seed of the data")
    p.add_argument("--warm-sweeps", type=int, default=DEFAULT_WARM_SWEEPS, help="sweeps of a warm fit")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.reject_unknown(argv, also=build_parser(prog=PROG))
    args, rest = p.parse_known_args(argv)
    if args.days < 2:
        p.error("--days must be at least 2 (day 0 has no champion)")
    if args.users < 50:
        p.error("--users must be at least 50")
    if args.items < 20:
        p.error("--items must be at least 20")
    if args.warm_sweeps < 1:
        p.error("--warm-sweeps must be at least 1")
    params = params_from_args(build_parser(prog=PROG).parse_args(rest + ["--train", "-"]))
    progress = Progress("warm-start-bench", choose(args.quiet))
    with tempfile.TemporaryDirectory(prefix="warm-start-bench-") as work:
        report = bench(args.days, args.users, args.items, args.seed, params, args.warm_sweeps, work, progress)
    print(json.dumps(report, indent=2) if args.json else table(report))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
