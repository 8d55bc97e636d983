"""Offline recommendations for benchmarks (stable interface).

    python -m artist_recommender.offline --train DIR --k 10 --out RECS.tsv [--quiet] [--factors N ...]

Trains on DIR/interactions.csv (+ DIR/users.csv when present) and writes one line per user:
`user_id<TAB>comma-separated artist ids`, best first, artists seen in train excluded. No threshold
is applied: benchmarks rank the full top-k. As the training job does, it first searches the
hyperparameters on an inner split of DIR (tuning.py; --tune false keeps the defaults;
--tune-budget-seconds, --tune-max-configs), then fits the winner on all of DIR.
Bad input (a missing folder or file, a malformed row, a bad flag) is one line on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from .channels import channel_problem
from common.cli import CliError, Parser, run, writable_parent
from .data import load_channel
from common.progress import Progress, choose
from .train_job import build_parser, fit_stage, params_from_args
from .tuning import tune

PROG = "recommender:offline"


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--train", required=True, help="folder with interactions.csv [and users.csv]")
    p.add_argument("--k", type=int, default=10, help="recommendations per user")
    p.add_argument("--out", required=True, help="output TSV path")
    p.add_argument("--skip-bad-rows", action="store_true", help="count and skip invalid rows")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    # Flags neither this tool nor the training script knows are named before anything else.
    p.reject_unknown(argv, also=build_parser(prog=PROG))
    args, rest = p.parse_known_args(argv)
    if args.k < 1:
        p.error("--k must be positive")
    # Remaining flags are the training hyperparameters (--factors, --reg, ...).
    hp = build_parser(prog=PROG).parse_args(rest + ["--train", args.train])
    problem = channel_problem(args.train, "--train")
    if problem:
        raise CliError(problem)
    writable_parent(args.out, "--out")
    progress = Progress("offline", choose(args.quiet))
    with progress.stage("load") as stage:
        data = load_channel(args.train, args.skip_bad_rows)
        stage.summary = f"{data.num_users:,} users, {len(data.weights):,} interactions"
    began = time.perf_counter()
    params = params_from_args(hp)
    if hp.tune:
        params = tune(data, params, hp.tune_budget_seconds, seed=hp.seed, progress=progress,
                      max_configs=hp.tune_max_configs).best
    trained = fit_stage(progress, "fit", data, params)
    with progress.stage("recommend", total=data.num_users, unit="user") as stage:
        scorer = trained.scorer()
        indices, _ = scorer.recommend_known(torch.arange(data.num_users), args.k, threshold=None)
        stage.update(data.num_users)
    with open(args.out, "w", encoding="utf-8") as handle:
        for user, idx in zip(data.user_ids, indices):
            handle.write(f"{user}\t{','.join(data.item_ids[i] for i in idx)}\n")
    print(f"wrote {data.num_users} users to {args.out} (fit {time.perf_counter() - began:.1f}s, "
          f"{data.skipped_rows} bad rows skipped)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
