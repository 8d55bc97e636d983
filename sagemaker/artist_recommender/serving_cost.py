"""What one request costs the recommender's endpoint, through its inference handler.

    python -m artist_recommender.serving_cost [--users N] [--artists N] [--artists-per-user N]
        [--factors N] [--requests N] [--warmup N] [--seed S] [--keep DIR] [--json] [--quiet]

Writes a model of production size with synthetic weights through the training code's own writer
(model.TrainedModel.save, so the artefact is exactly what inference.model_fn loads,
the co-occurrence block and the segment prior included): --artists artists (the design's catalogue),
--factors factors (the training defaults, model.tuned_als), --users users each with about
--artists-per-user artists drawn by a Zipf-like popularity (repeats dropped), 6 age groups and 100
locations (the design's 5M daily users do not fit a build machine with this handler: --users is
1,000,000 by default). Then times the requests the serving function sends on a cache miss,
{"user_id": ..., "k": 50} (recommendations/model-client.ts): two of a user the model knows (the
challenger's users, and champion users whose list expired) for each one of a new user (answered
from popularity). The baseline, timed after each request in the same run: the plain cosine top-K,
one (factors + 1)-vector times the artists' vectors and torch.topk, on one thread.

The handler's cost grows with the model's interactions, not only with the catalogue: a known
user's score carries the artist co-occurrence block (inference.RecommenderModel.neighbour_scores),
which walks every (user, artist) interaction of the model on each request. Run a few --users to see
the slope; README ("Configuration: requirements and profiles") has the numbers.
See common/serving_cost.py for what is measured and reported.
"""
from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np

from common.cli import run
from common.serving_cost import Option, Workload, main as serving_cost_main

from . import inference
from .als import column_weights
from .data import Interactions
from .model import ModelParams, TrainedModel, feature_columns, tuned_als

PROG = "recommender:serving-cost"
DESIGN = "artist-recommender"
# The design's list length (lib/designs/artist-recommender/design.ts, TOP_K): what a miss asks for.
TOP_K = 50
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
LOCATIONS = 100
# Known-user requests per new-user request: the challenger's 10% of users always reach the endpoint
# and the model knows most of them; the champion's 5% misses are mostly users new since the batch.
KNOWN_PER_NEW = 2
REQUEST_KINDS = 300

OPTIONS = (
    # The design has 5M daily users; a model of them (150M interactions) needs about 25 GB per
    # worker with this handler, more than a build machine has. 1M shows the cost and its slope.
    Option("--users", 1_000_000, "users the model holds (the design has 5,000,000 daily active users)"),
    Option("--artists", 200_000, "artists in the catalogue (the design's catalogueSize)", minimum=TOP_K),
    Option("--artists-per-user", 30, "artists drawn per user by popularity, repeats dropped"),
    Option("--factors", tuned_als().factors, "latent factors (the training default)"),
)


def synthetic_interactions(users: int, artists: int, per_user: int, seed: int) -> Interactions:
    rng = np.random.default_rng([seed, 1])
    cdf = np.cumsum(1.0 / np.arange(1, artists + 1) ** 0.8)
    cdf /= cdf[-1]
    keys = np.empty(0, dtype=np.int64)
    chunk = max(1, (1 << 24) // per_user)  # users per draw: bounds the temporary arrays
    parts = []
    for start in range(0, users, chunk):
        rows = np.repeat(np.arange(start, min(users, start + chunk), dtype=np.int64), per_user)
        cols = np.minimum(np.searchsorted(cdf, rng.random(len(rows))), artists - 1)
        parts.append(np.unique(rows * artists + cols))
    keys = np.concatenate(parts) if parts else keys
    user_ids = [f"u{i}" for i in range(users)]
    features = {user: {"age_group": AGE_GROUPS[i % len(AGE_GROUPS)], "location": f"loc{i % LOCATIONS}"}
                for i, user in enumerate(user_ids)}
    return Interactions(user_ids, [f"a{i}" for i in range(artists)], keys // artists, keys % artists,
                        1.0 + rng.random(len(keys)), features)


def write_model(model_dir: str, users: int, artists: int, per_user: int, factors: int, seed: int) -> dict:
    """Writes the artefact; returns its sizes."""
    import torch

    data = synthetic_interactions(users, artists, per_user, seed)
    params = ModelParams(als=dataclasses.replace(tuned_als(), factors=factors))
    names, _, _ = feature_columns(data)
    generator = torch.Generator().manual_seed(seed)
    trained = TrainedModel(
        data, params, names,
        user_factors=torch.randn(users, factors, generator=generator),
        item_factors=torch.randn(artists, factors, generator=generator),
        feature_factors=torch.randn(len(names), factors, generator=generator),
        column_weights=column_weights(torch.zeros(artists + len(names)), params.als),
        confidence=torch.from_numpy(1.0 + np.log1p(data.weights)),
        seconds_per_iteration=[],
    )
    trained.save(model_dir, "serving-cost", threshold=0.0)
    return {"users": users, "artists": artists, "interactions": int(len(data.users)), "factors": factors,
            "neighbour_weight": params.neighbour_weight, "k": TOP_K}


def requests(users: int, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng([seed, 2])
    out = []
    for i in range(REQUEST_KINDS):
        if i % (KNOWN_PER_NEW + 1) == KNOWN_PER_NEW:
            out.append(("new user (popularity)", json.dumps({"user_id": f"new{i}", "k": TOP_K})))
        else:
            out.append(("known user", json.dumps({"user_id": f"u{int(rng.integers(users))}", "k": TOP_K})))
    return out


def cosine_top_k(model, body: str):
    """The plain cosine top-K of the request's user over every artist: one matrix-vector product."""
    import torch

    item_vectors = model.t["item_vectors"]
    user = model.user_index.get(json.loads(body)["user_id"])
    vector = torch.zeros(item_vectors.shape[1])
    if user is not None:
        factors = model.t["user_factors"][user]
        vector[: len(factors)] = factors / factors.norm().clamp_min(1e-12)
    return torch.topk(item_vectors @ vector, TOP_K)


def build(model_dir: str, sizes: dict, seed: int, progress) -> Workload:
    written = write_model(model_dir, sizes["users"], sizes["artists"], sizes["artists_per_user"],
                          sizes["factors"], seed)
    return Workload(handler=inference.__name__, model_dir=model_dir, requests=requests(sizes["users"], seed),
                    baseline_name="cosine top-K (matrix-vector)", baseline=cosine_top_k,
                    sizes=written)


def main(argv=None) -> int:
    return serving_cost_main(argv, prog=PROG, design=DESIGN, description=__doc__, options=OPTIONS, build=build,
                             default_requests=60, default_warmup=3)


if __name__ == "__main__":
    sys.exit(run(PROG, main))
