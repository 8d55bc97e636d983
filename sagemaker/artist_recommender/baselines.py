"""The reference recommenders the benchmark compares our model with, each tuned the way a fair
practitioner would tune it.

Methods (every one excludes the artists a user already has in train):
- popularity: most-played artists by listener count (no hyperparameters).
- segment-popularity: popularity among the users of the same segment. The segment is the user's
  age_group + location from users.csv; when fewer than `min_users` training users share it, the
  user's age_group alone is used, then the location alone, then global popularity (also for users
  without side features, and on data without users.csv, where it equals popularity). Grid:
  min_users in {5, 20, 50}.
- item-knn: item-based top-N (Sarwar et al., "Item-based collaborative filtering recommendation
  algorithms", WWW 2001; Deshpande & Karypis, "Item-based top-N recommendation algorithms", ACM TOIS
  2004): cosine similarity of the item columns of the user-item matrix, each item keeps its k most
  similar items, and a user's score for item j is the sum of sim(i, j) over the items i they have,
  weighted by their value in the matrix. Grid: k in {50, 200, 1000} x values binary or the
  confidence 1 + log1p(weight) (the plain iALS confidence).
- ease: EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): closed form
  P = (X^T X + lambda I)^-1, B = I - P / diag(P) (column-wise, so diag(B) = 0), scores X B on the
  binary matrix X. The dense inverse is items^2 floats, so it is computed over the items with at
  least 2 training users (an item with one user has no co-occurrence to learn from), and, if more
  than MAX_EASE_ITEMS remain, the MAX_EASE_ITEMS with most users; the other items are never
  recommended. Grid: lambda in {50, 200, 500, 1000, 3000}.
- ials: plain iALS, our own solver without side-feature columns, co-occurrence block or norm
  damping (BASELINE_IALS: 64 factors, confidence 1 + log1p(plays), w0 = 1, 15 sweeps). Grid:
  lambda in {10, 30, 100} x w0 in {0.3, 1}.
- implicit-als: the `implicit` library's CPU ALS (implicit.cpu.als.AlternatingLeastSquares, the
  speed peer) with the same mapping: 64 factors, 15 iterations, constant regularization lambda,
  confidence 1 + log1p(plays) given as the matrix values (implicit solves with C_ui = value,
  preference 1, unobserved weight 1, so alpha = 1 and w0 = 1 are fixed there). Grid: lambda in
  {10, 30, 100}. It runs with num_threads = the cores and BLAS limited to one thread
  (threadpoolctl), as implicit asks, since its own threads already use every core.

Selection: every grid point is fitted on an inner split of the training data (per-user holdout,
split.per_user_split seed 43: a fifth of each user's rows with >= 5 rows) and scored by NDCG@10 on
the held-out fifth; the best point (first in grid order on ties) is refitted on all of train.
The evaluation's test rows are never seen. Fit time reported by the benchmark is the final fit;
the selection's time is reported apart (tune_seconds).
"""
from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from .als import ALSParams
from .data import Interactions, build_interactions
from .evaluation import model_recommendations, popularity_recommendations, truth_by_user
from .metrics import ranking_metrics
from .model import ModelParams
from .split import per_user_split

INNER_SPLIT_SEED = 43
MAX_EASE_ITEMS = 12_000  # 12k^2 float64 = 1.2 GB for the inverse: what a 2-4 GB box can hold
BASELINE_IALS = ModelParams(als=ALSParams(factors=64, reg=30.0, unobserved_weight=1.0, iterations=15), alpha=1.0,
                            norm_exponent=0.0, neighbour_weight=0.0)

GRIDS: dict[str, list[dict]] = {
    "popularity": [{}],
    "segment-popularity": [{"min_users": n} for n in (5, 20, 50)],
    "item-knn": [{"k": k, "values": v} for v in ("binary", "confidence") for k in (50, 200, 1000)],
    "ease": [{"lambda": lam} for lam in (50.0, 200.0, 500.0, 1000.0, 3000.0)],
    "ials": [{"reg": reg, "unobserved_weight": w0} for w0 in (1.0, 0.3) for reg in (30.0, 10.0, 100.0)],
    "implicit-als": [{"reg": reg} for reg in (30.0, 10.0, 100.0)],
}
METHODS = tuple(GRIDS)


# --- matrices and top-k -------------------------------------------------------------------------
def user_item_matrix(data: Interactions, values: str = "binary") -> sp.csr_matrix:
    """users x items CSR: 1 per (user, item), or the iALS confidence 1 + log1p(weight)."""
    vals = np.ones(len(data.weights)) if values == "binary" else 1.0 + np.log1p(data.weights)
    return sp.csr_matrix((vals, (data.users, data.items)), shape=(data.num_users, data.num_items))


def _record_fit(timing: dict | None, began: float) -> None:
    """Fit seconds (the model, not the scoring of users) into timing["fit"], when asked for."""
    if timing is not None:
        timing["fit"] = time.perf_counter() - began


