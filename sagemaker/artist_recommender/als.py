"""Implicit-feedback alternating least squares (iALS) in torch: conjugate-gradient or exact per-row solves.

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

solver "exact" solves each row's system (Woodbury for short rows, Cholesky for long ones); "cg"
(the default) takes cg_steps conjugate-gradient steps per row from that row's factors of the
previous sweep (Takacs, Pilaszy, Tikk 2011, "Applications of the conjugate gradient method for
implicit feedback collaborative filtering"; the `implicit` library's default), never forming a
k x k matrix per row: on CPU the exact path spends its time in per-row k x k work and padded
gathers, CG in a few passes over the cells. Those passes are sparse kernels where torch has fast
ones (sparse_cell_products): the cells' dot products as an SDDMM (torch.sparse.sampled_addmm) and
their weighted sum as a CSR x dense product, so no factor vector is copied per cell. On Last.fm-2k
(128 factors, 15 sweeps, 2 CPU cores, torch 2.8) a fit takes 0.5-0.6 s; in the same
`recommender:bench` command the `implicit` library's CPU ALS took 0.77 s at 64 factors.
"""
from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import asdict, dataclass

import torch

from artist_recommender.checkpoint import SweepCheckpoint, SweepState
from common.distributed import DistContext, gather_rows


SOLVERS = ("exact", "cg")
# torch 2.x marks its CSR tensors beta on first use; the two kernels used here (sampled_addmm, CSR @
# dense) are tested against the gather path (tests/artist_recommender/test_als.py).
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


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
    # "exact": Cholesky / Woodbury solve of every row; "cg": cg_steps conjugate-gradient steps per
    # row started from the row's factors of the previous sweep (Takacs et al. 2011, as the
    # `implicit` library does). On Last.fm-2k (official split, 128 factors, 15 sweeps) cg with 3
    # steps gave the exact solve's NDCG@10 (0.2512 both; planted 0.1839 vs 0.1838) in 1/2 to
    # 1/5 of its fit time on 2 shared CPU cores (before its sparse kernels); 2 steps lost 0.0005.
    solver: str = "cg"
    cg_steps: int = 3

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


def sparse_cell_products(device) -> bool:
    """Whether the CG steps take their per-cell products as sparse CSR kernels (SDDMM for the cells'
    dot products, SpMM to sum them back) rather than gathering one factor vector per cell.

    Everywhere from torch 2.0 on, and on CUDA (cuSPARSE). torch 1.x's CPU sampled_addmm forms the
    dense product first (measured on Last.fm-2k with Debian's torch 1.13: 100 ms for a pass the gather
    does in 14 ms), so there the gather path stays; torch 2.8's (the training image's) took 0.9 ms.
    sampled_addmm takes a CSR `input` and dense (strided) mat1 and mat2, 2-D, unbatched:
    https://docs.pytorch.org/docs/stable/generated/torch.sparse.sampled_addmm.html
    """
    return torch.device(device).type == "cuda" or int(torch.__version__.split(".")[0]) >= 2


