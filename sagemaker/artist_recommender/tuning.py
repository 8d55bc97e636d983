"""Hyperparameter search on an inner split of the training data, within a time budget.

Inner split: when the pairs carry timestamps (Interactions.last_ts), each user's latest 20% of
pairs are the inner validation (split.latest_per_user_split), as the channels hold out the latest
days; without timestamps, the per-user holdout of split.per_user_split with seed 43 (the split the
defaults were chosen on for Last.fm). Users with fewer than 5 pairs stay in the inner train.

Method: successive halving (Jamieson & Talwalkar 2016) in brackets of 9 configurations, with the
ALS sweep count as the resource. A bracket's configurations run a few sweeps (rung 0), the best
third continue to more sweeps, the best of those to the full count; a survivor continues its own
fit (the factors after sweep k do not depend on how many sweeps follow, see als.fit_als), so a
rung costs only its extra sweeps. The configurations are a scrambled Sobol sequence over
search_space.json (log-uniform where the scale is log), seeded; the first bracket starts with the
current defaults and then the ANCHORS (a textbook-iALS point), which always go on to the full
count, and the winner is the best full-count NDCG@10 with ties to the earlier configuration: the
search can only match or beat the defaults, and the anchors, on the inner validation. The anchor
is a corner a random draw over eight dimensions rarely comes near (no co-occurrence block, no norm
damping, w0 = 1) and the one that wins on data unlike Last.fm (explicit ratings turned implicit).
Brackets repeat until max_configs configurations have entered or the time budget would be passed
by the next trial (its cost predicted from the trials so far), which ends the exploration: the
defaults and the anchors run to the full count whatever the budget (at least two full fits), so a
busy machine can cut the Sobol points short but never the configurations the winner must beat.

Polish: when max_configs ended the brackets (budget left), one pass of coordinate steps refines the
winner: for each searched name in search_space.json order, a full fit one step down and one step up
(coordinate_steps: x1.5 on a log scale, a sixth of the range on a linear one); the first step that
beats the incumbent by more than two standard errors of the per-user NDCG difference (clearly_better)
becomes the incumbent and the pass moves to the next name; the factor count only steps down
(SIZE_PARAMETERS). Sobol points are spread thin over eight
dimensions; near a pinned corner a single step often matters (on `bench_data --kind ratings` the
anchor with w0 0.67 instead of 1: inner 0.2073 vs 0.2013, test 0.2771 vs 0.2757), and the
standard-error bar keeps leads inside the inner split's noise (factors 48 there: +0.00002 inner,
-0.002 test) from being taken. It is skipped when fewer than two users validate (no standard error). Side-feature settings are skipped on data without side features.
The caller refits the winner.

Deterministic given the data, the seed and the number of configurations that enter: with a budget
that does not bind (max_configs ends the brackets and the polish ends inside the budget) every run
picks the same winner; a budget that binds cuts the same Sobol sequence, or the polish, at a point
that depends on the machine's speed, which is why the training job saves the search beside its
checkpoints (save_search) and a restarted job reuses it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from artist_recommender.checkpoint import SweepState
from .als import ALSParams
from .data import Interactions, build_interactions
from .evaluation import truth_by_user
from .metrics import ndcg_per_user, ranking_metrics
from .model import ModelParams, checkpoint_key, feature_columns, fit_model
from .split import latest_per_user_split, per_user_split, split_key

SPACE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "search_space.json")
INNER_SEED = 43
BRACKET_SIZE = 9
ETA = 3  # a rung keeps the best third
# Part of a saved search's key: a search saved by another method (before the polish) is not reused.
METHOD = "successive-halving+polish"
# The polish's steps (coordinate_steps): a factor on a log scale, a fraction of the range on a linear one.
COORDINATE_FACTOR = 1.5
COORDINATE_FRACTION = 6
# Names that set the model's size: the polish only steps them down. A bigger model costs more in
# every retrain's fit and in every request's scoring, and the Sobol stage has already weighed sizes
# across the whole range; on Last.fm-2k a step from 128 to 192 factors cleared the bar for +0.0007
# test NDCG@10 at 1.6x the fit time.
SIZE_PARAMETERS = frozenset({"factors"})
# A polish step must lead by this many standard errors of the paired per-user difference. With no
# real difference a step clears one standard error about one time in six, and a pass tries up to 16;
# two (one time in 44) keeps noise steps rare. On planted data the 1-SE bar also took
# feature_confidence 3.9 (test NDCG@10 0.1991), the 2-SE bar only the factor step (0.1987).
POLISH_STANDARD_ERRORS = 2.0
K = 10
# Inner validation users beyond this are a seeded sample: the objective's cost stays bounded on
# large data, and 10,000 users put its standard error far below the differences that matter.
MAX_EVAL_USERS = 10_000
# The co-occurrence scores of the evaluated users do not depend on any tuned value, so they are
# computed once per search when they fit in this many float32 cells.
MAX_CACHED_CELLS = 64_000_000
# Configurations that enter the first bracket after the defaults and, like them, always reach the
# full sweep count: textbook iALS (Hu, Koren & Volinsky 2008: 64 factors here as the benchmark's
# baseline, unobserved weight 1, alpha 1, plain dot-product ranking, no co-occurrence block). On
# explicit ratings turned implicit (`bench_data --kind ratings`) that shape beat the defaults on the
# held-out test (0.276 vs 0.270 NDCG@10) while the inner split scored 0.2013 vs 0.2010: a random
# draw over eight dimensions rarely lands near that corner, and a hair's lead at rung 0 is not
# enough to go on, so it is pinned like the defaults. Values outside the space are clipped into it;
# names not in the space keep the defaults.
ANCHORS: tuple[dict, ...] = (
    {"factors": 64, "reg": 30.0, "unobserved_weight": 1.0, "alpha": 1.0, "norm_exponent": 0.0,
     "neighbour_weight": 0.0},
)


@dataclass
class Parameter:
    name: str
    type: str  # continuous | integer | categorical
    min: float | None = None
    max: float | None = None
    scale: str = "linear"
    values: list | None = None

    def value(self, u: float):
        """The point u in [0, 1) of this range."""
        if self.type == "categorical":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.scale == "log":
            x = math.exp(math.log(self.min) + u * (math.log(self.max) - math.log(self.min)))
        else:
            x = self.min + u * (self.max - self.min)
        if self.type == "integer":
            return int(min(self.max, max(self.min, round(x))))
        return float(x)


def anchored(defaults: dict, anchor: dict, space: list[Parameter]) -> dict:
    """The defaults with the anchor's values of the searched names, each clipped into its range."""
    values = dict(defaults)
    for p in space:
        if p.name not in anchor:
            continue
        x = anchor[p.name]
        if p.type == "categorical":
            values[p.name] = x if x in p.values else values[p.name]
        else:
            x = min(p.max, max(p.min, x))
            values[p.name] = int(round(x)) if p.type == "integer" else float(x)
    return values


