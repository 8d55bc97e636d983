"""Synthetic throughput benchmark of the ALS solver (meant for CUDA; small sizes run on CPU).

    python -m artist_recommender.bench --gpu-synthetic [--users 1000000 --items 100000
        --interactions 100000000 --factors 64 --epochs 3 --device cuda --solver cg|exact]

Draws users uniformly and items from a Zipf-like popularity (like real listening data), builds the
sparse matrix on the device and times full ALS epochs (user half-step + item half-step) with the
training job's solver (--solver, default cg as in ALSParams; CG steps start from the previous
epoch's factors, as in a fit).
Reports interactions/s (samples/s) and seconds per epoch. Duplicate (user, item) draws are kept
as separate cells: harmless for a throughput measurement.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from .als import SOLVERS, ALSParams, RowCells, SparseRows, column_weights, solve_rows, solve_rows_cg
from common.cli import Parser
from common.progress import Progress, choose


def synthetic_matrix(users: int, items: int, interactions: int, device, seed: int = 0, chunk: int = 1 << 24):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    weights = 1.0 / torch.arange(1, items + 1, dtype=torch.float64) ** 0.8
    rows, cols = [], []
    for start in range(0, interactions, chunk):
        n = min(chunk, interactions - start)
        rows.append(torch.randint(0, users, (n,), generator=gen).to(device))
        cols.append(torch.multinomial(weights, n, replacement=True, generator=gen).to(device))
    rows, cols = torch.cat(rows), torch.cat(cols)
    vals = 1.0 + torch.log1p(torch.rand(interactions, generator=gen) * 100).to(device)
    return SparseRows(rows, cols, vals.float(), users, items)


def _half_step(other, side, params, budget, row_w, other_w, previous, cells):
    """Every row of `side` solved from `other` (CG from `previous`, or exact), in row order."""
    rows = side.by_length
    if params.solver == "cg":
        solved = solve_rows_cg(other, side, rows, params, row_w, other_w, previous[rows], cells=cells)
    else:
        solved = solve_rows(other, side, rows, params, budget, row_w, other_w)
    out = torch.empty_like(solved)
    out[rows] = solved
    return out


def _epoch(matrix, columns, user_f, item_f, params, budget, row_ones, col_w, sync, cells):
    """One full ALS epoch (user half-step, item half-step); returns (seconds, user factors, item
    factors). cells: the two sides' RowCells for the CG solver (built once, as a fit does)."""
    began = time.perf_counter()
    user_f = _half_step(item_f, matrix, params, budget, row_ones, col_w, user_f, cells and cells[0])
    item_f = _half_step(user_f, columns, params, budget, col_w, row_ones, item_f, cells and cells[1])
    sync()
    return time.perf_counter() - began, user_f, item_f


def main(argv=None) -> dict:
    p = Parser(prog="recommender:bench --gpu-synthetic", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--interactions", type=int, default=100_000_000)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--solver", choices=SOLVERS, default=ALSParams.solver, help="the ALS solver (als.py)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--budget", type=int, default=0, help="elements per solve batch (0 = by device)")
    p.add_argument("--tf32", type=int, default=1, help="TF32 Gram products on CUDA (1/0)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    for name in ("users", "items", "interactions", "factors", "epochs"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be positive")
    if args.budget < 0:
        p.error("--budget must be 0 (by device) or positive")
    try:
        device = torch.device(args.device)
    except RuntimeError as exc:
        p.error(f"--device {args.device}: {exc}")
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error(f"--device {args.device}: torch sees no CUDA device")
    progress = Progress("gpu-synthetic", choose(args.quiet))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
    budget = args.budget or ((1 << 28) if device.type == "cuda" else (1 << 22))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    began = time.perf_counter()
    with progress.stage("build matrix") as stage:
        matrix = synthetic_matrix(args.users, args.items, args.interactions, device)
        columns = matrix.transpose()
        sync()
        stage.summary = f"{args.users:,} users x {args.items:,} items, {args.interactions:,} interactions on {device}"
    build_seconds = time.perf_counter() - began

    params = ALSParams(factors=args.factors, solver=args.solver)
    gen = torch.Generator().manual_seed(0)
    item_f = (torch.randn(args.items, args.factors, generator=gen) * 0.01).to(device)
    col_w = column_weights(columns.lengths, params).to(device)
    row_ones = torch.ones(args.users, device=device)
    user_f = torch.zeros(args.users, args.factors, device=device)
    cells = None
    if params.solver == "cg":
        cells = (RowCells(matrix, matrix.by_length, params, row_ones, col_w),
                 RowCells(columns, columns.by_length, params, col_w, row_ones))
    epochs = []
    with progress.stage("epochs", total=args.epochs, unit="epoch", every=True) as stage:
        for _ in range(args.epochs):
            epochs.append(_epoch(matrix, columns, user_f, item_f, params, budget, row_ones, col_w, sync, cells))
            _, user_f, item_f = epochs[-1]
            stage.postfix(f"{args.interactions / epochs[-1][0]:,.0f} interactions/s")
            stage.update()
        stage.summary = f"best {args.interactions / min(e[0] for e in epochs):,.0f} interactions/s"
    epochs = [seconds for seconds, _, _ in epochs]
    best = min(epochs)
    result = {
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "users": args.users, "items": args.items, "interactions": args.interactions, "factors": args.factors,
        "solver": params.solver,
        "build_seconds": round(build_seconds, 3),
        "epoch_seconds": [round(e, 3) for e in epochs],
        "samples_per_second": round(args.interactions / best, 1),
        "finite": bool(torch.isfinite(item_f).all()),
    }
    if device.type == "cuda":
        result["peak_gpu_memory_gb"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main()
