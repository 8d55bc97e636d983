"""Offline benchmark on Last.fm hetrec2011 (PROTOCOL.md), and a synthetic GPU throughput mode.

    python -m recommender.bench --data DIR [--json] [--inner]

Builds the official seed-42 split (md5-checked, fails loudly on mismatch) and reports Recall@10,
NDCG@10, HitRate@10, Coverage@10, fit seconds and peak memory for: our model (tuned defaults),
popularity, and plain iALS (64 factors, confidence 1+log1p(plays), lambda 30, 15 iterations).
Each method runs in its own subprocess so fit time and peak RSS are its own.
--inner evaluates on the seed-43 split of the official train instead (the only data used for tuning).

    python -m recommender.bench --gpu-synthetic [--users N --items N --interactions N ...]

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

import torch

from .als import ALSParams
from .data import build_interactions
from .evaluation import evaluate, popularity_recommendations, truth_by_user
from .lastfm import INNER_SEED, official_split
from .metrics import ranking_metrics
from .model import ModelParams, fit_model
from .split import per_user_split

METHODS = ("ours", "popularity", "ials")
BASELINE_IALS = ModelParams(als=ALSParams(factors=64, reg=30.0, unobserved_weight=1.0, iterations=15), alpha=1.0,
                            norm_exponent=0.0, neighbour_weight=0.0)
COLUMNS = ("recall_at_10", "ndcg_at_10", "hit_rate_at_10", "coverage_at_10")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def load_split(data_dir: str, inner: bool):
    train, test, md5s = official_split(data_dir)
    if inner:
        train, test = per_user_split(train, INNER_SEED)
    return build_interactions(train), test, md5s


def run_method(method: str, data_dir: str, inner: bool, params: ModelParams, k: int = 10) -> dict:
    data, test, md5s = load_split(data_dir, inner)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if method == "popularity":
        began = time.perf_counter()
        truth = truth_by_user(data, test)
        recs = popularity_recommendations(data, sorted(truth), k)
        fit = time.perf_counter() - began
        metrics = ranking_metrics(recs, truth, data.num_items, k)
    else:
        chosen = params if method == "ours" else BASELINE_IALS
        began = time.perf_counter()
        trained = fit_model(data, chosen)
        fit = time.perf_counter() - began
        metrics = evaluate(trained, test, k)["model"]
    return {"method": method, **metrics, "fit_seconds": round(fit, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "md5": md5s, "split": "inner-seed-43" if inner else "official-seed-42"}


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
    lines = ["| Method | Recall@10 | NDCG@10 | HitRate@10 | Coverage@10 | fit s | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        values = " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
        lines.append(f"| {r['method']} | {values} | {r['fit_seconds']:.1f} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="folder with the hetrec2011 Last.fm files")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--inner", action="store_true", help="evaluate on the seed-43 inner split (tuning)")
    p.add_argument("--only", choices=METHODS, help="run one method in this process")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset to run")
    for name in ("--factors", "--iterations"):
        p.add_argument(name, type=int)
    for name in ("--reg", "--reg-exponent", "--unobserved-weight", "--unobserved-exponent", "--alpha", "--norm-exponent",
                 "--neighbour-weight"):
        p.add_argument(name, type=float)
    p.add_argument("--gpu-synthetic", action="store_true", help="synthetic throughput benchmark")
    args, rest = p.parse_known_args(argv)

    if args.gpu_synthetic:
        from . import gpu_synthetic

        gpu_synthetic.main(rest + (["--json"] if args.json else []))
        return
    if rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    if not args.data:
        p.error("--data is required")
    params = params_from(args)
    if args.only:
        print(json.dumps(run_method(args.only, args.data, args.inner, params)))
        return

    results = []
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in ("--json",)]
    for method in args.methods.split(","):
        cmd = [sys.executable, "-m", "recommender.bench", *forwarded, "--only", method]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"benchmark of {method} failed (exit {done.returncode})")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    md5s = results[0]["md5"]
    if args.json:
        print(json.dumps({"split": results[0]["split"], "md5": md5s, "params": params.to_dict(),
                          "results": [{k: v for k, v in r.items() if k not in ("md5", "split")} for r in results]}))
    else:
        print(f"split {results[0]['split']}: train md5 {md5s['train']}, test md5 {md5s['test']} (verified)")
        print(format_table(results))


if __name__ == "__main__":
    main()