def load_space(path: str = SPACE_PATH) -> list[Parameter]:
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    known = {f.name for f in dataclasses.fields(Parameter)}
    space = [Parameter(**{k: v for k, v in p.items() if k in known}) for p in spec["parameters"]]
    problems = []
    for p in space:
        if p.type == "categorical":
            if not p.values:
                problems.append(f"{p.name}: categorical without values")
        elif p.type not in ("continuous", "integer"):
            problems.append(f"{p.name}: unknown type {p.type!r}")
        elif p.min is None or p.max is None or not p.min < p.max or (p.scale == "log" and p.min <= 0):
            problems.append(f"{p.name}: bad range {p.min}..{p.max} ({p.scale})")
        if not hasattr(ALSParams(), p.name) and not hasattr(ModelParams(), p.name):
            problems.append(f"{p.name}: not a model hyperparameter")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return space


def values_of(params: ModelParams, space: list[Parameter]) -> dict:
    return {p.name: getattr(params.als if hasattr(params.als, p.name) else params, p.name) for p in space}


def with_values(params: ModelParams, values: dict, iterations: int | None = None) -> ModelParams:
    als_fields = {f.name for f in dataclasses.fields(ALSParams)}
    als = dataclasses.replace(params.als, **{k: v for k, v in values.items() if k in als_fields},
                              **({} if iterations is None else {"iterations": iterations}))
    return dataclasses.replace(params, als=als, **{k: v for k, v in values.items() if k not in als_fields})


