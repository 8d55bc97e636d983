"""Learned weighting of the score's parts from served-list clicks (the "feature weighting" step).

For a (user, artist) pair the parts are:
  collaborative  the model's cosine (inference.RecommenderModel.cosine_scores), standardised over
                 the user's row of the catalogue (collaborative_part there): a folded-in user's
                 cosines run lower than a trained user's, their order and spread do not
  age_group      the artist's affinity with the user's age group: the log lift of its share of
                 listeners within the group over its share overall,
                     log((n_gi + s p_i) / ((N_g + s) p_i)),  p_i = (n_i + 1) / (N + n_artists)
                 n_gi: listeners of artist i in group g, N_g: all listens (user-artist pairs) of g,
                 n_i and N the same over everyone; s = AFFINITY_SMOOTHING pseudo-listens shrink a
                 small group towards lift 0. A user without the feature gets 0.
  location       the same lift for the user's location
  popularity     log1p(n_i) / log1p(max n), in [0, 1]. An "already liked" flag would be 0 for every
                 candidate: known users are never served artists from their history.
Counts come from the train interactions without feedback, so the parts of a served pair do not
already hold its click.

A logistic regression on click / no click of the train channel's served items fits one weight per
part and a bias: Newton's method on the L2-penalised log likelihood (penalty on the weights, not the
bias, over standardised parts, then mapped back to raw weights). It is deterministic: no sampling and
a start at zero, so the same rows give the same weights. The collaborative part of the training rows
is the cosine of a model fitted without the feedback (the clicks it would otherwise hold as
positives, and the passes as negatives, would leak the label).

Served score: tanh((logit - center) / 2) = 2 sigmoid(logit - center) - 1, center = the logit of the
mean click rate of the training feedback. It is monotone in the logit and inside (-1, 1), so ranking
follows the fitted combination and the cache contract's [-1, 1] holds; it is >= 0 exactly for
artists more likely than the average served one to be clicked, which keeps the serving design's
score threshold of 0 meaningful (a plain tanh(logit / 2) would be >= 0 only for a click probability
of one half, and would drop almost every item). The click probability is sigmoid(2 atanh(score) + center).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from .data import Interactions

PARTS = ("collaborative", "age_group", "location", "popularity")
SEGMENTS = ("age_group", "location")
AFFINITY_SMOOTHING = 20.0
DEFAULT_L2 = 1.0
HELD_OUT_REQUEST_SHARE = 0.2
MAPPING = "served score = tanh((logit - center) / 2), logit = bias + sum(weight * part)"


# --- the parts --------------------------------------------------------------------------------
@dataclass
class SegmentTables:
    """Parts other than the cosine, indexed like one model's users and artists.

    affinity[name]: (groups + 1, artists), the last row (all 0) for users without the feature;
    user_group[name]: each user's row in it. Dense: 4 bytes per group and artist in the artefact
    (100 locations x 100,000 artists = 40 MB), which the k-anonymous snapshot keeps small by
    generalising locations."""

    groups: dict[str, list[str]]
    affinity: dict[str, np.ndarray]
    user_group: dict[str, np.ndarray]
    popularity: np.ndarray

    def parts(self, collaborative: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """(n, 4) parts of pairs (user index, artist index) with their collaborative parts."""
        columns = [collaborative]
        for name in SEGMENTS:
            columns.append(self.affinity[name][self.user_group[name][users], items])
        columns.append(self.popularity[items])
        return np.stack(columns, axis=1).astype(np.float64)


def _group_of(features: dict, user: str, name: str) -> str:
    return (features.get(user) or {}).get(name) or ""


def segment_tables(source: Interactions, target: Interactions, smoothing: float = AFFINITY_SMOOTHING) -> SegmentTables:
    """Counts listeners in `source`, indexed by the users and artists of `target`."""
    item_index = {a: i for i, a in enumerate(target.item_ids)}
    n_items = target.num_items
    to_target = np.array([item_index.get(a, -1) for a in source.item_ids], dtype=np.int64)
    items = to_target[source.items]
    known = items >= 0
    listeners = np.bincount(items[known], minlength=n_items).astype(np.float64)
    total = float(len(source.items))
    share = (listeners + 1.0) / (total + n_items)
    groups, affinity, user_group = {}, {}, {}
    for name in SEGMENTS:
        values = sorted({_group_of(source.user_features, u, name) for u in source.user_ids} - {""})
        index = {v: g for g, v in enumerate(values)}
        source_group = np.array([index.get(_group_of(source.user_features, u, name), -1) for u in source.user_ids])
        g = source_group[source.users]
        mask = known & (g >= 0)
        cells = (len(values) + 1) * n_items
        counts = np.bincount(g[mask] * n_items + items[mask], minlength=cells).reshape(-1, n_items).astype(np.float64)
        in_group = counts.sum(axis=1, keepdims=True)
        lift = np.log((counts + smoothing * share) / ((in_group + smoothing) * share))
        lift[-1] = 0.0
        groups[name], affinity[name] = values, lift.astype(np.float32)
        user_group[name] = np.array([index.get(_group_of(target.user_features, u, name), len(values))
                                     for u in target.user_ids], dtype=np.int64)
    popularity = (np.log1p(listeners) / math.log1p(max(1.0, listeners.max()))).astype(np.float32)
    return SegmentTables(groups, affinity, user_group, popularity)


# --- the fit ----------------------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_logistic(parts: np.ndarray, clicked: np.ndarray, l2: float = DEFAULT_L2, iterations: int = 100):
    """(bias, weights) of an L2-penalised logistic regression by Newton's method (see the module)."""
    x = np.asarray(parts, dtype=np.float64)
    y = np.asarray(clicked, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0  # a constant part gets weight 0 through the penalty
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    penalty = np.full(z.shape[1], float(l2))
    penalty[0] = 0.0
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = sigmoid(z @ w)
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(z.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    weights = w[1:] / scale
    return float(w[0] - np.sum(weights * mean)), weights


def served_score(logit: np.ndarray, center: float = 0.0) -> np.ndarray:
    return np.tanh(0.5 * (np.asarray(logit, dtype=np.float64) - center))


def rate_logit(clicked: np.ndarray) -> float:
    """The center of the mapping: the logit of the mean click rate (clipped away from 0 and 1)."""
    rate = min(max(float(np.mean(clicked)) if len(clicked) else 0.5, 1e-4), 1 - 1e-4)
    return math.log(rate / (1 - rate))


def click_auc(scores: np.ndarray, clicked: np.ndarray) -> float | None:
    """Probability that a clicked item outscores a passed one (ties count half); None without both."""
    scores, clicked = np.asarray(scores, dtype=np.float64), np.asarray(clicked).astype(bool)
    n_pos, n_neg = int(clicked.sum()), int((~clicked).sum())
    if not n_pos or not n_neg:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average rank of each run of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return float((ranks[clicked].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(probability: np.ndarray, clicked: np.ndarray) -> float:
    p = np.clip(np.asarray(probability, dtype=np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(clicked, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def click_report(logit: np.ndarray, clicked: np.ndarray) -> dict:
    """Click AUC and log loss of fitted logits against clicks (the served score ranks alike)."""
    clicked = np.asarray(clicked, dtype=np.float64)
    rate = float(clicked.mean()) if len(clicked) else 0.0
    auc = click_auc(logit, clicked)
    return {"rows": int(len(clicked)), "clicks": int(clicked.sum()),
            "click_auc": None if auc is None else round(auc, 6),
            "log_loss": round(log_loss(sigmoid(np.asarray(logit, dtype=np.float64)), clicked), 6),
            "base_rate_log_loss": round(log_loss(np.full(len(clicked), rate), clicked), 6)}


def held_out_request(request_id: str, share: float = HELD_OUT_REQUEST_SHARE) -> bool:
    """A fixed share of served lists (whole requests, by a hash of the id) checks the fit."""
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


# --- the fitted weighting ---------------------------------------------------------------------
@dataclass
class ScoreWeighting:
    bias: float
    weights: dict[str, float]
    center: float
    source: Interactions = field(repr=False)  # the interactions the affinities are counted in
    smoothing: float = AFFINITY_SMOOTHING

    def tables(self, target: Interactions) -> SegmentTables:
        return segment_tables(self.source, target, self.smoothing)

    def logit(self, parts: np.ndarray) -> np.ndarray:
        return self.bias + parts @ np.array([self.weights[name] for name in PARTS])

    def config(self, tables: SegmentTables) -> dict:
        """What inference.py needs besides the tensors (see RecommenderModel.served_scores)."""
        return {"parts": list(PARTS), "bias": self.bias, "weights": dict(self.weights), "center": self.center,
                "groups": tables.groups, "mapping": MAPPING}

    @staticmethod
    def tensors(tables: SegmentTables) -> dict:
        import torch

        out = {"weighting_popularity": torch.from_numpy(tables.popularity)}
        for name in SEGMENTS:
            out[f"weighting_{name}_affinity"] = torch.from_numpy(tables.affinity[name])
            out[f"weighting_user_{name}"] = torch.from_numpy(tables.user_group[name])
        return out


def pair_parts(trained, tables: SegmentTables, rows) -> tuple[np.ndarray, np.ndarray, list]:
    """(parts, clicked, rows used) of the feedback rows whose user and artist the model knows; the
    collaborative part is the model's plain cosine."""
    user_index = {u: i for i, u in enumerate(trained.data.user_ids)}
    item_index = {a: i for i, a in enumerate(trained.data.item_ids)}
    used = [r for r in rows if r.user_id in user_index and r.item_id in item_index]
    if not used:
        return np.zeros((0, len(PARTS))), np.zeros(0), used
    users = np.array([user_index[r.user_id] for r in used], dtype=np.int64)
    items = np.array([item_index[r.item_id] for r in used], dtype=np.int64)
    clicked = np.array([r.clicked for r in used], dtype=np.float64)
    cosine = trained.scorer().pair_scores(users, items, part=True)
    return tables.parts(cosine, users, items), clicked, used


def fit_weighting(base, rows, l2: float = DEFAULT_L2) -> tuple[ScoreWeighting, dict]:
    """Fits the weighting on feedback rows with the parts of `base` (a model fitted without them).

    A held-out share of the requests is scored first by a fit on the rest; the weighting returned
    is then fitted on all rows. Returns (weighting, report)."""
    parts, clicked, used = pair_parts(base, segment_tables(base.data, base.data), rows)
    held = np.array([held_out_request(r.request_id) for r in used], dtype=bool)
    report = {"rows": int(len(clicked)), "clicks": int(clicked.sum()), "rows_left_out_unknown": len(rows) - len(used),
              "l2": l2, "mapping": MAPPING}
    if held.any() and 0 < clicked[~held].sum() < (~held).sum():
        bias, weights = fit_logistic(parts[~held], clicked[~held], l2)
        report["held_out_requests"] = {**click_report(bias + parts[held] @ weights, clicked[held]),
                                       "collaborative_part_click_auc": _round(click_auc(parts[held, 0], clicked[held]))}
    if len(clicked) and 0 < clicked.sum() < len(clicked):
        bias, weights = fit_logistic(parts, clicked, l2)
    else:  # nothing to learn from: the plain cosine, mapped like a fitted one
        bias, weights = 0.0, np.array([1.0, 0.0, 0.0, 0.0])
        report["fallback"] = "feedback holds only clicks or only passes: the standardised cosine alone"
    center = 0.0 if "fallback" in report else rate_logit(clicked)
    weighting = ScoreWeighting(round(bias, 6), {n: round(float(w), 6) for n, w in zip(PARTS, weights)},
                               round(center, 6), base.data)
    report["bias"], report["weights"], report["center"] = weighting.bias, weighting.weights, weighting.center
    return weighting, report


def _round(value):
    return None if value is None else round(value, 6)
