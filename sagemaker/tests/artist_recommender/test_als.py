from dataclasses import replace

import pytest
import torch

from artist_recommender.als import ALSParams, SparseRows, column_weights, fit_als, solve_rows, solve_rows_cg


def dense_solution(other, conf, unobserved, reg, exponent, row):
    """Direct solve of one row's weighted least squares from the dense matrices."""
    observed = conf[row] > 0
    weights = torch.where(observed, conf[row], unobserved[row]).double()
    lam = reg * (observed.sum() + unobserved[row].sum()) ** exponent
    lhs = (other.T.double() * weights) @ other.double() + lam * torch.eye(other.shape[1], dtype=torch.float64)
    rhs = (other.T.double() * (weights * observed)).sum(1)
    return torch.linalg.solve(lhs, rhs).float()


@pytest.mark.parametrize("exponent, gamma, w0", [(0.0, 0.0, 1.0), (0.5, 0.0, 0.3), (0.0, 1.0, 2.0), (0.3, 0.5, 0.5)])
def test_batched_solver_matches_dense_least_squares(exponent, gamma, w0):
    """Both the Woodbury (short rows) and Cholesky (long rows) paths are exact."""
    gen = torch.Generator().manual_seed(0)
    n_rows, n_cols, k = 60, 80, 16
    rows = torch.randint(0, n_rows, (900,), generator=gen)
    cols = torch.randint(0, n_cols, (900,), generator=gen)
    key = torch.unique(rows * n_cols + cols)
    rows, cols = key // n_cols, key % n_cols
    vals = 1 + 3 * torch.rand(len(rows), generator=gen)
    matrix = SparseRows(rows, cols, vals, n_rows, n_cols)
    columns = matrix.transpose()
    assert int(matrix.lengths.max()) * 2 > k >= 2 * int(matrix.lengths.min())  # both paths used
    params = ALSParams(factors=k, reg=3.0, reg_exponent=exponent, unobserved_weight=w0, unobserved_exponent=gamma)
    col_w = column_weights(columns.lengths, params)
    conf = torch.zeros(n_rows, n_cols).index_put((rows, cols), vals)
    unobserved = col_w[None, :].expand(n_rows, n_cols)
    col_f = torch.randn(n_cols, k, generator=gen) * 0.3
    row_f = torch.randn(n_rows, k, generator=gen) * 0.3

    got = solve_rows(col_f, matrix, matrix.by_length, params, 1 << 20, torch.ones(n_rows), col_w)
    want = torch.stack([dense_solution(col_f, conf, unobserved, 3.0, exponent, r) for r in matrix.by_length.tolist()])
    assert torch.allclose(got, want, atol=2e-5)

    got = solve_rows(row_f, columns, columns.by_length, params, 1 << 20, col_w, torch.ones(n_rows))
    want = torch.stack([dense_solution(row_f, conf.T, unobserved.T, 3.0, exponent, c)
                        for c in columns.by_length.tolist()])
    assert torch.allclose(got, want, atol=2e-5)


def test_column_weights_average_to_w0():
    counts = torch.tensor([1, 4, 9, 100])
    flat = column_weights(counts, ALSParams(unobserved_weight=0.5))
    shaped = column_weights(counts, ALSParams(unobserved_weight=0.5, unobserved_exponent=0.5))
    assert torch.allclose(flat, torch.full((4,), 0.5))
    assert shaped.mean().item() == pytest.approx(0.5) and bool((shaped.diff() > 0).all())