def inner_split(data: Interactions, seed: int = INNER_SEED) -> tuple[Interactions, list, str]:
    """(inner train, inner validation rows, description) of the training data."""
    rows = list(data.triples())
    dated = int(np.isfinite(data.last_ts).sum())
    if dated:
        train_rows, held_out = latest_per_user_split(rows, data.last_ts.tolist(), seed)
        how = f"temporal: each user's latest 20% of pairs by last ts ({dated:,} of {len(rows):,} pairs dated)"
    else:
        train_rows, held_out = per_user_split(rows, seed)
        how = f"per-user holdout, seed {seed} (no timestamps)"
    inner = build_interactions(train_rows, data.user_features, negatives=data.negative_pairs(),
                               timestamps=data.last_ts_of(train_rows))
    return inner, held_out, f"{how}: {len(train_rows):,} train / {len(held_out):,} validation pairs"


class InnerValidation:
    """NDCG@10 of a fitted model on the inner validation rows (serving's ranking, seen excluded)."""

    def __init__(self, train: Interactions, held_out: list, seed: int, batch: int = 256):
        truth = truth_by_user(train, held_out)
        users = sorted(truth)
        if len(users) > MAX_EVAL_USERS:
            users = sorted(sorted(users, key=lambda u: split_key(seed, train.user_ids[u], ""))[:MAX_EVAL_USERS])
        self.truth = {u: truth[u] for u in users}
        self.batches = [torch.tensor(users[s : s + batch], dtype=torch.long) for s in range(0, len(users), batch)]
        self.cache_neighbours = len(users) * train.num_items <= MAX_CACHED_CELLS
        self._neighbours: list | None = None
        self.num_items = train.num_items

    def ndcg(self, trained) -> float:
        return self.scores(trained)[0]

    def scores(self, trained) -> tuple[float, np.ndarray]:
        """(NDCG@10, each validation user's NDCG@10 in a fixed user order)."""
        if not self.truth:
            return 0.0, np.zeros(0)
        scorer = trained.scorer()
        compute = scorer.neighbour_scores
        if self.cache_neighbours and self._neighbours is None:
            self._neighbours = [compute([scorer.seen_items(u) for u in b.tolist()]) for b in self.batches]
        recs = {}
        for n, users in enumerate(self.batches):
            if self._neighbours is not None:
                scorer.neighbour_scores = lambda _items, cached=self._neighbours[n]: cached
            indices, _ = scorer.recommend_known(users, K, threshold=None, batch=len(users))
            recs.update(zip(users.tolist(), indices))
        per_user = np.fromiter(ndcg_per_user(recs, self.truth, K).values(), dtype=np.float64, count=len(self.truth))
        return ranking_metrics(recs, self.truth, self.num_items, K)[f"ndcg_at_{K}"], per_user


class _Continuation:
    """fit_model's checkpoint interface, in memory: a configuration's factors between rungs."""

    def __init__(self):
        self.state: SweepState | None = None

    def sweeps(self, stage, key, ctx=None):
        return self

    def restore(self, n_rows, n_cols, factors, iterations, device):
        return self.state if self.state is not None and self.state.sweep <= iterations else None

    def save(self, state: SweepState, iterations, device):
        self.state = SweepState(state.sweep, state.row_factors.cpu(), state.col_factors.cpu(), list(state.timings))


def rung_sweeps(final: int) -> list[int]:
    """Sweeps of each rung: a ninth, a third and all of the full count (ETA = 3; fewer when equal)."""
    return sorted({math.ceil(final / ETA**2), math.ceil(final / ETA), final})


@dataclass
class TuningResult:
    best: ModelParams
    best_values: dict
    trials: list[dict]
    split: str
    seconds: float
    budget_seconds: float
    seed: int
    stopped_by: str  # "max_configs" | "budget" | "no validation users"
    defaults: dict = field(default_factory=dict)
    best_ndcg: float | None = None
    defaults_ndcg: float | None = None
    space: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "method": f"successive halving, brackets of {BRACKET_SIZE}, keep 1/{ETA} per rung, resource = ALS sweeps; "
                      "scrambled Sobol sample of search_space.json; defaults and a textbook-iALS anchor in the "
                      "first rung, both run to the full count; then one pass of coordinate steps from the winner, "
                      "each taken only when it leads by more than two standard errors of the per-user difference",
            "objective": f"ndcg_at_{K} on the inner validation",
            "split": self.split,
            "seed": self.seed,
            "budget_seconds": self.budget_seconds,
            "seconds": round(self.seconds, 3),
            "stopped_by": self.stopped_by,
            "configs": len({t["config"] for t in self.trials if t.get("stage", "halving") == "halving"}),
            "polish_trials": sum(t.get("stage") == "polish" for t in self.trials),
            "space": self.space,
            "defaults": self.defaults,
            "defaults_ndcg_at_10": self.defaults_ndcg,
            "best": self.best_values,
            "best_ndcg_at_10": self.best_ndcg,
            "trials": self.trials,
        }


