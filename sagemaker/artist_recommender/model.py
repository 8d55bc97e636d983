"""The recommender model: iALS factors over artists + side-feature columns, cosine-scored.

User vector: the least-squares solution over the user's row, which holds the artists they played
(confidence 1 + alpha * log1p(plays)) and one pseudo-column per side feature ("age_group=...",
"location=..."; confidence feature_confidence). Known users keep their trained vector (the id);
new users get the same solve on request (fold-in), which is the cold-start path.

Artist vector: the artist's factor w = v / |v|**norm_exponent, padded with one extra coordinate
sqrt(M^2 - |w|^2) (M = max |w|) so every artist vector has norm M. With user vectors padded with 0,
cosine(user, artist) = u.w / (|u| M): ranks exactly like the dot product u.w while being a true
cosine in [-1, 1]. norm_exponent 0 keeps all the popularity information in the factor norms;
1 would rank by the plain cosine of the raw factors; the tuned value sits in between.

Both vectors carry a second block, an item-item co-occurrence component (neighbour_weight g): the
artist's listener column scaled to unit norm, and the user's row of that column-normalised
matrix projected onto it (see inference.RecommenderModel.cosine_scores). The final score is the
cosine of the concatenated vectors, i.e. a fixed blend of latent and neighbourhood similarity.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from . import inference
from .als import ALSParams, InitialFactors, SparseRows, fit_als
from artist_recommender.checkpoint import CheckpointDir
from .data import Interactions
from common.distributed import DistContext
from .segment_prior import prior_tensors
from .weighting import ScoreWeighting

FORMAT_VERSION = 1


def tuned_als() -> ALSParams:
    """Defaults chosen on the Last.fm seed-43 inner split (NDCG@10 there: plain iALS with
    64 factors, w0 = 1: 0.182; these settings: 0.189; plus the co-occurrence block: 0.191).
    A lower unobserved weight w0 at the same lambda was the largest gain; 128 factors beat 64
    slightly; alpha 0.5/2, lambda 10-80 and popularity-shaped unobserved weights were worse."""
    return ALSParams(factors=128, reg=30.0, unobserved_weight=0.35, iterations=15)


@dataclass
class ModelParams:
    als: ALSParams = field(default_factory=tuned_als)
    alpha: float = 1.0  # confidence = 1 + alpha * log1p(plays / scale)
    # scale: 1 ("none") or the user's median play count ("user_median"), which makes the
    # confidence express how much a user favours an artist relative to their own habits.
    weight_scale: str = "none"
    feature_confidence: float = 2.0
    # 0.25 on the inner split beat 0 (plain dot-product ranking) by a little: it damps the
    # factor norms of very popular artists.
    norm_exponent: float = 0.25
    # Weight g of the artist co-occurrence block in the vectors (see inference.cosine_scores):
    # 0.4 lifted inner-split NDCG@10 from 0.189 to 0.191.
    neighbour_weight: float = 0.4
    # Served-list feedback (feedback.py): a click is an interaction of this weight (a click
    # event's weight in the ETL), and a served artist the user passed on is an explicit negative,
    # preference 0 at this confidence: about three times an unserved cell's w0 (0.35), below the
    # least confident positive (1 + log1p(1) = 1.69), since one pass is weaker evidence than a play.
    click_weight: float = 1.0
    negative_confidence: float = 1.0
    # L2 penalty of the logistic weighting of the score's parts (weighting.py).
    weighting_l2: float = 1.0
    # Segment prior (segment_prior.py): a user with n interactions gets w = s / (s + n) of their
    # age group + location's taste in the score; 0 turns it off. On generated data whose segments
    # plant taste the feature columns miss (tests/.../test_cold_start.py), users with <= 20
    # interactions gained 0.02-0.05 NDCG@10 at 4 (more at 8-20); on `bench_data --kind planted`,
    # where the feature columns already carry the segment, 4 gained 0.001 and 8 lost 0.002.
    segment_prior_strength: float = 4.0

    def to_dict(self) -> dict:
        return asdict(self)


def feature_columns(data: Interactions) -> tuple[list[str], list[int], list[int]]:
    """Side-feature pseudo-columns: (names, user rows, feature indices) for users in the data."""
    names: dict[str, int] = {}
    rows, cols = [], []
    user_index = {u: i for i, u in enumerate(data.user_ids)}
    for user, values in data.user_features.items():
        if user not in user_index:
            continue
        for name in ("age_group", "location"):
            if values.get(name):
                key = f"{name}={values[name]}"
                rows.append(user_index[user])
                cols.append(names.setdefault(key, len(names)))
    return list(names), rows, cols


@dataclass
class TrainedModel:
    data: Interactions
    params: ModelParams
    feature_ids: list[str]
    user_factors: torch.Tensor
    item_factors: torch.Tensor
    feature_factors: torch.Tensor
    column_weights: torch.Tensor  # unobserved weight of each artist and feature column
    confidence: torch.Tensor
    seconds_per_iteration: list[float]
    # Learned weighting of the score's parts (weighting.py); None serves the plain cosine.
    weighting: "ScoreWeighting | None" = None

    def popularity(self) -> torch.Tensor:
        counts = torch.bincount(torch.from_numpy(self.data.items), minlength=self.data.num_items).float()
        return counts / counts.max().clamp_min(1.0)

    def item_vectors(self) -> tuple[torch.Tensor, float]:
        v = self.item_factors.double()
        norms = v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        w = v / norms**self.params.norm_exponent
        w_norms = w.norm(dim=1)
        max_norm = float(w_norms.max().clamp_min(1e-12))
        pad = (max_norm**2 - w_norms**2).clamp_min(0.0).sqrt()
        return (torch.cat([w, pad[:, None]], dim=1) / max_norm).float(), max_norm

    def tensors(self) -> dict:
        d = self.data
        order = np.lexsort((d.items, d.users))
        indptr = np.zeros(d.num_users + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(d.users, minlength=d.num_users))
        cols = torch.cat([self.item_factors, self.feature_factors]).double()
        item_vectors, _ = self.item_vectors()
        by_item = np.lexsort((d.users, d.items))
        listeners_indptr = np.zeros(d.num_items + 1, dtype=np.int64)
        item_counts = np.bincount(d.items, minlength=d.num_items)
        listeners_indptr[1:] = np.cumsum(item_counts)
        extra = {} if self.weighting is None else self.weighting.tensors(self.weighting.tables(d))
        if self.params.segment_prior_strength > 0:
            extra.update(prior_tensors(d)[0])
        return {
            **extra,
            "listeners_indptr": torch.from_numpy(listeners_indptr),
            "listeners": torch.from_numpy(d.users[by_item].astype(np.int64)),
            "listener_scale": torch.from_numpy(1.0 / np.sqrt(np.maximum(item_counts, 1))).float(),
            "user_factors": self.user_factors.float().contiguous(),
            "item_factors": self.item_factors.float().contiguous(),
            "feature_factors": self.feature_factors.float().reshape(-1, self.item_factors.shape[1]).contiguous(),
            "item_vectors": item_vectors.contiguous(),
            "fold_in_gram": (cols.T @ (cols * self.column_weights.double()[:, None])).float(),
            "column_weights": self.column_weights.float(),
            "popularity": self.popularity(),
            "seen_indptr": torch.from_numpy(indptr),
            "seen_indices": torch.from_numpy(d.items[order].astype(np.int64)),
        }

    def config(self, model_version: str, threshold: float) -> dict:
        als = self.params.als
        extra = {}
        if self.weighting is not None:
            extra["score_weighting"] = self.weighting.config(self.weighting.tables(self.data))
        if self.params.segment_prior_strength > 0:
            extra["segment_prior"] = {"strength": self.params.segment_prior_strength, **prior_tensors(self.data)[1]}
        return {
            **extra,
            "format_version": FORMAT_VERSION,
            "model_version": model_version,
            "threshold": threshold,
            "factors": als.factors,
            "reg": als.reg,
            "reg_exponent": als.reg_exponent,
            "unobserved_weight": als.unobserved_weight,
            "feature_confidence": self.params.feature_confidence,
            "neighbour_weight": self.params.neighbour_weight,
            # A context artist in a request has no play count: use the median training confidence.
            "context_confidence": float(self.confidence[: len(self.data.weights)].median()),
            "num_users": self.data.num_users,
            "num_items": self.data.num_items,
            "params": self.params.to_dict(),
        }

    def scorer(self, model_version: str = "unversioned", threshold: float = -1.0) -> inference.RecommenderModel:
        """The serving model object, built in memory (no round trip through disk)."""
        ids = {"users": self.data.user_ids, "items": self.data.item_ids, "features": self.feature_ids}
        return inference.RecommenderModel(self.tensors(), self.config(model_version, threshold), ids)

    def save(self, model_dir: str, model_version: str, threshold: float, metrics: dict | None = None):
        """Writes model.pt, config.json, ids.json and code/ (the self-contained inference handler)."""
        os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
        torch.save(self.tensors(), os.path.join(model_dir, "model.pt"))
        config = self.config(model_version, threshold)
        if metrics:
            config["validation_metrics"] = metrics
        with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)
        with open(os.path.join(model_dir, "ids.json"), "w", encoding="utf-8") as handle:
            json.dump({"users": self.data.user_ids, "items": self.data.item_ids, "features": self.feature_ids}, handle)
        shutil.copyfile(inference.__file__, os.path.join(model_dir, "code", "inference.py"))
        with open(os.path.join(model_dir, "code", "requirements.txt"), "w", encoding="utf-8") as handle:
            handle.write("# inference.py needs only torch, which the SageMaker PyTorch image provides.\n")


def confidence(data: Interactions, params: ModelParams) -> np.ndarray:
    weights = data.weights
    if params.weight_scale == "user_median":
        order = np.lexsort((weights, data.users))
        counts = np.bincount(data.users, minlength=data.num_users)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # Lower median of each user's sorted weights.
        medians = weights[order][starts + (counts - 1) // 2]
        weights = weights / medians[data.users]
    elif params.weight_scale != "none":
        raise ValueError(f"unknown weight_scale {params.weight_scale!r}")
    return 1.0 + params.alpha * np.log1p(weights)


def checkpoint_key(data: Interactions, params: ModelParams, stage: str, initial: InitialFactors | None = None) -> dict:
    """What a fit's checkpoint must match to be resumed: the input data, every model
    hyperparameter but the sweep count, which is left out because the factors after sweep k do not
    depend on how many sweeps follow (a run with more sweeps may continue a shorter one), and the
    digest of a warm start's initial factors (None for a cold fit), so a cold checkpoint is never
    resumed as a warm fit, nor one warm start's as another's."""
    hyperparameters = params.to_dict()
    hyperparameters["als"].pop("iterations")
    return {"stage": stage, "data": _digest(data, {}), "params": hyperparameters,
            "initial": None if initial is None else initial.digest()}


def fit_model(data: Interactions, params: ModelParams, device="cpu", ctx: DistContext | None = None, log=None,
              checkpoints: CheckpointDir | None = None, stage: str = "fit", on_sweep=None,
              initial: InitialFactors | None = None):
    """Fits iALS on the artist + side-feature matrix of `data`.

    With `checkpoints`, the fit resumes from and saves to that folder's checkpoint for `stage`.
    on_sweep(done, seconds) follows the ALS sweeps (see als.fit_als). `initial` starts the fit from
    given factors (a warm start, warm_start.py): rows in data.user_ids order, columns the artists in
    data.item_ids order followed by the side features in feature_columns(data) order."""
    feature_ids, f_rows, f_cols = feature_columns(data)
    conf = confidence(data, params)
    negatives = data.negatives
    rows = np.concatenate([data.users, np.asarray(f_rows, dtype=np.int64), negatives[:, 0]])
    cols = np.concatenate([data.items, data.num_items + np.asarray(f_cols, dtype=np.int64), negatives[:, 1]])
    vals = np.concatenate([conf, np.full(len(f_rows), params.feature_confidence),
                           np.full(len(negatives), params.negative_confidence)])
    # Preference 1 for plays and side features, 0 for the explicit negatives (None: all 1).
    targets = None
    if len(negatives):
        targets = torch.from_numpy(np.r_[np.ones(len(rows) - len(negatives)), np.zeros(len(negatives))]).float()
    matrix = SparseRows(
        torch.from_numpy(rows).to(device),
        torch.from_numpy(cols).to(device),
        torch.from_numpy(vals).float().to(device),
        data.num_users,
        data.num_items + len(feature_ids),
        None if targets is None else targets.to(device),
    )
    sweeps = None
    if checkpoints is not None:
        sweeps = checkpoints.sweeps(stage, checkpoint_key(data, params, stage, initial), ctx)
    user_f, col_f, col_w, timings = fit_als(matrix, params.als, ctx, log=log, checkpoint=sweeps, on_sweep=on_sweep,
                                            initial=initial)
    col_f = col_f.cpu()
    return TrainedModel(
        data=data,
        params=params,
        feature_ids=feature_ids,
        user_factors=user_f.cpu(),
        item_factors=col_f[: data.num_items],
        feature_factors=col_f[data.num_items :],
        column_weights=col_w.cpu(),
        confidence=torch.from_numpy(conf).float(),
        seconds_per_iteration=timings,
    )


def data_fingerprint(data: Interactions, params: dict) -> str:
    """Short deterministic hash of data + hyperparameters (model_version outside SageMaker)."""
    return _digest(data, params)[:12]


def _digest(data: Interactions, params: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(params, sort_keys=True).encode())
    for ids in (data.user_ids, data.item_ids):
        h.update("\x1f".join(ids).encode())
    for array in (data.users, data.items, data.weights):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(json.dumps(data.user_features, sort_keys=True).encode())
    if len(data.negatives):  # data without feedback keeps the digest it had before negatives existed
        h.update(np.ascontiguousarray(data.negatives).tobytes())
    return h.hexdigest()
