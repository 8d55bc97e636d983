"""Warm starts: a scheduled retrain starts from the champion's factors instead of random ones.

The champion channel holds the serving model's artefact, either extracted (model.pt, ids.json,
config.json as model.TrainedModel.save writes them) or as SageMaker stores it (model.tar.gz). An
archive is read member by member, never extracted by tarfile: a member with an absolute name, a `..`
component, a link or a device makes the whole archive unusable, and only the three files are read.

A champion is used when it is intact (the tensors and ids agree, the factors are finite), has this
code's format version and the factor count of the new fit. Anything else is one log line saying why,
and the job trains cold: a bad champion never fails a retrain.

The new fit's data holds users and artists in another index order than the champion's (first-seen
order of another export), so every factor is mapped by id:
  known users      the champion's user factor
  new users        the champion's fold-in of their side features (age group, location): the vector
                   serving gives a user the model has never seen (inference.RecommenderModel.fold_in),
                   on the scale of trained user vectors; zeros when none of their features is known,
                   which leaves them out of the first column solve instead of pulling every artist
                   towards a guess
  known artists,   the champion's column factor
  side features
  new artists and  zeros: they are never read, since given the users the first half-sweep solves
  new features     every column (als.InitialFactors), new artists from the users who played them
So the fit starts from the users (als.InitialFactors(rows=...)): the first half-sweep solves the
artist and feature columns from them, then the sweeps alternate as in a cold fit; the mapped columns
are built too (the other order would start from them) but that solve does not read them. Starting
instead from the champion's columns (users solved first, the side features then entering only
through the fold-in the row solve does anyway) was no better in the replay benchmark
(warm_start_bench.py, 2000 users, 64 factors, days 1-4): NDCG@10 warm - cold -0.0013 / -0.0010 /
-0.0002 after 2 / 3 / 5 sweeps, against -0.0010 / -0.0007 / -0.0003 starting from the users.

Hyperparameters: a warm start reuses the champion's (config.json "params"), with the sweep count of
--warm-start-sweeps, and skips tuning: its factors are the optimum of those hyperparameters, so
starting from them under others would be a cold fit in disguise. Tuning runs again on a cold
retrain (--warm-start false, or no champion channel). With tuning off, the job's own
hyperparameters apply and the champion must have their factor count.

Cold every N: warm starts chain (each champion the previous one's warm refit), and the data drifts
away from what the first search saw. Every artefact records how many warm starts separate it from
its last cold fit (metrics "warm_start.warm_starts_since_cold", kept in config.json's
"validation_metrics"); when the champion is already --cold-every - 1 warm starts from its last cold
fit (default 7: one cold fit, then six warm ones, weekly on a daily schedule when every retrain is
promoted), the job trains cold instead, tuning again when --tune is on. The count follows the
champion's lineage: a challenger the gate rejects does not advance it. A champion that records no
count (written before it existed) counts as a cold fit.
"""
from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from . import inference
from .als import ALSParams, InitialFactors
from .data import Interactions
from .model import FORMAT_VERSION, ModelParams, feature_columns

ARTEFACT_FILES = ("model.pt", "ids.json", "config.json")
ARCHIVE = "model.tar.gz"
# A champion artefact is megabytes to a few GiB; a member larger than this is not one this code wrote.
MAX_MEMBER_BYTES = 16 << 30


class ChampionError(Exception):
    """Why a champion cannot be used (one line, for the job's log and metrics.json)."""


def _unsafe_member(member: tarfile.TarInfo) -> str | None:
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"member {name!r} has an absolute path"
    if ".." in parts:
        return f"member {name!r} leaves the archive's folder (..)"
    if not (member.isfile() or member.isdir()):
        return f"member {name!r} is a link or a special file"
    if member.size > MAX_MEMBER_BYTES:
        return f"member {name!r} is {member.size} bytes"
    return None