class RowCells:
    """What one side's CG solves need of its rows' cells, all of it fixed for a fit (the data, the
    unobserved weights, the row share) and so built once per side, not per half-sweep: the cells in
    CSR order of `rows`, each cell's system weight coef = conf - w_r w_c and right-hand-side weight
    pull = conf * p, and each row's lambda and Gram scale."""

    def __init__(self, matrix: SparseRows, rows, params: ALSParams, row_w, other_w, sparse: bool | None = None):
        device = matrix.values.device
        lengths = matrix.lengths[rows]
        # Cell positions of `rows` in CSR order, and each cell's row within `rows`.
        cell_row = torch.repeat_interleave(torch.arange(len(rows), device=device), lengths)
        firsts = torch.cumsum(lengths, 0) - lengths
        pos = matrix.indptr[rows][cell_row] + torch.arange(len(cell_row), device=device) - firsts[cell_row]
        self.cols = matrix.indices[pos]
        conf = matrix.values[pos]
        self.pull = conf if matrix.targets is None else conf * matrix.targets[pos]
        self.scale = row_w[rows][:, None]
        self.coef = conf - self.scale[cell_row, 0] * other_w[self.cols]
        self.total_w = float(other_w.sum())
        counts = lengths.to(conf.dtype) + self.scale[:, 0] * self.total_w
        self.reg = (params.reg * counts**params.reg_exponent)[:, None]
        # One Gram scale and one lambda for every row (w_r uniform and reg_exponent 0, the usual
        # case): then scale G + lambda I is one k x k matrix and A p needs a single matmul.
        self.uniform = len(rows) > 0 and bool((self.scale == self.scale[0]).all() and (self.reg == self.reg[0]).all())
        self.other_w = other_w
        self.sparse = sparse_cell_products(device) if sparse is None else sparse
        self.shape = (len(rows), matrix.n_cols)
        if self.sparse:
            self.crow = torch.zeros(len(rows) + 1, dtype=torch.long, device=device)
            self.crow[1:] = torch.cumsum(lengths, 0)
            self.pattern = self._csr(torch.zeros_like(self.coef))
        else:
            self.cell_row = cell_row

    def _csr(self, values):
        return torch.sparse_csr_tensor(self.crow, self.cols, values, self.shape)

    def products(self, other):
        """(pulled, add_weighted) for the other side's factors `other`: pulled = sum_c pull_rc y_c,
        and add_weighted(p, out) adds sum_c coef_rc (y_c . p_r) y_c to out's row r, for every row r."""
        if self.sparse:
            other_t = other.T

            def add_weighted(p, out):
                dots = torch.sparse.sampled_addmm(self.pattern, p, other_t, beta=0.0).values()
                return out.addmm_(self._csr(self.coef * dots), other)

            return self._csr(self.pull) @ other, add_weighted
        vecs = other[self.cols]  # (nnz, k)

        def add_weighted(p, out):
            # Row-wise dot products as a batched (1 x k)(k x 1) product: no (nnz, k) temporary.
            dots = torch.bmm(vecs.unsqueeze(1), p[self.cell_row].unsqueeze(2)).view(-1)
            return out.index_add_(0, self.cell_row, vecs * (self.coef * dots)[:, None])

        pulled = torch.zeros(self.shape[0], other.shape[1], dtype=other.dtype, device=other.device)
        return pulled.index_add_(0, self.cell_row, self.pull[:, None] * vecs), add_weighted


def solve_rows_cg(other, matrix: SparseRows, rows, params: ALSParams, row_w, other_w, start,
                  sparse: bool | None = None, cells: RowCells | None = None):
    """Approximate least-squares solutions for `rows`: params.cg_steps conjugate-gradient steps from
    `start` (the rows' factors of the previous sweep, or zeros) on solve_rows' system.

    The system matrix A_r = row_w[r] G + sum_c coef_rc y_c y_c^T + lambda_r I is never formed: A p
    needs the shared Gram G and one pass over the rows' cells, all rows at once with no padding
    (RowCells), so a step costs O(n k^2 + nnz k) instead of the exact solve's O(n k^3) and no Python
    loop runs per row or batch. A_r is positive definite (observed cells swap w_c for conf >= 0;
    lambda_r > 0), which CG needs. sparse: the cell products' path (None: sparse_cell_products);
    cells: the rows' RowCells when the caller keeps them across sweeps (then matrix, rows, row_w,
    other_w and sparse are theirs)."""
    cells = cells or RowCells(matrix, rows, params, row_w, other_w, sparse)
    gram = other.T @ (other * cells.other_w[:, None])
    pulled, add_weighted = cells.products(other)
    reg, scale = cells.reg, cells.scale
    if cells.uniform:
        shared = gram * scale[0, 0] + reg[0, 0] * torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)

        def times_a(p):
            return add_weighted(p, p @ shared)
    else:

        def times_a(p):
            return add_weighted(p, torch.addcmul(reg * p, scale, p @ gram))

    x = start.clone()
    r = pulled.sub_(times_a(x))
    p = r.clone()
    rs = squared_norms(r)
    tiny = torch.finfo(other.dtype).tiny
    for _ in range(params.cg_steps):
        ap = times_a(p)
        # A row that has converged (rs = 0) takes no step instead of dividing by zero.
        alpha = rs / (p * ap).sum(1, keepdim=True).clamp_min(tiny)
        x.addcmul_(alpha, p)
        r.addcmul_(alpha, ap, value=-1.0)
        rs_next = squared_norms(r)
        p = torch.addcmul(r, rs_next / rs.clamp_min(tiny), p)
        rs = rs_next
    return x


def squared_norms(rows):
    """|row|^2 of each row, (n, 1), in one pass (no n x k temporary)."""
    return torch.linalg.vector_norm(rows, dim=1, keepdim=True).square_()