@pytest.mark.parametrize("sparse", [True, False], ids=["csr-kernels", "gather"])
@pytest.mark.parametrize("exponent, gamma", [(0.0, 0.0), (0.3, 0.5)])
def test_conjugate_gradient_converges_to_the_exact_solve(exponent, gamma, sparse):
    """k CG steps solve a k-dimensional system exactly (up to rounding); a few steps from a nearby
    start land closer to the solution than the start was; a row at its solution stays there."""
    gen = torch.Generator().manual_seed(1)
    n_rows, n_cols, k = 50, 70, 8
    key = torch.unique(torch.randint(0, n_rows * n_cols, (700,), generator=gen))
    rows, cols = key // n_cols, key % n_cols
    vals = 1 + 3 * torch.rand(len(rows), generator=gen)
    matrix = SparseRows(rows, cols, vals, n_rows, n_cols)
    params = ALSParams(factors=k, reg=3.0, reg_exponent=exponent, unobserved_weight=0.5, unobserved_exponent=gamma)
    col_w = column_weights(matrix.transpose().lengths, params)
    col_f = torch.randn(n_cols, k, generator=gen) * 0.3
    ones = torch.ones(n_rows)
    exact = solve_rows(col_f, matrix, matrix.by_length, params, 1 << 20, ones, col_w)

    zeros = torch.zeros(n_rows, k)
    converged = solve_rows_cg(col_f, matrix, matrix.by_length, replace(params, cg_steps=3 * k), ones, col_w, zeros,
                              sparse=sparse)
    assert torch.allclose(converged, exact, atol=1e-4)

    start = exact + 0.05 * torch.randn(n_rows, k, generator=gen)
    few = solve_rows_cg(col_f, matrix, matrix.by_length, replace(params, cg_steps=2), ones, col_w, start, sparse=sparse)
    assert bool(((few - exact).norm(dim=1) < (start - exact).norm(dim=1)).all())
    stay = solve_rows_cg(col_f, matrix, matrix.by_length, replace(params, cg_steps=3), ones, col_w, exact, sparse=sparse)
    assert torch.allclose(stay, exact, atol=1e-4)


def test_both_cell_product_paths_take_the_same_cg_steps():
    """The CSR kernels (SDDMM + SpMM, torch >= 2 and CUDA) and the gather path (torch 1.x) compute
    the same steps, on both sides of a sweep, with explicit negatives (preference 0), rows without
    cells and a row share in length order (what a rank solves)."""
    gen = torch.Generator().manual_seed(3)
    n_rows, n_cols, k = 40, 30, 6
    key = torch.unique(torch.randint(0, (n_rows - 3) * n_cols, (400,), generator=gen))  # last 3 rows empty
    rows, cols = key // n_cols, key % n_cols
    targets = (torch.rand(len(rows), generator=gen) > 0.2).float()
    matrix = SparseRows(rows, cols, 1 + 3 * torch.rand(len(rows), generator=gen), n_rows, n_cols, targets)
    columns = matrix.transpose()
    params = ALSParams(factors=k, reg=2.0, reg_exponent=0.3, unobserved_weight=0.5, unobserved_exponent=0.5)
    col_w = column_weights(columns.lengths, params)
    col_f, row_f = torch.randn(n_cols, k, generator=gen), torch.randn(n_rows, k, generator=gen)
    share = matrix.row_shares(2)[1]
    for other, side, rows_, row_w, other_w, start in (
        (col_f, matrix, share, torch.ones(n_rows), col_w, row_f[share]),
        (row_f, columns, columns.by_length, col_w, torch.ones(n_rows), col_f[columns.by_length]),
    ):
        got = [solve_rows_cg(other, side, rows_, params, row_w, other_w, start, sparse=s) for s in (True, False)]
        assert torch.allclose(got[0], got[1], atol=1e-5)
        assert not torch.allclose(got[0], start, atol=1e-3)  # the steps moved the factors


def test_cg_fit_ranks_like_the_exact_fit():
    """Warm-started CG (3 steps per half-sweep) ends near the exact ALS fit's factors."""
    gen = torch.Generator().manual_seed(2)
    n_rows, n_cols = 120, 90
    key = torch.unique(torch.randint(0, n_rows * n_cols, (2500,), generator=gen))
    rows, cols = key // n_cols, key % n_cols
    matrix = SparseRows(rows, cols, 1 + 3 * torch.rand(len(rows), generator=gen), n_rows, n_cols)
    params = ALSParams(factors=8, reg=3.0, unobserved_weight=0.5, iterations=15)
    exact_u, exact_v, _, _ = fit_als(matrix, replace(params, solver="exact"))
    cg_u, cg_v, _, _ = fit_als(matrix, replace(params, solver="cg"))
    exact_scores, cg_scores = exact_u @ exact_v.T, cg_u @ cg_v.T
    assert float((cg_scores - exact_scores).abs().max()) < 0.05 * float(exact_scores.abs().max())
    with pytest.raises(ValueError, match="unknown solver"):
        fit_als(matrix, replace(params, solver="lu"))
