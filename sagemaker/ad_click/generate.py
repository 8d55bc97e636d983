"""A generated ad impression data set whose true click probabilities are known.

    python -m ad_click.generate --out DIR --rows N --seed S [--validation-fraction F] [--test-fraction F]

A seeded world of users (age group, country, an own click propensity, Zipf-like activity), ads
(advertiser, category, an own appeal, Zipf-like popularity) and contexts (device, placement, hour,
day) gives every impression

    logit = bias + sum of first-order effects of its field values
                 + age_group x ad_category + device x placement + country x advertiser_id

with each effect and each cell of the three interaction tables drawn from a normal distribution
(standard deviations in EFFECT_SD and INTERACTION_SD), and the bias set so that the mean click
probability is TARGET_CTR; label ~ Bernoulli(sigmoid(logit)). Rows are split at random into
train/, validation/ and test/ (each a channel: data.csv, see features.py). The true probability of
each row goes to true_p/<split>.csv (one `true_p` column, row for row), outside the channel
folders, so uploading a channel never ships the answer; manifest.json records the settings.
The same --rows and --seed give the same files, byte for byte.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from common.cli import CliError, Parser, run
from common.progress import Progress, choose

from .features import CATEGORICAL_FIELDS, CHANNEL_FILE, LABEL

PROG = "ad-click:generate"
SPLITS = ("train", "validation", "test")
TRUTH_DIR = "true_p"
TARGET_CTR = 0.03

AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
COUNTRIES = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "CA", "AU", "ES", "IT", "MX", "NL", "SE", "PL", "TR", "KR",
             "ID", "AR", "ZA", "NG", "EG", "PH", "VN", "TH", "CO", "CL", "PT", "IE", "NO")
DEVICES = ("mobile", "desktop", "tablet")
PLACEMENTS = ("feed", "sidebar", "search", "video_preroll", "interstitial")
CATEGORIES = ("travel", "finance", "retail", "gaming", "auto", "health", "beauty", "food", "education", "software",
              "telecom", "insurance", "real_estate", "sports", "music", "movies", "fashion", "home", "pets", "jobs")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Standard deviation (logit scale) of each field's first-order effects.
EFFECT_SD = {
    "user_id": 0.35, "age_group": 0.2, "country": 0.2, "device": 0.2, "ad_id": 0.4, "advertiser_id": 0.3,
    "ad_category": 0.3, "placement": 0.5, "hour_of_day": 0.1, "day_of_week": 0.1,
}
# Standard deviation of each cell of the pairwise interaction tables.
INTERACTION_SD = {("age_group", "ad_category"): 0.5, ("device", "placement"): 0.4, ("country", "advertiser_id"): 0.3}


@dataclass(frozen=True)
class World:
    """Cardinalities of the generated world (realistic orders of magnitude for one ad network)."""

    users: int = 40_000
    ads: int = 3_000
    advertisers: int = 50
    user_activity_sd: float = 1.0  # lognormal spread of impressions per user
    ad_popularity_exponent: float = 0.8  # Zipf exponent of impressions per ad
    effect_sd: dict = field(default_factory=lambda: dict(EFFECT_SD))
    interaction_sd: dict = field(default_factory=lambda: {f"{a}*{b}": sd for (a, b), sd in INTERACTION_SD.items()})


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """Categorical draws by inverse CDF (Generator.choice with p does the same, more slowly)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(size), side="right"), len(p) - 1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def generate(rows: int, seed: int, world: World = World()) -> dict:
    """{"values": {field: array of strings (object)}, "labels": int8 array, "true_p": float64 array,
    "bias": float}: `rows` impressions of a world drawn from `seed`."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    sd = world.effect_sd
    names = {
        "user_id": np.array([f"u{i:06d}" for i in range(world.users)], dtype=object),
        "age_group": np.array(AGE_GROUPS, dtype=object),
        "country": np.array(COUNTRIES, dtype=object),
        "device": np.array(DEVICES, dtype=object),
        "ad_id": np.array([f"ad{i:05d}" for i in range(world.ads)], dtype=object),
        "advertiser_id": np.array([f"adv{i:03d}" for i in range(world.advertisers)], dtype=object),
        "ad_category": np.array(CATEGORIES, dtype=object),
        "placement": np.array(PLACEMENTS, dtype=object),
        "hour_of_day": np.array([str(h) for h in range(24)], dtype=object),
        "day_of_week": np.array(DAYS, dtype=object),
    }
    assert tuple(names) == CATEGORICAL_FIELDS
    effects = {name: rng.normal(0.0, sd[name], len(values)) for name, values in names.items()}
    interactions = {}
    for key, spread in world.interaction_sd.items():
        a, b = key.split("*")
        interactions[(a, b)] = rng.normal(0.0, spread, (len(names[a]), len(names[b])))

    # Users and ads carry their attributes; contexts vary per impression.
    user_age = _choice(rng, np.array([0.14, 0.27, 0.22, 0.17, 0.12, 0.08]), world.users)
    user_country = _choice(rng, _zipf(len(COUNTRIES), 1.0), world.users)
    ad_advertiser = _choice(rng, _zipf(world.advertisers, 0.9), world.ads)
    ad_category = _choice(rng, _zipf(len(CATEGORIES), 0.6), world.ads)
    activity = rng.lognormal(0.0, world.user_activity_sd, world.users)
    popularity = rng.permutation(_zipf(world.ads, world.ad_popularity_exponent))

    user = _choice(rng, activity / activity.sum(), rows)
    ad = _choice(rng, popularity, rows)
    hour_weights = 1.0 + 0.8 * np.sin((np.arange(24) - 9) / 24 * 2 * np.pi)  # busy evenings, quiet nights
    index = {
        "user_id": user,
        "age_group": user_age[user],
        "country": user_country[user],
        "device": _choice(rng, np.array([0.62, 0.30, 0.08]), rows),
        "ad_id": ad,
        "advertiser_id": ad_advertiser[ad],
        "ad_category": ad_category[ad],
        "placement": _choice(rng, np.array([0.45, 0.2, 0.15, 0.12, 0.08]), rows),
        "hour_of_day": _choice(rng, hour_weights / hour_weights.sum(), rows),
        "day_of_week": _choice(rng, np.array([0.14, 0.14, 0.14, 0.14, 0.15, 0.15, 0.14]), rows),
    }
    z = np.zeros(rows)
    for name in CATEGORICAL_FIELDS:
        z += effects[name][index[name]]
    for (a, b), table in interactions.items():
        z += table[index[a], index[b]]
    bias = _solve_bias(z, TARGET_CTR)
    true_p = _sigmoid(z + bias)
    labels = (rng.random(rows) < true_p).astype(np.int8)
    return {"values": {name: names[name][index[name]] for name in CATEGORICAL_FIELDS}, "labels": labels,
            "true_p": true_p, "bias": bias}


def _solve_bias(z: np.ndarray, target: float) -> float:
    """The bias b with mean(sigmoid(z + b)) = target (bisection: the mean rises with b)."""
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        if _sigmoid(z + mid).mean() < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def split_rows(rows: int, seed: int, validation_fraction: float, test_fraction: float) -> dict:
    """{split: sorted row indices}: a seeded random split (impressions are independent draws)."""
    order = np.random.default_rng([seed, 1]).permutation(rows)
    n_test = int(round(rows * test_fraction))
    n_validation = int(round(rows * validation_fraction))
    parts = {"test": order[:n_test], "validation": order[n_test : n_test + n_validation],
             "train": order[n_test + n_validation :]}
    return {name: np.sort(parts[name]) for name in SPLITS}


def write_split(out: str, name: str, data: dict, index: np.ndarray) -> None:
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    columns = [data["labels"][index].astype(str)] + [data["values"][f][index] for f in CATEGORICAL_FIELDS]
    with open(os.path.join(folder, CHANNEL_FILE), "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join((LABEL, *CATEGORICAL_FIELDS)) + "\n")
        for start in range(0, len(index), 100_000):
            chunk = [column[start : start + 100_000] for column in columns]
            handle.write("".join(",".join(row) + "\n" for row in zip(*chunk)))
    os.makedirs(os.path.join(out, TRUTH_DIR), exist_ok=True)
    with open(os.path.join(out, TRUTH_DIR, f"{name}.csv"), "w", encoding="utf-8", newline="") as handle:
        handle.write("true_p\n")
        handle.write("".join(f"{p:.9g}\n" for p in data["true_p"][index]))


def write_dataset(out: str, rows: int, seed: int, validation_fraction: float = 0.1, test_fraction: float = 0.1,
                  progress: Progress | None = None, world: World = World()) -> dict:
    """Generates and writes every split; returns the manifest (also written to manifest.json)."""
    progress = progress or Progress("generate", "off")
    with progress.stage("draw", total=rows, unit="row") as stage:
        data = generate(rows, seed, world)
        stage.update(rows)
        stage.summary = f"click rate {data['labels'].mean():.4f}, mean true p {data['true_p'].mean():.4f}"
    parts = split_rows(rows, seed, validation_fraction, test_fraction)
    with progress.stage("write", total=rows, unit="row") as stage:
        for name in SPLITS:
            write_split(out, name, data, parts[name])
            stage.update(len(parts[name]))
    manifest = {
        "rows": rows, "seed": seed, "validation_fraction": validation_fraction, "test_fraction": test_fraction,
        "target_ctr": TARGET_CTR, "bias": data["bias"], "world": asdict(world),
        "splits": {name: {"rows": int(len(parts[name])), "clicks": int(data["labels"][parts[name]].sum()),
                          "data": f"{name}/{CHANNEL_FILE}", "true_p": f"{TRUTH_DIR}/{name}.csv"} for name in SPLITS},
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_true_p(path: str, rows: int) -> np.ndarray:
    """The true_p column of a truth file, checked to have one value per row of its split."""
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip()
            values = np.array([float(line) for line in handle if line.strip()], dtype=np.float64)
    except FileNotFoundError:
        raise CliError(f"{path}: not found (`{PROG}` writes it beside the channels)") from None
    except ValueError as exc:
        raise CliError(f"{path}: not a column of numbers ({exc})") from None
    if header != "true_p" or len(values) != rows:
        raise CliError(f"{path}: expected a true_p header and {rows} values, got {header!r} and {len(values)}")
    return values


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--out", required=True, metavar="DIR", help="gets train/, validation/, test/, true_p/, manifest.json")
    p.add_argument("--rows", type=int, required=True, help="impressions in all splits together")
    p.add_argument("--seed", type=int, required=True, help="seed of the world and the impressions")
    p.add_argument("--validation-fraction", type=float, default=0.1, help="share of rows in validation/")
    p.add_argument("--test-fraction", type=float, default=0.1, help="share of rows in test/")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    if args.rows < 10:
        p.error("--rows must be at least 10")
    for flag, value in (("--validation-fraction", args.validation_fraction), ("--test-fraction", args.test_fraction)):
        if not 0.0 < value < 1.0:
            p.error(f"{flag} {value}: must be between 0 and 1")
    if args.validation_fraction + args.test_fraction >= 0.9:
        p.error("--validation-fraction plus --test-fraction must leave at least 10% of rows to train")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CliError(f"--out {args.out}: exists and is not a folder")
    os.makedirs(args.out, exist_ok=True)
    manifest = write_dataset(args.out, args.rows, args.seed, args.validation_fraction, args.test_fraction,
                             Progress("generate", choose(args.quiet)))
    counts = ", ".join(f"{name} {manifest['splits'][name]['rows']:,} rows" for name in SPLITS)
    print(f"{PROG}: wrote {args.out}: {counts}; next: sagemaker/bin/py -m ad_click.local_train --train "
          f"{os.path.join(args.out, 'train')} --validation {os.path.join(args.out, 'validation')} --work DIR",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
