"""Segment prior: what a user's age group and location say about their taste, for light users.

A user with few interactions has a noisy latent vector; their segment (age group, location) knows
more. The prior is the naive-Bayes estimate of an artist's share among the segment's listens,
    log P(i | age a, location l) = log p_i + lift_a(i) + lift_l(i) - log Z,
p_i the artist's smoothed share of all listens and lift the smoothed log lift of its share within
the group (weighting.segment_tables, the tables the learned weighting uses too). Adding the two
lifts keeps every (age, location) pair estimable, even one with few or no training users. On the
served scale it is tanh((log P(i | a, l) + log n_artists) / 2): inside (-1, 1), and >= 0 exactly
for artists with at least an average artist's share of the segment's listens.

The served score of a user with n training interactions is (1 - w) cosine + w prior,
w = s / (s + n) (s = segment_prior_strength, in pseudo-interactions): a convex blend, so it stays
in [-1, 1]; a user with no interactions gets the segment's taste alone, a heavy one almost only
the cosine. Users without a known age group or location get w = 0 (the cosine: it already carries
the artists' overall popularity). inference.RecommenderModel.segment_prior_scores computes it from
the tensors written here; the factors do not depend on it, so s can change without a refit.
"""
from __future__ import annotations

import numpy as np

from .data import Interactions
from .weighting import SEGMENTS, segment_tables


def log_share(data: Interactions) -> np.ndarray:
    """log of each artist's smoothed share of all listens (the p_i of weighting.segment_tables)."""
    listeners = np.bincount(data.items, minlength=data.num_items).astype(np.float64)
    return np.log((listeners + 1.0) / (len(data.items) + data.num_items))


def prior_tensors(data: Interactions) -> tuple[dict, dict]:
    """(tensors, config entry "segment_prior" less its strength) of the prior over `data`'s users
    and artists; tensors: segment_log_share (artists), segment_{name}_lift ((groups + 1, artists), the
    last row 0 for users without the feature) and segment_user_{name} (each user's row)."""
    import torch

    tables = segment_tables(data, data)
    tensors = {"segment_log_share": torch.from_numpy(log_share(data).astype(np.float32))}
    for name in SEGMENTS:
        tensors[f"segment_{name}_lift"] = torch.from_numpy(tables.affinity[name])
        tensors[f"segment_user_{name}"] = torch.from_numpy(tables.user_group[name])
    return tensors, {"groups": tables.groups}