@dataclass
class InitialFactors:
    """Starting factors of a warm fit: row factors, column factors, or both (None: not given).

    Given rows, every sweep solves the columns first (from these rows), then the rows; otherwise
    the rows first, from the given columns or from random ones. The side that is solved first is
    never read, so only the other side shapes the fit, and only it enters the digest."""

    rows: torch.Tensor | None = None
    cols: torch.Tensor | None = None

    @property
    def columns_first(self) -> bool:
        return self.rows is not None

    def digest(self) -> str:
        """SHA-256 of the factors the fit starts from, for checkpoint keys."""
        h = hashlib.sha256()
        start = self.rows if self.columns_first else self.cols
        h.update(b"rows" if self.columns_first else b"cols")
        if start is not None:
            array = start.detach().cpu().float().contiguous().numpy()
            h.update(f"{array.shape}".encode())
            h.update(memoryview(array).cast("B"))
        return h.hexdigest()


def initial_factors(n: int, params: ALSParams, device, dtype=torch.float32) -> torch.Tensor:
    # Drawn on the CPU from a fixed seed so every rank and device starts from the same values.
    gen = torch.Generator().manual_seed(params.seed)
    return (torch.randn(n, params.factors, generator=gen, dtype=torch.float64) * params.init_std).to(device, dtype)


def fit_als(matrix: SparseRows, params: ALSParams, ctx: DistContext | None = None, budget: int = 1 << 24, log=None,
            checkpoint: SweepCheckpoint | None = None, on_sweep=None, initial: InitialFactors | None = None):
    """Alternates row/column solves.

    With `initial` (a warm start), the fit starts from those factors instead of random columns:
    given rows, each sweep solves the columns first, so the first half-sweep fills in the side
    that was not given (see InitialFactors).

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
    initial = initial or InitialFactors()
    for name, given, n in (("rows", initial.rows, matrix.n_rows), ("cols", initial.cols, matrix.n_cols)):
        if given is not None and tuple(given.shape) != (n, params.factors):
            raise ValueError(f"initial {name} have shape {tuple(given.shape)}, the fit needs {(n, params.factors)}")
    if initial.cols is not None:
        col_factors = initial.cols.to(device, dtype)
    else:
        col_factors = initial_factors(matrix.n_cols, params, device, dtype)
    if initial.rows is not None:
        row_factors = initial.rows.to(device, dtype)
    else:
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
    if params.solver not in SOLVERS:
        raise ValueError(f"unknown solver {params.solver!r}: one of {', '.join(SOLVERS)}")
    if params.solver == "cg" and params.cg_steps < 1:
        raise ValueError(f"cg_steps must be at least 1, got {params.cg_steps}")

    cells: dict[int, RowCells] = {}  # per side, built on its first CG solve

    def half_sweep(other, side: SparseRows, shares, row_w, other_w, previous, fresh: bool):
        rows = shares[ctx.rank]
        if params.solver == "exact":
            local = solve_rows(other, side, rows, params, budget, row_w, other_w)
        else:
            # The side solved first in a fit's first sweep starts from zeros, so that side is never
            # read (InitialFactors); every later solve starts from the previous sweep's factors,
            # which a checkpoint holds, so a resumed fit still equals an uninterrupted one.
            start = torch.zeros(len(rows), other.shape[1], dtype=dtype, device=device) if fresh else previous[rows]
            if id(side) not in cells:
                cells[id(side)] = RowCells(side, rows, params, row_w, other_w)
            local = solve_rows_cg(other, side, rows, params, row_w, other_w, start, cells=cells[id(side)])
        return gather_rows(local, shares, side.n_rows, ctx)

    for iteration in range(start, params.iterations):
        began = time.perf_counter()
        first = iteration == 0
        if initial.columns_first:
            col_factors = half_sweep(row_factors, columns, col_shares, col_w, row_ones, col_factors, first)
        row_factors = half_sweep(col_factors, matrix, row_shares, row_ones, col_w, row_factors,
                                 first and not initial.columns_first)
        if not initial.columns_first:
            col_factors = half_sweep(row_factors, columns, col_shares, col_w, row_ones, col_factors, False)
        timings.append(time.perf_counter() - began)
        if checkpoint is not None:
            checkpoint.save(SweepState(iteration + 1, row_factors, col_factors, timings), params.iterations, device)
        if log is not None:
            log(f"als iteration {iteration + 1}/{params.iterations}: {timings[-1]:.2f}s")
        if on_sweep is not None:
            on_sweep(iteration + 1, timings[-1])
    return row_factors, col_factors, col_w, timings
