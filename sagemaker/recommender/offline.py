"""Offline recommendations for benchmarks (stable interface).

    python -m recommender.offline --train DIR --k 10 --out RECS.tsv

Trains on DIR/interactions.csv (+ DIR/users.csv when present) with the default hyperparameters and
writes one line per user: `user_id<TAB>comma-separated artist ids`, best first, artists seen in
train excluded. No threshold is applied: benchmarks rank the full top-k.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from .data import DataError, load_channel
from .model import fit_model
from .train_job import build_parser, params_from_args


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="folder with interactions.csv [and users.csv]")
    p.add_argument("--k", type=int, default=10, help="recommendations per user")
    p.add_argument("--out", required=True, help="output TSV path")
    p.add_argument("--skip-bad-rows", action="store_true", help="count and skip invalid rows")
    args, rest = p.parse_known_args(argv)
    if args.k < 1:
        p.error("--k must be positive")
    # Remaining flags are the training hyperparameters (--factors, --reg, ...).
    hp = build_parser().parse_args(rest + ["--train", args.train])
    try:
        data = load_channel(args.train, args.skip_bad_rows)
    except DataError as exc:
        print(f"data error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    began = time.perf_counter()
    trained = fit_model(data, params_from_args(hp))
    scorer = trained.scorer()
    indices, _ = scorer.recommend_known(torch.arange(data.num_users), args.k, threshold=None)
    with open(args.out, "w", encoding="utf-8") as handle:
        for user, idx in zip(data.user_ids, indices):
            handle.write(f"{user}\t{','.join(data.item_ids[i] for i in idx)}\n")
    print(f"wrote {data.num_users} users to {args.out} (fit {time.perf_counter() - began:.1f}s, "
          f"{data.skipped_rows} bad rows skipped)", file=sys.stderr)


if __name__ == "__main__":
    main()
