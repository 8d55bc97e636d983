"""What one scoring request costs the ad click endpoint, through its inference handler.

    python -m ad_click.serving_cost [--users N] [--ads N] [--advertisers N] [--factors N]
        [--candidates N] [--requests N] [--warmup N] [--seed S] [--keep DIR] [--json] [--quiet]

Writes a factorization machine of production size with synthetic weights through the training
code's own writer (model.Trained.save, the artefact inference.model_fn loads): the training job's
defaults (model.ModelParams: the model type, its factors, no crosses), a row for each of --users
users (the design's daily active users), --ads ads of --advertisers advertisers (generate.World's
orders of magnitude for one ad network) and every value of the other fields. Then times scoring
requests of --candidates candidates (the design's maxCandidates), a known user in a random context.
The baseline, timed after each request in the same run: the same request through the same handler
with the bootstrap model (a constant CTR, lib/designs/ad-click/bootstrap.ts), which parses and
checks the request and answers it without scoring: the ratio is what the scoring adds.
See common/serving_cost.py for what is measured and reported.
"""
from __future__ import annotations

import json
import math
import sys

import numpy as np

from common.cli import run
from common.serving_cost import Option, Workload, main as serving_cost_main

from . import inference
from .features import CATEGORICAL_FIELDS, Rows, build_vocabulary, hash_column
from .generate import AGE_GROUPS, CATEGORIES, COUNTRIES, DAYS, DEVICES, PLACEMENTS, TARGET_CTR, World
from .model import ModelParams, Trained

PROG = "ad-click:serving-cost"
DESIGN = "ad-click"
REQUESTS = 200

OPTIONS = (
    Option("--users", 2_000_000, "users with a row of their own (the design's daily active users)"),
    Option("--ads", World.ads, "ads with a row of their own"),
    Option("--advertisers", World.advertisers, "advertisers"),
    Option("--factors", ModelParams.factors, "factors of the factorization machine (the training default)"),
    Option("--candidates", inference.MAX_CANDIDATES, "candidates per request (the design's maxCandidates)",
           maximum=inference.MAX_CANDIDATES),
)


def _values(users: int, ads: int, advertisers: int) -> dict:
    return {
        "user_id": [f"u{i:07d}" for i in range(users)],
        "age_group": list(AGE_GROUPS),
        "country": list(COUNTRIES),
        "device": list(DEVICES),
        "ad_id": [f"ad{i:05d}" for i in range(ads)],
        "advertiser_id": [f"adv{i:03d}" for i in range(advertisers)],
        "ad_category": list(CATEGORIES),
        "placement": list(PLACEMENTS),
        "hour_of_day": [str(h) for h in range(24)],
        "day_of_week": list(DAYS),
    }


def write_model(model_dir: str, sizes: dict, seed: int) -> dict:
    """Writes the artefact; returns its sizes."""
    import torch

    values = _values(sizes["users"], sizes["ads"], sizes["advertisers"])
    assert tuple(values) == CATEGORICAL_FIELDS
    n = max(len(v) for v in values.values())
    # Every value once (the shorter fields repeated): the vocabulary then holds a row for each.
    rows = Rows(np.zeros(n, dtype=np.float32),
                {field: hash_column(field, (v[i % len(v)] for i in range(n))) for field, v in values.items()})
    params = ModelParams(factors=sizes["factors"])
    manifest, keys = build_vocabulary(rows, (), min_count=1)
    manifest.update({"model_type": params.model_type, "factors": params.factors, "crosses": [],
                     "calibration": {"method": "platt", "scale": 1.0, "shift": 0.0}})
    total = sum(column["rows"] for column in manifest["columns"])
    generator = torch.Generator().manual_seed(seed)
    tensors = {
        "bias": torch.tensor([math.log(TARGET_CTR / (1 - TARGET_CTR))]),
        "linear": torch.randn(total, 1, generator=generator) * 0.1,
        "factors": torch.randn(total, params.factors, generator=generator) * 0.05,
    }
    Trained(manifest, keys, tensors, history=[], best_epoch=1, fit_seconds=0.0, rows=0).save(model_dir, "serving-cost")
    return {"users": sizes["users"], "ads": sizes["ads"], "advertisers": sizes["advertisers"],
            "model_type": params.model_type, "factors": params.factors, "rows": total,
            "candidates": sizes["candidates"]}


def requests(sizes: dict, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng([seed, 2])
    values = _values(0, 0, 0)
    out = []
    for _ in range(REQUESTS):
        ads = rng.choice(sizes["ads"], size=sizes["candidates"], replace=sizes["candidates"] > sizes["ads"])
        body = {
            "user": {"user_id": f"u{int(rng.integers(sizes['users'])):07d}",
                     "age_group": str(rng.choice(values["age_group"])), "country": str(rng.choice(values["country"]))},
            "context": {"device": str(rng.choice(values["device"])), "placement": str(rng.choice(values["placement"])),
                        "hour_of_day": int(rng.integers(24)), "day_of_week": str(rng.choice(values["day_of_week"]))},
            "candidates": [{"ad_id": f"ad{int(a):05d}", "advertiser_id": f"adv{int(a) % sizes['advertisers']:03d}",
                            "ad_category": CATEGORIES[int(a) % len(CATEGORIES)]} for a in ads],
        }
        out.append((f"{sizes['candidates']} candidates", json.dumps(body)))
    return out


_BOOTSTRAP = inference.ConstantModel(
    {"format": inference.FORMAT, "model_type": "constant", "ctr": TARGET_CTR, "model_version": "bootstrap"})


def bootstrap_answer(model, body: str) -> str:
    """The same request through the same handler, answered by the bootstrap model."""
    return inference.output_fn(inference.predict_fn(inference.input_fn(body, inference.JSON_TYPE), _BOOTSTRAP),
                               inference.JSON_TYPE)


def build(model_dir: str, sizes: dict, seed: int, progress) -> Workload:
    written = write_model(model_dir, sizes, seed)
    return Workload(handler=inference.__name__, model_dir=model_dir, requests=requests(sizes, seed),
                    baseline_name="bootstrap model, same handler", baseline=bootstrap_answer, sizes=written)


def main(argv=None) -> int:
    return serving_cost_main(argv, prog=PROG, design=DESIGN, description=__doc__, options=OPTIONS, build=build)


if __name__ == "__main__":
    sys.exit(run(PROG, main))