def tune(data: Interactions, base: ModelParams, budget_seconds: float, seed: int = 0, progress=None,
         max_configs: int = 27, space: list[Parameter] | None = None, device="cpu", log=None) -> TuningResult:
    """Searches the space on an inner split of `data` (see the module docstring); the winner's
    ModelParams keep base's other fields and its sweep count."""
    began = time.perf_counter()
    space = load_space() if space is None else space
    defaults = values_of(base, space)
    inner, held_out, split = inner_split(data)
    validation = InnerValidation(inner, held_out, seed)
    rungs = rung_sweeps(base.als.iterations)
    sobol = torch.quasirandom.SobolEngine(len(space), scramble=True, seed=seed)
    anchors = [anchored(defaults, a, space) for a in ANCHORS]
    pinned: set[int] = set()  # the defaults and the anchors: they always reach the full count
    trials: list[dict] = []
    finals: list[tuple[float, int, dict]] = []  # (ndcg, config, values) at the full sweep count
    final_users: dict[int, np.ndarray] = {}  # config -> each validation user's NDCG at the full count
    per_sweep: list[float] = []  # observed seconds per sweep per factor
    per_eval: list[float] = []

    def predicted(values: dict, sweeps: int) -> float:
        """Seconds a trial of `sweeps` more sweeps should take: sweep time grows about linearly
        with the factor count here (row solves dominate), plus one evaluation."""
        sweep = float(np.median(per_sweep)) * values.get("factors", base.als.factors) if per_sweep else 0.0
        return sweeps * sweep + (float(np.median(per_eval)) if per_eval else 0.0)

    def run_trial(config: int, bracket: int | None, rung: int, values: dict, state: _Continuation,
                  stage: str = "halving") -> float | None:
        sweeps = rungs[rung]
        done = state.state.sweep if state.state is not None else 0
        # The pinned configurations run whatever the budget: it buys the exploration around them, so
        # the winner cannot depend on how busy the machine was.
        if config not in pinned and time.perf_counter() - began + predicted(values, sweeps - done) > budget_seconds:
            return None
        t0 = time.perf_counter()
        params = with_values(base, values, iterations=sweeps)
        trained = fit_model(inner, params, device, checkpoints=state, stage="tune")
        fitted = time.perf_counter() - t0
        ndcg, per_user = validation.scores(trained)
        seconds = time.perf_counter() - t0
        factors = params.als.factors
        new = trained.seconds_per_iteration[done:]
        if new:
            per_sweep.append(sum(new) / len(new) / factors)
        per_eval.append(seconds - fitted)
        trials.append({"config": config, "stage": stage, "bracket": bracket, "rung": rung, "sweeps": sweeps,
                       "params": values, "defaults": config == 0, "anchor": 0 < config and config in pinned,
                       f"ndcg_at_{K}": ndcg, "seconds": round(seconds, 3)})
        if bar is not None:
            bar.moveto(min(bar.total, int(time.perf_counter() - began)))
        if log:
            log(f"tuning: config {config} rung {rung} ({sweeps} sweeps): NDCG@{K} {ndcg:.4f} in {seconds:.1f}s")
        if rung == len(rungs) - 1:
            final_users[config] = per_user
            if stage == "halving":
                finals.append((ndcg, config, values))
        return ndcg

    def search() -> str:
        config = bracket = 0
        while config < max_configs:
            if enter_bracket(bracket, config):
                return "budget"
            config = min(max_configs, (bracket + 1) * BRACKET_SIZE)
            bracket += 1
        return "max_configs"

    def enter_bracket(bracket: int, first: int) -> bool:
        """Runs one bracket; True when the budget stopped it."""
        config = first
        entering = []
        if bracket == 0:
            entering.append((0, dict(defaults)))
            for anchor in anchors:
                if all(anchor != v for _, v in entering) and len(entering) < max_configs:
                    entering.append((len(entering), anchor))
            config = len(entering)
            pinned.update(c for c, _ in entering)
        while len(entering) < BRACKET_SIZE and config < max_configs:
            point = sobol.draw(1)[0].tolist()
            entering.append((config, {p.name: p.value(u) for p, u in zip(space, point)}))
            config += 1
        states = {c: _Continuation() for c, _ in entering}
        alive = entering
        stopped = False  # the budget is spent: only the pinned configurations go on
        for rung in range(len(rungs)):
            scored = []
            for c, values in alive:
                ndcg = None if stopped and c not in pinned else run_trial(c, bracket, rung, values, states[c])
                if ndcg is None:
                    stopped = True
                    continue
                scored.append((ndcg, c, values))
            if rung == len(rungs) - 1 or not scored:
                return stopped
            keep = 0 if stopped else max(1, math.ceil(len(alive) / ETA))
            ranked = sorted(scored, key=lambda s: (-s[0], s[1]))
            survivors = {c for _, c, _ in ranked[:keep]} | (pinned & {c for _, c, _ in scored})
            alive = [(c, v) for _, c, v in sorted(scored, key=lambda s: s[1]) if c in survivors]
            for c in set(states) - survivors:
                states.pop(c).state = None
        return False

    # Side-feature settings change nothing on data without side features: the polish skips them.
    inert = set() if feature_columns(inner)[0] else {"feature_confidence", "segment_prior_strength"}

    def polish(incumbent: tuple[float, int, dict]) -> tuple[tuple[float, int, dict], bool]:
        """One pass of coordinate steps from the halving's winner (see the module docstring):
        (the winner after it, whether the budget stopped it)."""
        config = 1 + max(t["config"] for t in trials)
        for parameter in space:
            if parameter.name in inert:
                continue
            current = incumbent[2][parameter.name]
            steps = coordinate_steps(parameter, current)
            if parameter.name in SIZE_PARAMETERS:
                steps = [x for x in steps if x < current]
            for value in steps:
                values = {**incumbent[2], parameter.name: value}
                ndcg = run_trial(config, None, len(rungs) - 1, values, _Continuation(), stage="polish")
                if ndcg is None:
                    return incumbent, True
                if clearly_better(final_users[config], final_users[incumbent[1]]):
                    incumbent = (ndcg, config, values)
                    config += 1
                    break
                config += 1
        return incumbent, False

    def run() -> str:
        stopped = search()
        if stopped != "max_configs" or not finals or len(validation.truth) < 2:
            return stopped
        winner, cut = polish(max(finals, key=lambda f: (f[0], -f[1])))
        polished.append(winner)
        return "budget" if cut else stopped

    bar = None
    polished: list[tuple[float, int, dict]] = []
    if not validation.truth:
        stopped_by = "no validation users"
    elif progress is None:
        stopped_by = run()
    else:
        with progress.stage("tune", total=max(1, int(budget_seconds)), unit="second", every=True) as bar:
            stopped_by = run()
            entered = len({t["config"] for t in trials if t["stage"] == "halving"})
            polish_trials = sum(t["stage"] == "polish" for t in trials)
            bar.summary = (f"{len(trials)} trials: {entered} configurations, {polish_trials} polish steps "
                           f"(stopped by {stopped_by.replace('_', ' ')}), best inner NDCG@{K} "
                           f"{max((f[0] for f in finals + polished), default=float('nan')):.4f}")
    if polished:
        best_ndcg, _, best_values = polished[0]
    elif finals:
        best_ndcg, _, best_values = max(finals, key=lambda f: (f[0], -f[1]))
    else:
        best_ndcg, best_values = None, dict(defaults)
    defaults_ndcg = next((n for n, c, _ in finals if c == 0), None)
    return TuningResult(
        best=with_values(base, best_values), best_values=best_values, trials=trials, split=split,
        seconds=time.perf_counter() - began, budget_seconds=budget_seconds, seed=seed, stopped_by=stopped_by,
        defaults=dict(defaults), best_ndcg=best_ndcg, defaults_ndcg=defaults_ndcg,
        space=[dataclasses.asdict(p) for p in space])