def top_k_unseen(score_rows, users: list[int], seen: sp.csr_matrix, k: int, batch: int = 1024) -> dict:
    """users' top-k items by score_rows(batch of user indices) -> dense scores, seen items excluded;
    items scored -inf are never returned."""
    recs = {}
    for start in range(0, len(users), batch):
        chunk = users[start:start + batch]
        scores = torch.as_tensor(np.asarray(score_rows(chunk), dtype=np.float64))
        rows = seen[chunk]
        r, c = rows.nonzero()
        scores[torch.as_tensor(r, dtype=torch.long), torch.as_tensor(c, dtype=torch.long)] = -np.inf
        width = min(k, scores.shape[1])
        values, indices = torch.topk(scores, width, dim=1)
        for user, vals, idx in zip(chunk, values.tolist(), indices.tolist()):
            recs[user] = [i for v, i in zip(vals, idx) if v != -np.inf]
    return recs


# --- popularity within segment ------------------------------------------------------------------
def user_segments(data: Interactions, min_users: int) -> list[tuple[str, ...] | None]:
    """Per user index, the segment key whose popularity it gets: (age, location), else (age,), else
    (location,) when that group has at least min_users training users; None for global popularity."""
    sizes: dict[tuple, int] = {}
    keys = []
    for user in data.user_ids:
        f = data.user_features.get(user, {})
        age, loc = f.get("age_group", ""), f.get("location", "")
        candidates = []
        if age and loc:
            candidates.append(("both", age, loc))
        if age:
            candidates.append(("age", age))
        if loc:
            candidates.append(("location", loc))
        keys.append(candidates)
        for key in candidates:
            sizes[key] = sizes.get(key, 0) + 1
    return [next((key for key in candidates if sizes[key] >= min_users), None) for candidates in keys]


def segment_popularity_recommendations(data: Interactions, users: list[int], k: int, min_users: int = 20,
                                       timing: dict | None = None) -> dict:
    began = time.perf_counter()
    segments = user_segments(data, min_users)
    global_counts = np.bincount(data.items, minlength=data.num_items).astype(np.float64)
    counts: dict[tuple, np.ndarray] = {}
    for u, i in zip(data.users.tolist(), data.items.tolist()):
        key = segments[u]
        if key is not None:
            counts.setdefault(key, np.zeros(data.num_items))[i] += 1.0
    # Global counts break ties inside a segment (and rank the items the segment never played).
    tie_break = global_counts / (global_counts.max() + 1.0)
    _record_fit(timing, began)
    seen = user_item_matrix(data)

    def score_rows(chunk):
        return np.stack([(counts[segments[u]] if segments[u] is not None else global_counts) + tie_break
                         for u in chunk])

    return top_k_unseen(score_rows, users, seen, k)


# --- item-kNN -----------------------------------------------------------------------------------
def item_knn_similarity(x: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """items x items: cosine of the item columns, each row keeping its k largest off-diagonal values."""
    xt = x.T.tocsr().astype(np.float64)
    norms = np.sqrt(np.asarray(xt.multiply(xt).sum(axis=1)).ravel())
    xt = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ xt
    sim = (xt @ xt.T).tocsr()
    sim.setdiag(0.0)
    sim.eliminate_zeros()
    rows, cols, vals = [], [], []
    for item in range(sim.shape[0]):
        start, end = sim.indptr[item], sim.indptr[item + 1]
        if end == start:
            continue
        row_vals, row_cols = sim.data[start:end], sim.indices[start:end]
        if end - start > k:
            keep = np.argpartition(-row_vals, k - 1)[:k]
            row_vals, row_cols = row_vals[keep], row_cols[keep]
        rows.append(np.full(len(row_cols), item))
        cols.append(row_cols)
        vals.append(row_vals)
    if not rows:
        return sp.csr_matrix(sim.shape)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape)


def item_knn_recommendations(data: Interactions, users: list[int], k: int, neighbours: int = 200,
                             values: str = "binary", timing: dict | None = None) -> dict:
    began = time.perf_counter()
    x = user_item_matrix(data, values)
    sim = item_knn_similarity(x, neighbours)  # row i: the neighbours of item i
    _record_fit(timing, began)
    return top_k_unseen(lambda chunk: (x[chunk] @ sim).toarray(), users, x, k)


# --- EASE ---------------------------------------------------------------------------------------
def ease_items(data: Interactions, max_items: int = MAX_EASE_ITEMS) -> np.ndarray:
    """The item indices EASE models: >= 2 training users, at most max_items of the most-listened."""
    counts = np.bincount(data.items, minlength=data.num_items)
    kept = np.flatnonzero(counts >= 2)
    if len(kept) > max_items:
        kept = kept[np.argsort(-counts[kept], kind="stable")[:max_items]]
    return np.sort(kept)


def ease_weights(x: sp.csr_matrix, lam: float) -> np.ndarray:
    """Steck 2019 closed form: P = (X^T X + lambda I)^-1, B = I - P / diag(P) (column j divided by P_jj)."""
    gram = (x.T @ x).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


