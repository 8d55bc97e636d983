"""Per-sweep ALS checkpoints, so a reclaimed managed spot job resumes instead of starting over.

SageMaker contract (CheckpointConfig; the pipeline sets only S3Uri, one prefix per job):
- files written under CheckpointConfig.LocalPath, default /opt/ml/checkpoints/, are synced to the
  S3 URI while the job runs:
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CheckpointConfig.html
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-enable.html
- when the job restarts, the S3 checkpoints are restored into that local path on every instance
  before the script starts, and the script itself must find and load them:
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html
The container is not told the local path (no SM_* variable carries it), so train_job takes
--checkpoint-dir with /opt/ml/checkpoints as the default.

One file per fit stage (`als-<stage>.pt`), replaced atomically after every sweep: written to a
temporary file in the same folder, fsynced, then os.replace'd, so a reader (or the S3 sync) sees
the previous complete checkpoint or the new one, never half of one. It holds the factors after
the sweep, the sweep number, the per-sweep timings, the RNG states, and a key: the hyperparameters
that shape the factors and a SHA-256 of the input data. A checkpoint is used only when its key
matches the current run; anything else (other data, other hyperparameters, unreadable, truncated,
a bad checksum, wrong shapes) is ignored with one log line saying why, and the fit starts at sweep
0. Only the writer (rank 0 of a torchrun group, or the first host) writes; every rank reads its own
local copy and the ranks resume only when all of them hold the same checkpoint.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import pickle
import random
import tempfile
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from common.distributed import DistContext

FORMAT = "recommender-als-checkpoint"
FORMAT_VERSION = 1
# SageMaker's documented default for CheckpointConfig.LocalPath (see the module docstring).
DEFAULT_DIR = "/opt/ml/checkpoints"


@dataclass
class SweepState:
    """What a fit needs to continue after `sweep` completed sweeps."""

    sweep: int
    row_factors: torch.Tensor
    col_factors: torch.Tensor
    timings: list[float]


def _tensor_digest(h, tensor: torch.Tensor) -> None:
    array = tensor.detach().cpu().contiguous().numpy()
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(memoryview(array).cast("B"))


def _payload_digest(meta_json: str, tensors: dict) -> str:
    h = hashlib.sha256(meta_json.encode())
    for name in sorted(tensors):
        h.update(name.encode())
        _tensor_digest(h, tensors[name])
    return h.hexdigest()


def _capture_rng(device: torch.device) -> tuple[dict, dict]:
    """(JSON-safe states, tensor states) of Python's, NumPy's and torch's global generators."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    meta = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_name, np_keys.tolist(), int(np_pos), int(np_has_gauss), float(np_gauss)],
    }
    tensors = {"rng_torch": torch.get_rng_state()}
    if device.type == "cuda":
        tensors["rng_cuda"] = torch.cuda.get_rng_state(device)
    return meta, tensors


def _restore_rng(meta: dict, tensors: dict, device: torch.device) -> None:
    version, state, gauss = meta["python"]
    random.setstate((version, tuple(state), gauss))
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["rng_torch"])
    if device.type == "cuda" and "rng_cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng_cuda"], device)