def coordinate_steps(parameter: Parameter, value) -> list:
    """The polish's two steps from `value`: down and up by a factor 1.5 on a log scale, by a sixth
    of the range on a linear one (the next value of a categorical), clipped into the range; a step
    that lands on `value` (at a bound, or rounded back) is left out."""
    if parameter.type == "categorical":
        at = parameter.values.index(value) if value in parameter.values else 0
        candidates = [parameter.values[i] for i in (at - 1, at + 1) if 0 <= i < len(parameter.values)]
    else:
        if parameter.scale == "log":
            candidates = [value / COORDINATE_FACTOR, value * COORDINATE_FACTOR]
        else:
            step = (parameter.max - parameter.min) / COORDINATE_FRACTION
            candidates = [value - step, value + step]
        candidates = [min(parameter.max, max(parameter.min, x)) for x in candidates]
        if parameter.type == "integer":
            candidates = [int(round(x)) for x in candidates]
        else:
            candidates = [float(x) for x in candidates]
    out = []
    for x in candidates:
        if x != value and x not in out:
            out.append(x)
    return out


def clearly_better(candidate: np.ndarray, incumbent: np.ndarray) -> bool:
    """Whether the candidate's mean NDCG@10 beats the incumbent's by more than POLISH_STANDARD_ERRORS
    standard errors of the paired per-user difference (same users, same order): a lead inside the
    inner split's noise is not taken."""
    if len(candidate) < 2:
        return False
    diff = candidate - incumbent
    return float(diff.mean()) > POLISH_STANDARD_ERRORS * float(diff.std(ddof=1)) / math.sqrt(len(diff))