def read_archive(path: str) -> dict[str, bytes]:
    """The artefact files of a model.tar.gz (at its root or under one folder), by name.

    Every member is checked before any is read; nothing is written to disk."""
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                problem = _unsafe_member(member)
                if problem:
                    raise ChampionError(f"{ARCHIVE} is unsafe: {problem}")
            found = {}
            for member in members:
                base = os.path.basename(os.path.normpath(member.name))
                # code/inference.py and code/requirements.txt live beside the artefact; skip them.
                if member.isfile() and base in ARTEFACT_FILES and "code" not in member.name.split("/")[:-1]:
                    if base in found:
                        raise ChampionError(f"{ARCHIVE} holds {base} more than once")
                    handle = tar.extractfile(member)
                    found[base] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChampionError(f"{ARCHIVE} is unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None
    return found


def read_artefact(directory: str) -> dict[str, bytes]:
    """model.pt, ids.json and config.json of the champion channel `directory`: the files themselves,
    or the model.tar.gz there (or in one sub-folder, as an S3 prefix above the object lays it out)."""
    if not os.path.isdir(directory):
        raise ChampionError(f"{directory} is not a folder")
    if all(os.path.isfile(os.path.join(directory, name)) for name in ARTEFACT_FILES):
        out = {}
        for name in ARTEFACT_FILES:
            with open(os.path.join(directory, name), "rb") as handle:
                out[name] = handle.read()
        return out
    archives = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        archives += [os.path.join(root, name) for name in files if name == ARCHIVE]
    if not archives:
        raise ChampionError(f"{directory} holds neither {', '.join(ARTEFACT_FILES)} nor {ARCHIVE}")
    if len(archives) > 1:
        raise ChampionError(f"{directory} holds {len(archives)} {ARCHIVE} files; which is the champion is unclear")
    files = read_archive(archives[0])
    missing = [name for name in ARTEFACT_FILES if name not in files]
    if missing:
        raise ChampionError(f"{ARCHIVE} lacks {', '.join(missing)}")
    return files


def _json(files: dict[str, bytes], name: str):
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChampionError(f"{name} is not JSON ({type(exc).__name__})") from None


def _dataclass_from(cls, values: dict):
    """cls(**values) keeping only the fields cls has: a champion of an older or newer version may
    lack or add a field, which then takes this code's default or is dropped."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class Champion:
    """The champion's factors and ids, as its artefact holds them."""

    config: dict
    user_ids: list[str]
    item_ids: list[str]
    feature_ids: list[str]
    user_factors: torch.Tensor
    item_factors: torch.Tensor
    feature_factors: torch.Tensor
    scorer: inference.RecommenderModel = field(repr=False)

    @property
    def factors(self) -> int:
        return int(self.item_factors.shape[1])

    @property
    def model_version(self) -> str:
        return str(self.config.get("model_version", "unknown"))

    @property
    def warm_starts_since_cold(self) -> int:
        """What the champion's job recorded (module docstring, "Cold every N"); 0 when it recorded none."""
        metrics = self.config.get("validation_metrics")
        warm = metrics.get("warm_start") if isinstance(metrics, dict) else None
        count = warm.get("warm_starts_since_cold") if isinstance(warm, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0

    def params(self, sweeps: int) -> ModelParams:
        """The champion's hyperparameters (config.json "params") with `sweeps` ALS sweeps."""
        raw = self.config.get("params")
        if not isinstance(raw, dict) or not isinstance(raw.get("als"), dict):
            raise ChampionError("config.json has no hyperparameters (params.als)")
        try:
            als = _dataclass_from(ALSParams, raw["als"])
            params = _dataclass_from(ModelParams, {**raw, "als": als})
        except TypeError as exc:
            raise ChampionError(f"config.json params do not fit this code ({exc})") from None
        params.als.iterations = sweeps
        if params.als.factors != self.factors:
            raise ChampionError(f"config.json says {params.als.factors} factors, model.pt holds {self.factors}")
        return params


def load_champion(directory: str) -> Champion:
    """Reads and checks the champion artefact in `directory`; ChampionError says what is wrong."""
    files = read_artefact(directory)
    config, ids = _json(files, "config.json"), _json(files, "ids.json")
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        found = config.get("format_version") if isinstance(config, dict) else None
        raise ChampionError(f"format version {found!r}, this code reads {FORMAT_VERSION}")
    lists = ("users", "items", "features")
    if not isinstance(ids, dict) or not all(
            isinstance(ids.get(k), list) and all(isinstance(v, str) for v in ids[k]) for k in lists):
        raise ChampionError("ids.json lacks the users, items and features lists")
    try:
        # weights_only: a champion is input, and a pickle would run code on load.
        tensors = torch.load(io.BytesIO(files["model.pt"]), map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file fails in many ways; none may fail the job
        raise ChampionError(f"model.pt is unreadable ({type(exc).__name__})") from None
    names = ("user_factors", "item_factors", "feature_factors", "fold_in_gram", "column_weights")
    if not isinstance(tensors, dict) or not all(isinstance(tensors.get(n), torch.Tensor) for n in names):
        raise ChampionError(f"model.pt lacks one of {', '.join(names)}")
    users, items, feats = (tensors[n].float() for n in names[:3])
    k = items.shape[1] if items.dim() == 2 else -1
    shapes = {"user_factors": (users, len(ids["users"])), "item_factors": (items, len(ids["items"])),
              "feature_factors": (feats, len(ids["features"]))}
    for name, (tensor, n) in shapes.items():
        if tuple(tensor.shape) != (n, k):
            raise ChampionError(f"model.pt {name} has shape {tuple(tensor.shape)}, ids.json says {n} rows of {k}")
        if not bool(torch.isfinite(tensor).all()):
            raise ChampionError(f"model.pt {name} is not finite")
    needed = ("reg", "reg_exponent", "feature_confidence", "context_confidence", "model_version", "threshold")
    if any(name not in config for name in needed):
        raise ChampionError(f"config.json lacks one of {', '.join(needed)}")
    scorer = inference.RecommenderModel(tensors, config, ids)
    return Champion(config, ids["users"], ids["items"], ids["features"], users, items, feats, scorer)


@dataclass
class WarmInit:
    """Initial factors of one fit's data and how many of its ids the champion knew."""

    initial: InitialFactors
    known_users: int
    new_users: int
    known_items: int
    new_items: int

    def counts(self) -> dict:
        return {"known_users": self.known_users, "new_users": self.new_users,
                "known_items": self.known_items, "new_items": self.new_items}


def _lookup(ids: list[str], champion_ids: list[str]) -> np.ndarray:
    """Index of each id in the champion's ids, -1 where it has none."""
    index = {v: i for i, v in enumerate(champion_ids)}
    return np.fromiter((index.get(v, -1) for v in ids), dtype=np.int64, count=len(ids))


def new_user_factors(champion: Champion, data: Interactions, users: list[int]) -> torch.Tensor:
    """Fold-ins of `users` (indices into data) from the side features the champion knows; zeros
    for a user with none. One solve per distinct feature combination, not per user."""
    out = torch.zeros(len(users), champion.factors)
    feature_index = {f: i for i, f in enumerate(champion.feature_ids)}
    combos: dict[tuple[int, ...], list[int]] = {}
    for row, u in enumerate(users):
        values = data.user_features.get(data.user_ids[u], {})
        known = tuple(sorted(feature_index[key] for key in
                             (f"{name}={values[name]}" for name in ("age_group", "location") if values.get(name))
                             if key in feature_index))
        if known:
            combos.setdefault(known, []).append(row)
    for known, rows in combos.items():
        out[rows] = champion.scorer.fold_in([], list(known)).float()
    return out


def initial_factors(champion: Champion, data: Interactions, columns: bool = True) -> WarmInit:
    """The champion's factors mapped onto `data`'s users and artist + feature columns (see the
    module docstring); columns=False leaves them out (the fit then solves the columns first anyway)."""
    user_at = _lookup(data.user_ids, champion.user_ids)
    known_u = user_at >= 0
    rows = torch.zeros(data.num_users, champion.factors)
    rows[torch.from_numpy(known_u)] = champion.user_factors[torch.from_numpy(user_at[known_u])]
    new = np.flatnonzero(~known_u).tolist()
    if new:
        rows[new] = new_user_factors(champion, data, new)
    item_at = _lookup(data.item_ids, champion.item_ids)
    cols = None
    if columns:
        feature_ids, _, _ = feature_columns(data)
        feature_at = _lookup(feature_ids, champion.feature_ids)
        champion_cols = torch.cat([champion.item_factors, champion.feature_factors])
        at = np.concatenate([item_at, np.where(feature_at >= 0, feature_at + len(champion.item_ids), -1)])
        cols = torch.zeros(len(at), champion.factors)
        cols[torch.from_numpy(at >= 0)] = champion_cols[torch.from_numpy(at[at >= 0])]
    known_i = int((item_at >= 0).sum())
    return WarmInit(InitialFactors(rows=rows, cols=cols), int(known_u.sum()), len(new), known_i,
                    data.num_items - known_i)


@dataclass
class WarmStart:
    """The job's warm-start decision: whether it is used, why (or why not), and what it starts from."""

    used: bool
    reason: str
    sweeps: int
    champion: Champion | None = None
    params: ModelParams | None = None
    last: WarmInit | None = None
    # Warm starts between this fit and its last cold one: the champion's plus one, or 0 when cold.
    since_cold: int = 0

    def initial_for(self, data: Interactions) -> InitialFactors | None:
        """Initial factors of a fit on `data` (None: a cold fit); the counts of the last one are reported."""
        if not self.used:
            return None
        self.last = initial_factors(self.champion, data)
        return self.last.initial

    def report(self) -> dict:
        counts = self.last.counts() if self.last else {k: 0 for k in ("known_users", "new_users", "known_items",
                                                                      "new_items")}
        champion = self.champion.model_version if self.champion else None
        return {"used": self.used, "reason": self.reason, "champion": champion, **counts,
                "sweeps": self.sweeps if self.used else None, "warm_starts_since_cold": self.since_cold}


def hyperparameter_values(params: ModelParams, names) -> dict:
    """params as the job's hyperparameter names (those in `names`), sweep count left out: what a
    warm start trained with, for metrics.json and the model version."""
    values = {**{k: v for k, v in params.als.to_dict().items() if k != "iterations"},
              **{k: v for k, v in params.to_dict().items() if k != "als"}}
    return {k: v for k, v in values.items() if k in names}


def plan(directory: str | None, enabled: bool, params: ModelParams, sweeps: int, tuning: bool,
         log=None, cold_every: int = 7) -> WarmStart:
    """Decides whether the job starts warm; never raises for a bad champion (the job trains cold).

    params: the job's hyperparameters; tuning: whether the job would tune them. With tuning on, a
    warm start takes the champion's hyperparameters instead (module docstring); with it off, the
    champion must have params' factor count. cold_every: a champion cold_every - 1 warm starts from
    its last cold fit means a cold fit (1: always cold)."""
    def cold(reason: str) -> WarmStart:
        if log:
            log(f"warm start: not used, {reason}; training cold")
        return WarmStart(False, reason, sweeps)

    if not directory:
        return cold("no champion channel")
    if not enabled:
        return cold("--warm-start false")
    if sweeps < 1:
        return cold(f"--warm-start-sweeps {sweeps} (needs at least 1)")
    try:
        champion = load_champion(directory)
        warm_params = champion.params(sweeps)
    except ChampionError as exc:
        return cold(f"champion unusable: {exc}")
    since_cold = champion.warm_starts_since_cold + 1
    if since_cold >= cold_every:
        again = ", tuning again" if tuning else ""
        return cold(f"champion {champion.model_version} is {champion.warm_starts_since_cold} warm starts from its "
                    f"last cold fit and --cold-every is {cold_every}{again}")
    if not tuning:
        if champion.factors != params.als.factors:
            return cold(f"champion {champion.model_version} has {champion.factors} factors, this fit "
                        f"{params.als.factors}")
        warm_params = replace(params, als=replace(params.als, iterations=sweeps))
        source = "the job's hyperparameters"
    else:
        source = "the champion's hyperparameters, tuning skipped"
    reason = f"champion {champion.model_version} ({champion.factors} factors), {sweeps} sweeps, {source}"
    if log:
        log(f"warm start: from {reason}")
    return WarmStart(True, reason, sweeps, champion, warm_params, since_cold=since_cold)