def ease_recommendations(data: Interactions, users: list[int], k: int, lam: float = 500.0,
                         max_items: int = MAX_EASE_ITEMS, timing: dict | None = None) -> dict:
    began = time.perf_counter()
    x = user_item_matrix(data)
    kept = ease_items(data, max_items)
    x_kept = x[:, kept].tocsr()
    b = ease_weights(x_kept, lam)
    _record_fit(timing, began)

    def score_rows(chunk):
        scores = np.full((len(chunk), data.num_items), -np.inf)
        scores[:, kept] = x_kept[chunk] @ b
        return scores

    return top_k_unseen(score_rows, users, x, k)


# --- iALS (ours, plain) and implicit's ALS ------------------------------------------------------
def ials_params(point: dict) -> ModelParams:
    return dataclasses.replace(BASELINE_IALS, als=dataclasses.replace(
        BASELINE_IALS.als, reg=point["reg"], unobserved_weight=point["unobserved_weight"]))


def ials_recommendations(data: Interactions, users: list[int], k: int, point: dict, fit=None,
                         timing: dict | None = None) -> dict:
    """fit(data, params) -> trained model (train_job.fit_stage in the benchmark, for its progress)."""
    from .model import fit_model

    plain = dataclasses.replace(data, user_features={})  # the artist matrix alone
    params = ials_params(point)
    began = time.perf_counter()
    trained = fit(plain, params) if fit else fit_model(plain, params)
    _record_fit(timing, began)
    recs, _ = model_recommendations(trained, users, k)
    return recs


def implicit_version() -> str:
    import implicit

    return implicit.__version__


def implicit_als_recommendations(data: Interactions, users: list[int], k: int, reg: float = 30.0,
                                 factors: int = BASELINE_IALS.als.factors,
                                 iterations: int = BASELINE_IALS.als.iterations, seed: int = 0,
                                 timing: dict | None = None) -> dict:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        began = time.perf_counter()
        confidence = user_item_matrix(data, "confidence").astype(np.float32)
        model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=1.0, iterations=iterations,
                                        calculate_training_loss=False, num_threads=os.cpu_count() or 1,
                                        random_state=seed)
        model.fit(confidence, show_progress=False)
        _record_fit(timing, began)
        ids, scores = model.recommend(np.asarray(users, dtype=np.int64), confidence[users], N=k,
                                      filter_already_liked_items=True)
    recs = {}
    for user, row, row_scores in zip(users, ids.tolist(), scores.tolist()):
        # implicit pads a short list with -1 ids (and -inf scores).
        recs[user] = [i for i, s in zip(row, row_scores) if i >= 0 and np.isfinite(s)]
    return recs


# --- one entry point ----------------------------------------------------------------------------
def recommend(method: str, data: Interactions, users: list[int], k: int, point: dict, fit=None,
              timing: dict | None = None) -> dict:
    """Top-k unseen item indices per user of `method` at grid point `point`, fitted on `data`;
    timing["fit"] gets the fit's seconds (without scoring the users), when timing is given."""
    if method == "popularity":
        began = time.perf_counter()
        recs = popularity_recommendations(data, users, k)
        _record_fit(timing, began)  # counting and ranking are the whole method
        return recs
    if method == "segment-popularity":
        return segment_popularity_recommendations(data, users, k, point["min_users"], timing)
    if method == "item-knn":
        return item_knn_recommendations(data, users, k, point["k"], point["values"], timing)
    if method == "ease":
        return ease_recommendations(data, users, k, point["lambda"], timing=timing)
    if method == "ials":
        return ials_recommendations(data, users, k, point, fit, timing)
    if method == "implicit-als":
        return implicit_als_recommendations(data, users, k, point["reg"], timing=timing)
    raise ValueError(f"unknown baseline {method!r}")


@dataclass
class Selection:
    point: dict
    trials: list[dict]
    seconds: float
    split: str = f"per-user holdout of train, seed {INNER_SPLIT_SEED}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def inner_split(data: Interactions) -> tuple[Interactions, list]:
    """(inner train, inner held-out rows) from the training data only."""
    train_rows, held_out = per_user_split(list(data.triples()), INNER_SPLIT_SEED)
    return build_interactions(train_rows, data.user_features), held_out


def select(method: str, data: Interactions, k: int = 10, grid: list[dict] | None = None) -> Selection:
    """The grid point with the best inner-split NDCG@k (first on ties); one point needs no split."""
    grid = GRIDS[method] if grid is None else grid
    began = time.perf_counter()
    if len(grid) == 1:
        return Selection(point=dict(grid[0]), trials=[], seconds=0.0)
    inner, held_out = inner_split(data)
    truth = truth_by_user(inner, held_out)
    users = sorted(truth)
    trials = []
    for point in grid:
        recs = recommend(method, inner, users, k, point)
        trials.append({**point, "ndcg_at_10": round(ranking_metrics(recs, truth, inner.num_items, k)[f"ndcg_at_{k}"], 5)})
    best = max(range(len(grid)), key=lambda n: (trials[n]["ndcg_at_10"], -n))
    return Selection(point=dict(grid[best]), trials=trials, seconds=round(time.perf_counter() - began, 2))
