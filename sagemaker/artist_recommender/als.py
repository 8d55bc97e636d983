"""Implicit-feedback alternating least squares (iALS) in torch, exact per-row solves.

Each observed cell (r, c) has confidence conf[r, c] and preference 1; every unobserved cell has
weight w_c and preference 0, where w_c = w0 * n_cols * pop_c**gamma / sum(pop**gamma) spreads the
unobserved weight by column popularity (gamma = unobserved_exponent; 0 gives the uniform w0 of
classic iALS). Popular columns that a user skipped are then stronger negative evidence than
rare ones they never had the chance to meet. An observed cell may also carry preference 0 (an
explicit negative: an artist served to the user and not clicked, see feedback.py), which pulls the
prediction to 0 with its own confidence instead of w_c. One half-step solves, for every user row r,
    (Y^T W Y + sum_c (conf_rc - w_c) y_c y_c^T + lambda_r I) x_r = sum_c conf_rc p_rc y_c
and, for every column c, the same with the scalar w_c in place of W. lambda_r = reg * (n_r +
total unobserved weight) ** reg_exponent (frequency-scaled regularisation; exponent 0 gives the
classic constant lambda). Rows are batched by similar length so the padded gathers stay small,
and under torch.distributed each rank solves an interleaved share of the rows (balanced by
length) and the shares are all-gathered, which gives the same factors as one process.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch

from artist_recommender.checkpoint import SweepCheckpoint, SweepState
from common.distributed import DistContext, gather_rows


@dataclass
class ALSParams:
    factors: int = 64
    reg: float = 30.0
    reg_exponent: float = 0.0
    unobserved_weight: float = 1.0
    unobserved_exponent: float = 0.0
    iterations: int = 15
    init_std: float = 0.01
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class SparseRows:
    """CSR view of a sparse matrix plus a length-sorted row order used for batching."""

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, n_rows: int, n_cols: int,
                 targets: torch.Tensor | None = None):
        order = torch.argsort(rows * n_cols + cols)
        self.indices = cols[order].contiguous()
        self.values = vals[order].contiguous()
        # Preference p of each cell (1 when None): the right-hand side weighs a cell by conf * p.
        self.targets = None if targets is None else targets[order].contiguous()
        counts = torch.bincount(rows, minlength=n_rows)
        self.indptr = torch.zeros(n_rows + 1, dtype=torch.long, device=rows.device)
        self.indptr[1:] = torch.cumsum(counts, 0)
        self.lengths = counts
        self.n_rows, self.n_cols = n_rows, n_cols
        self.by_length = torch.argsort(counts, stable=True)

    def transpose(self) -> "SparseRows":
        rows = torch.repeat_interleave(torch.arange(self.n_rows, device=self.indices.device), self.lengths)
        return SparseRows(self.indices, rows, self.values, self.n_cols, self.n_rows, self.targets)

    def row_shares(self, world_size: int) -> list[torch.Tensor]:
        """Interleaved shares of the length-sorted rows: similar total work per rank."""
        return [self.by_length[r::world_size] for r in range(world_size)]


def _chunks(lengths: list[int], factors: int, budget: int):
    """Greedy [start, end) batches over length-sorted rows within a memory budget (elements)."""
    start = 0
    n = len(lengths)
    while start < n:
        end = start + 1
        while end < n:
            width = max(1, lengths[end])
            size = end + 1 - start
            if size * (width * factors + factors * factors) > budget:
                break
            end += 1
        yield start, end
        start = end


def column_weights(counts: torch.Tensor, params: ALSParams) -> torch.Tensor:
    """Unobserved weight per column: w0 on average, shaped by popularity**unobserved_exponent."""
    if params.unobserved_exponent == 0:
        return torch.full(counts.shape, params.unobserved_weight, dtype=torch.float32, device=counts.device)
    shaped = counts.double().clamp_min(1.0) ** params.unobserved_exponent
    return (params.unobserved_weight * len(counts) * shaped / shaped.sum()).float()


def _woodbury_solve(rotated, pull, coef, reg, scale, eigvals, eigvecs):
    """Solves (Q diag(scale * eigvals) Q^T + reg I + V^T diag(coef) V) x = V^T conf for short rows.

    In the eigenbasis of the shared Gram the regularised part is diagonal (d = scale*eigvals + reg),
    so the push-through identity needs only an L x L solve per row (L = row length << factors):
        x = z - D^-1 S^T (I + diag(coef) S D^-1 S^T)^-1 diag(coef) S z,  z = D^-1 b,  S = V Q.
    Exact like the Cholesky path (coef may be negative), but O(L k + L^3) per row, not O(k^3).
    rotated: the row's other-side factors already in the eigenbasis, (B, L, k); pull: conf * p, (B, L).
    """
    inv_d = torch.reciprocal(scale[:, None] * eigvals[None, :] + reg[:, None])  # (B, k)
    b = (pull[:, :, None] * rotated).sum(1)  # (B, k)
    z = inv_d * b
    eye = torch.eye(rotated.shape[1], dtype=rotated.dtype, device=rotated.device)
    middle = eye + coef[:, :, None] * torch.bmm(rotated * inv_d[:, None, :], rotated.transpose(1, 2))
    y = torch.linalg.solve(middle, coef[:, :, None] * torch.bmm(rotated, z[:, :, None]))  # (B, L, 1)
    x = z - inv_d * torch.bmm(rotated.transpose(1, 2), y).squeeze(-1)
    return x @ eigvecs.T


def solve_rows(other, matrix: SparseRows, rows, params: ALSParams, budget: int, row_w, other_w):
    """Least-squares solutions for `rows` (length-sorted) given the other side's factors.

    The unobserved weight of cell (r, c) is row_w[r] * other_w[c]; one of the two is all ones."""
    k = other.shape[1]
    gram = other.T @ (other * other_w[:, None])
    total_w = float(other_w.sum())
    eigvals, eigvecs = torch.linalg.eigh(gram.double())
    eigvals, eigvecs = eigvals.clamp_min(0).to(other.dtype), eigvecs.to(other.dtype)
    eye = torch.eye(k, dtype=other.dtype, device=other.device)
    other_rotated = other @ eigvecs
    lengths = matrix.lengths[rows]
    out = torch.empty(len(rows), k, dtype=other.dtype, device=other.device)
    for start, end in _chunks(lengths.tolist(), k, budget):
        batch = rows[start:end]
        n = lengths[start:end]
        width = max(1, int(n.max()))
        offsets = torch.arange(width, device=other.device)
        mask = offsets[None, :] < n[:, None]
        pos = torch.where(mask, matrix.indptr[batch][:, None] + offsets[None, :], torch.zeros_like(offsets))
        cols = matrix.indices[pos]
        zero = torch.zeros((), dtype=other.dtype, device=other.device)
        conf = torch.where(mask, matrix.values[pos], zero)
        pull = conf if matrix.targets is None else conf * torch.where(mask, matrix.targets[pos], zero)
        scale = row_w[batch]
        coef = torch.where(mask, conf - scale[:, None] * other_w[cols], zero)
        reg = params.reg * (n.to(other.dtype) + scale * total_w) ** params.reg_exponent
        if 2 * width <= k:
            out[start:end] = _woodbury_solve(other_rotated[cols], pull, coef, reg, scale, eigvals, eigvecs)
            continue
        vecs = other[cols]  # (B, L, k)
        lhs = torch.bmm(vecs.transpose(1, 2) * coef[:, None, :], vecs)
        lhs = lhs + scale[:, None, None] * gram + reg[:, None, None] * eye
        rhs = torch.bmm(vecs.transpose(1, 2), pull[:, :, None])
        chol, info = torch.linalg.cholesky_ex(lhs)
        if bool((info != 0).any()):
            out[start:end] = torch.linalg.solve(lhs, rhs).squeeze(-1)
        else:
            out[start:end] = torch.cholesky_solve(rhs, chol).squeeze(-1)
    return out


def initial_factors(n: int, params: ALSParams, device, dtype=torch.float32) -> torch.Tensor:
    # Drawn on the CPU from a fixed seed so every rank and device starts from the same values.
    gen = torch.Generator().manual_seed(params.seed)
    return (torch.randn(n, params.factors, generator=gen, dtype=torch.float64) * params.init_std).to(device, dtype)


def fit_als(matrix: SparseRows, params: ALSParams, ctx: DistContext | None = None, budget: int = 1 << 24, log=None,
            checkpoint: SweepCheckpoint | None = None, on_sweep=None):
    """Alternates row/column solves.

    With a checkpoint, a fit continues after the last sweep it holds, and the state after every
    sweep is saved: the factors after sweep k depend only on the factors after sweep k-1, so the
    resumed fit gives the factors of an uninterrupted one.
    on_sweep(done, seconds) is called after each sweep (and once with seconds None for the sweeps
    a checkpoint restored), for progress display.
    Returns (row_factors, col_factors, column unobserved weights, seconds per iteration)."""
    ctx = ctx or DistContext()
    device, dtype = matrix.values.device, matrix.values.dtype
    columns = matrix.transpose()
    row_shares, col_shares = matrix.row_shares(ctx.world_size), columns.row_shares(ctx.world_size)
    col_factors = initial_factors(matrix.n_cols, params, device, dtype)
    row_factors = torch.zeros(matrix.n_rows, params.factors, dtype=dtype, device=device)
    col_w = column_weights(columns.lengths, params).to(dtype)
    row_ones = torch.ones(matrix.n_rows, dtype=dtype, device=device)
    timings = []
    start = 0
    if checkpoint is not None:
        state = checkpoint.restore(matrix.n_rows, matrix.n_cols, params.factors, params.iterations, device)
        if state is not None:
            row_factors, col_factors = state.row_factors.to(device, dtype), state.col_factors.to(device, dtype)
            timings, start = list(state.timings), state.sweep
    if on_sweep is not None and start:
        on_sweep(start, None)
    for iteration in range(start, params.iterations):
        began = time.perf_counter()
        local = solve_rows(col_factors, matrix, row_shares[ctx.rank], params, budget, row_ones, col_w)
        row_factors = gather_rows(local, row_shares, matrix.n_rows, ctx)
        local = solve_rows(row_factors, columns, col_shares[ctx.rank], params, budget, col_w, row_ones)
        col_factors = gather_rows(local, col_shares, matrix.n_cols, ctx)
        timings.append(time.perf_counter() - began)
        if checkpoint is not None:
            checkpoint.save(SweepState(iteration + 1, row_factors, col_factors, timings), params.iterations, device)
        if log is not None:
            log(f"als iteration {iteration + 1}/{params.iterations}: {timings[-1]:.2f}s")
        if on_sweep is not None:
            on_sweep(iteration + 1, timings[-1])
    return row_factors, col_factors, col_w, timings