def search_key(data: Interactions, base: ModelParams, budget_seconds: float, seed: int, max_configs: int) -> dict:
    """What a saved search must match to stand for this one: the data (timestamps included, which
    shape the inner split), the base hyperparameters, the search settings and the space."""
    h = hashlib.sha256(np.ascontiguousarray(data.last_ts).tobytes()).hexdigest()
    with open(SPACE_PATH, encoding="utf-8") as handle:
        space = json.load(handle)["parameters"]
    return {"data": checkpoint_key(data, base, "tune")["data"], "last_ts": h, "base": base.to_dict(),
            "budget_seconds": budget_seconds, "seed": seed, "max_configs": max_configs, "space": space,
            "anchors": list(ANCHORS), "method": METHOD}


SAVED_SEARCH = "tuning.json"


def restore_search(folder: str, key: dict, base: ModelParams, log=None) -> TuningResult | None:
    """The search a previous run of this job saved in its checkpoint folder, when its key matches:
    a restarted spot job continues with the same hyperparameters (a binding time budget on another
    instance could otherwise cut the search elsewhere), and its fits' checkpoints still match."""
    path = os.path.join(folder, SAVED_SEARCH)
    try:
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
        if saved.get("key") != json.loads(json.dumps(key)):
            if log:
                log(f"tuning: ignoring {path}: it was made for other data or settings")
            return None
        d = saved["result"]
        result = TuningResult(
            best=with_values(base, d["best"]), best_values=d["best"], trials=d["trials"], split=d["split"],
            seconds=d["seconds"], budget_seconds=d["budget_seconds"], seed=d["seed"], stopped_by=d["stopped_by"],
            defaults=d["defaults"], best_ndcg=d["best_ndcg_at_10"], defaults_ndcg=d["defaults_ndcg_at_10"],
            space=d["space"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if log:
            log(f"tuning: ignoring {path}: unreadable ({type(exc).__name__})")
        return None
    if log:
        log(f"tuning: resuming with the search saved in {path} ({len(result.trials)} trials)")
    return result


def save_search(folder: str, key: dict, result: TuningResult, log=None) -> None:
    """Writes the search beside the fit checkpoints, atomically (a reader sees all of it or none)."""
    path = os.path.join(folder, SAVED_SEARCH)
    temporary = os.path.join(folder, f".{SAVED_SEARCH}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "result": result.to_dict()}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        if log:
            log(f"tuning: cannot save {path} ({exc}); a restarted job searches again")