def _differences(saved, current, prefix: str = "") -> list[str]:
    """Dotted names of the entries that differ between two JSON-like dicts."""
    if not isinstance(saved, dict) or not isinstance(current, dict):
        return [] if saved == current else [f"{prefix or 'value'} ({saved!r} in checkpoint, {current!r} now)"]
    out = []
    for name in sorted(set(saved) | set(current)):
        out += _differences(saved.get(name), current.get(name), f"{prefix}.{name}" if prefix else name)
    return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, pickle.UnpicklingError):
        # torch's message would suggest loading with weights_only=False, i.e. running the file.
        return "UnpicklingError: not a file this code wrote"
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class CheckpointDir:
    """A checkpoint folder; `writer` says whether this process may write to it."""

    def __init__(self, directory: str, writer: bool = True, log=None):
        self.directory = os.path.abspath(directory)
        self.writer = writer
        self._log = log or (lambda msg: print(msg, flush=True))
        self._writable = False
        if writer:
            try:
                os.makedirs(self.directory, exist_ok=True)
                # Leftovers of a write that was cut short: never valid, so never worth keeping.
                for stale in glob.glob(os.path.join(glob.escape(self.directory), ".als-*.tmp")):
                    os.unlink(stale)
                self._writable = True
            except OSError as exc:
                self._log(f"checkpoint: cannot use {self.directory} ({exc}); training continues without "
                          "checkpoints, so an interruption restarts from sweep 0")

    def path(self, stage: str) -> str:
        return os.path.join(self.directory, f"als-{stage}.pt")

    def sweeps(self, stage: str, key: dict, ctx: DistContext | None = None) -> "SweepCheckpoint":
        return SweepCheckpoint(self, stage, key, ctx or DistContext())

    # -- writing ---------------------------------------------------------------------------------
    def write(self, stage: str, key: dict, state: SweepState, iterations: int, device: torch.device) -> bool:
        """Atomically replaces the stage's checkpoint; False (logged) if it could not be written."""
        if not self._writable:
            return False
        rng_meta, rng_tensors = _capture_rng(device)
        meta = json.dumps({
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "stage": stage,
            "key": key,
            "sweep": state.sweep,
            "iterations": iterations,
            "timings": list(state.timings),
            "rng": rng_meta,
        }, sort_keys=True)
        tensors = {"row_factors": state.row_factors.detach().cpu().contiguous(),
                   "col_factors": state.col_factors.detach().cpu().contiguous(), **rng_tensors}
        payload = {"meta": meta, "tensors": tensors, "sha256": _payload_digest(meta, tensors)}
        final = self.path(stage)
        fd, tmp = tempfile.mkstemp(prefix=f".als-{stage}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                torch.save(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
            # Persist the rename itself, so a crash right after it cannot bring back the old file.
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            self._log(f"checkpoint: could not write {final} after sweep {state.sweep} ({exc}); "
                      "training continues, an interruption resumes from the previous checkpoint")
            return False
        return True

    # -- reading ---------------------------------------------------------------------------------
    def read(self, stage: str, key: dict, n_rows: int, n_cols: int, factors: int, iterations: int,
             device: torch.device) -> tuple[SweepState | None, dict | None, str]:
        """(state, rng, why) for a usable checkpoint of this stage and key, else (None, None, why)."""
        path = self.path(stage)
        if not os.path.exists(path):
            return None, None, f"no checkpoint at {path}"
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            meta_json, tensors, digest = payload["meta"], payload["tensors"], payload["sha256"]
            meta = json.loads(meta_json)
            intact = _payload_digest(meta_json, tensors) == digest
        except Exception as exc:  # a truncated or foreign file fails in many ways; none is fatal
            return None, None, f"ignoring {path}: unreadable ({_describe(exc)})"
        if not intact:
            return None, None, f"ignoring {path}: checksum mismatch (corrupt)"
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            return None, None, f"ignoring {path}: not a version {FORMAT_VERSION} {FORMAT} file"
        saved = meta.get("key")
        if not isinstance(saved, dict):
            return None, None, f"ignoring {path}: it has no key"
        if saved.get("data") != key.get("data"):
            return None, None, (f"ignoring {path}: it was trained on other input data (fingerprint "
                                f"{str(saved.get('data'))[:12]}, this run {str(key.get('data'))[:12]})")
        diffs = _differences(saved, key)
        if diffs:
            return None, None, f"ignoring {path}: hyperparameters differ: {'; '.join(diffs)}"
        sweep = meta.get("sweep")
        if not isinstance(sweep, int) or not 1 <= sweep <= iterations:
            return None, None, f"ignoring {path}: it holds sweep {sweep!r}, this run has {iterations} sweeps"
        rows, cols = tensors.get("row_factors"), tensors.get("col_factors")
        if (not isinstance(rows, torch.Tensor) or not isinstance(cols, torch.Tensor)
                or tuple(rows.shape) != (n_rows, factors) or tuple(cols.shape) != (n_cols, factors)):
            return None, None, f"ignoring {path}: factor shapes do not match this run"
        if not (torch.isfinite(rows).all() and torch.isfinite(cols).all()):
            return None, None, f"ignoring {path}: factors are not finite"
        timings = meta.get("timings")
        if not isinstance(timings, list) or len(timings) != sweep:
            return None, None, f"ignoring {path}: timings do not match sweep {sweep}"
        state = SweepState(sweep, rows, cols, [float(t) for t in timings])
        why = f"resuming from {path} after sweep {sweep}/{iterations}"
        return state, {"meta": meta["rng"], "tensors": tensors}, why


class SweepCheckpoint:
    """The checkpoint of one fit stage, as fit_als uses it: restore once, then save every sweep."""

    def __init__(self, folder: CheckpointDir, stage: str, key: dict, ctx: DistContext):
        self.folder, self.stage, self.key, self.ctx = folder, stage, key, ctx

    def _log(self, msg: str) -> None:
        prefix = f"rank {self.ctx.rank}: " if self.ctx.enabled else ""
        self.folder._log(f"{prefix}checkpoint [{self.stage}]: {msg}")

    def restore(self, n_rows: int, n_cols: int, factors: int, iterations: int, device) -> SweepState | None:
        device = torch.device(device)
        state, rng, why = self.folder.read(self.stage, self.key, n_rows, n_cols, factors, iterations, device)
        if self.ctx.enabled:
            # Every rank reads its own local copy (one per host); a rank that resumed alone would
            # solve from other factors than its peers, so resume only if all hold the same one.
            mine = torch.tensor([state.sweep if state else 0,
                                 int(self._state_id(state), 16) if state else 0], dtype=torch.long, device=device)
            everyone = [torch.empty_like(mine) for _ in range(self.ctx.world_size)]
            dist.all_gather(everyone, mine)
            if any(not torch.equal(other, everyone[0]) for other in everyone):
                sweeps = [int(t[0]) for t in everyone]
                self._log(f"{why}; ranks hold different checkpoints (sweeps {sweeps}), all start from sweep 0")
                return None
        self._log(why if state else f"{why}; starting from sweep 0")
        if state is None:
            return None
        _restore_rng(rng["meta"], rng["tensors"], device)
        return state

    @staticmethod
    def _state_id(state: SweepState) -> str:
        h = hashlib.sha256()
        _tensor_digest(h, state.row_factors)
        _tensor_digest(h, state.col_factors)
        return h.hexdigest()[:15]  # 60 bits: fits a signed int64

    def save(self, state: SweepState, iterations: int, device) -> None:
        if self.folder.writer:
            self.folder.write(self.stage, self.key, state, iterations, torch.device(device))
