"""CTR models in PyTorch: a factorization machine and logistic regression with hashed crosses.

Both are one model: a bias, a linear weight per embedding row of every column (base fields, then
the crosses), and for the factorization machine a k-dimensional factor per row of the base fields,
whose pairwise dot products add every field-pair interaction (inference.logits, O(k n)). Logistic
regression is the same with no factors and, by default, every pair of fields as a cross column.

Training minimises the summed log loss plus l2 * |w|^2 once per embedding row (a Gaussian prior:
a value seen twice is shrunk hard, one seen 10,000 times hardly), spread over the row's
occurrences so that each minibatch carries its share, with sparse gradients: Adagrad (the default:
its steps scale with each row's own gradient history, so the many small no-click gradients and the
rare large click gradients of a row keep their proportions) or Adam on the rows a batch touches
(SparseAdam). A seeded share of the training channel (inner validation)
is held out: training stops when its log loss has not improved for `patience` epochs and keeps the
best epoch's tables, then a Platt (or temperature) calibration is fitted on it. Everything is
seeded, so the same data and parameters give the same model.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import inference
from .features import Rows, build_vocabulary, parse_crosses

MODEL_TYPES = ("fm", "lr")
OPTIMIZERS = ("adam", "adagrad")
CALIBRATIONS = ("platt", "temperature", "none")
DEFAULT_CROSSES = {"fm": "none", "lr": "all"}


@dataclass(frozen=True)
class ModelParams:
    model_type: str = "fm"
    factors: int = 16  # ignored by lr
    crosses: str = ""  # '' = the model type's default (DEFAULT_CROSSES)
    min_count: int = 3
    epochs: int = 30
    batch_size: int = 4096
    learning_rate: float = 0.05
    optimizer: str = "adagrad"
    l2_linear: float = 10.0
    l2_factors: float = 30.0
    init_sd: float = 0.01
    patience: int = 2
    inner_fraction: float = 0.1
    calibration: str = "platt"
    seed: int = 7

    def resolved_crosses(self) -> str:
        return self.crosses or DEFAULT_CROSSES[self.model_type]

    def problems(self) -> list[str]:
        """Every invalid setting, as `--flag value: reason`."""
        out = []
        if self.model_type not in MODEL_TYPES:
            out.append(f"--model-type {self.model_type}: one of {', '.join(MODEL_TYPES)}")
        if self.optimizer not in OPTIMIZERS:
            out.append(f"--optimizer {self.optimizer}: one of {', '.join(OPTIMIZERS)}")
        if self.calibration not in CALIBRATIONS:
            out.append(f"--calibration {self.calibration}: one of {', '.join(CALIBRATIONS)}")
        for flag, value, low in (("--factors", self.factors, 1), ("--min-count", self.min_count, 1),
                                 ("--epochs", self.epochs, 1), ("--batch-size", self.batch_size, 1),
                                 ("--patience", self.patience, 1)):
            if value < low:
                out.append(f"{flag} {value}: must be at least {low}")
        for flag, value in (("--learning-rate", self.learning_rate), ("--l2-linear", self.l2_linear),
                            ("--l2-factors", self.l2_factors), ("--init-sd", self.init_sd)):
            if not math.isfinite(value) or value < 0 or (flag == "--learning-rate" and value == 0):
                out.append(f"{flag} {value}: must be a finite number above 0" if flag == "--learning-rate"
                           else f"{flag} {value}: must be a finite number, 0 or more")
        if not 0.0 < self.inner_fraction < 0.5:
            out.append(f"--inner-fraction {self.inner_fraction}: must be between 0 and 0.5")
        if self.model_type in MODEL_TYPES:
            try:
                parse_crosses(self.resolved_crosses())
            except ValueError as exc:
                out.append(f"--crosses {self.crosses}: {exc}")
        return out

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def inner_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, inner validation rows): a seeded random share, both sorted."""
    order = np.random.default_rng([seed, 2]).permutation(n)
    held = max(1, int(round(n * fraction)))
    return np.sort(order[held:]), np.sort(order[:held])


def log_loss_of_logits(z: torch.Tensor, y: torch.Tensor) -> float:
    return float(F.binary_cross_entropy_with_logits(z.double(), y.double()))


def fit_calibration(z: np.ndarray, y: np.ndarray, method: str) -> dict:
    """Platt scaling sigmoid(a z + b), or temperature scaling (b = 0), by Newton's method on the log
    loss (convex in a and b); {"method": "none"} leaves the model's own probabilities."""
    if method == "none":
        return {"method": "none", "scale": 1.0, "shift": 0.0}
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.stack([z, np.ones_like(z)], axis=1) if method == "platt" else z[:, None]
    theta = np.zeros(design.shape[1])
    theta[0] = 1.0

    def loss(t):
        s = design @ t
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    current = loss(theta)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (p - y) / len(y)
        hessian = (design * (p * (1 - p))[:, None]).T @ design / len(y) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        t = 1.0
        while t > 1e-6 and loss(theta - t * step) > current:  # backtracking keeps each step a descent
            t /= 2
        if t <= 1e-6:
            break
        theta = theta - t * step
        previous, current = current, loss(theta)
        if previous - current < 1e-12:
            break
    return {"method": method, "scale": float(theta[0]), "shift": float(theta[1]) if method == "platt" else 0.0}


@dataclass
class Trained:
    manifest: dict  # the feature part (features.build_vocabulary) plus model type, factors, calibration
    keys: dict  # column -> sorted int64 keys
    tensors: dict  # bias, linear, factors (fm)
    history: list  # per epoch: {"epoch", "train_loss", "inner_log_loss", "seconds"}
    best_epoch: int
    fit_seconds: float
    rows: int  # training rows fitted (after the inner split)

    def model(self, model_version: str = "unversioned") -> inference.ClickModel:
        """The serving model, built in memory (no round trip through disk)."""
        tensors = dict(self.tensors)
        tensors.update({f"keys.{name}": torch.from_numpy(keys) for name, keys in self.keys.items()})
        return inference.ClickModel(dict(self.manifest, model_version=model_version), tensors)

    def predict(self, rows: Rows) -> np.ndarray:
        model = self.model()
        return model.probabilities(model.encoder.encode(rows.buckets))

    def save(self, model_dir: str, model_version: str, extra: dict | None = None) -> None:
        """Writes model.pt, manifest.json and code/ (the self-contained inference handler)."""
        os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
        tensors = {name: value.detach().clone().contiguous() for name, value in self.tensors.items()}
        tensors.update({f"keys.{name}": torch.from_numpy(np.ascontiguousarray(keys)) for name, keys in self.keys.items()})
        torch.save(tensors, os.path.join(model_dir, inference.WEIGHTS))
        manifest = dict(self.manifest, model_version=model_version)
        if extra:
            manifest.update(extra)
        with open(os.path.join(model_dir, inference.MANIFEST), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
        shutil.copyfile(inference.__file__, os.path.join(model_dir, "code", "inference.py"))
        with open(os.path.join(model_dir, "code", "requirements.txt"), "w", encoding="utf-8") as handle:
            handle.write("# inference.py needs only torch and numpy, which the SageMaker PyTorch image provides.\n")


def _init_tables(columns_rows: int, factor_rows: int, params: ModelParams, base_rate: float) -> dict:
    generator = torch.Generator().manual_seed(params.seed)
    tables = {
        "bias": torch.tensor([math.log(base_rate / (1 - base_rate))], dtype=torch.float32),
        "linear": torch.zeros(columns_rows, 1),
    }
    if params.model_type == "fm":
        tables["factors"] = torch.randn(factor_rows, params.factors, generator=generator) * params.init_sd
    return {name: torch.nn.Parameter(value) for name, value in tables.items()}


def _optimizers(tables: dict, params: ModelParams) -> list:
    sparse = [tables[name] for name in ("linear", "factors") if name in tables]
    if params.optimizer == "adagrad":
        return [torch.optim.Adagrad(sparse + [tables["bias"]], lr=params.learning_rate)]
    return [torch.optim.SparseAdam(sparse, lr=params.learning_rate), torch.optim.Adam([tables["bias"]], lr=params.learning_rate)]


def _logits_in_batches(tables: dict, x: torch.Tensor, factor_columns: int, batch: int = 65536) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([inference.logits(tables, x[s : s + batch].long(), factor_columns)
                          for s in range(0, len(x), batch)])


def fit(rows: Rows, params: ModelParams, on_epoch=None, log=None) -> Trained:
    """Trains on `rows` (a training channel); on_epoch(done, record) after each epoch."""
    problems = params.problems()
    if problems:
        raise ValueError("; ".join(problems))
    began = time.perf_counter()
    fit_index, inner_index = inner_split(len(rows), params.inner_fraction, params.seed)
    fit_rows, inner_rows = rows.take(fit_index), rows.take(inner_index)
    crosses = parse_crosses(params.resolved_crosses())
    manifest, keys = build_vocabulary(fit_rows, crosses, params.min_count)
    manifest.update({"model_type": params.model_type, "factors": params.factors if params.model_type == "fm" else 0,
                     "crosses": [f"{a}*{b}" for a, b in crosses]})
    encoder = inference.Encoder(manifest, keys)
    # int32 halves the memory of the encoded rows (55 columns with every cross); batches widen to int64.
    x_fit = torch.from_numpy(encoder.encode(fit_rows.buckets).astype(np.int32))
    x_inner = torch.from_numpy(encoder.encode(inner_rows.buckets).astype(np.int32))
    y_fit, y_inner = torch.from_numpy(fit_rows.labels), torch.from_numpy(inner_rows.labels)
    base_rate = min(max(float(y_fit.mean()), 1e-6), 1 - 1e-6)
    columns = manifest["columns"]
    factor_rows = sum(c["rows"] for c in columns[: manifest["factor_columns"]])
    tables = _init_tables(sum(c["rows"] for c in columns), factor_rows, params, base_rate)
    optimizers = _optimizers(tables, params)
    nf = manifest["factor_columns"]
    generator = torch.Generator().manual_seed(params.seed + 1)
    n = len(x_fit)
    # Each occurrence of a row carries 1/count of the row's penalty, so that an epoch adds each row's
    # L2 term once (a Gaussian prior): a value seen twice is shrunk much more than one seen 10,000 times.
    counts = torch.bincount(x_fit.reshape(-1).long(), minlength=len(tables["linear"]))
    inverse_count = (1.0 / counts.clamp_min(1).float()).unsqueeze(1)
    best = (float("inf"), 0, None)
    history = []
    for epoch in range(1, params.epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, params.batch_size):
            index = order[start : start + params.batch_size]
            batch = x_fit[index].long()
            gathered = []
            z = inference.logits(tables, batch, nf, sparse=True, gathered=gathered)
            loss = F.binary_cross_entropy_with_logits(z, y_fit[index])
            share = inverse_count[batch]  # (B, columns, 1)
            penalty = params.l2_linear * (share * gathered[0] * gathered[0]).sum()
            if len(gathered) > 1:
                penalty = penalty + params.l2_factors * (share[:, :nf] * gathered[1] * gathered[1]).sum()
            for optimizer in optimizers:
                optimizer.zero_grad()
            (loss + penalty / len(index)).backward()
            for optimizer in optimizers:
                optimizer.step()
            total += float(loss) * len(index)
        inner_loss = log_loss_of_logits(_logits_in_batches(tables, x_inner, nf), y_inner)
        if not math.isfinite(inner_loss):
            raise FloatingPointError(f"epoch {epoch}: the inner validation log loss is {inner_loss}; "
                                     "lower --learning-rate")
        record = {"epoch": epoch, "train_loss": total / n, "inner_log_loss": inner_loss,
                  "seconds": time.perf_counter() - started}
        history.append(record)
        if log:
            log(f"epoch {epoch}: train loss {record['train_loss']:.5f}, inner validation log loss {inner_loss:.5f} "
                f"({record['seconds']:.1f}s)")
        if on_epoch:
            on_epoch(epoch, record)
        if inner_loss < best[0]:
            best = (inner_loss, epoch, {name: t.detach().clone() for name, t in tables.items()})
        elif epoch - best[1] >= params.patience:
            break
    _, best_epoch, state = best
    z_inner = _logits_in_batches(state, x_inner, nf).numpy()
    manifest["calibration"] = fit_calibration(z_inner, inner_rows.labels, params.calibration)
    manifest["training"] = {"rows": n, "inner_validation_rows": len(x_inner), "click_rate": base_rate,
                            "best_epoch": best_epoch, "epochs_run": len(history),
                            "inner_log_loss": best[0]}
    return Trained(manifest, keys, state, history, best_epoch, time.perf_counter() - began, n)


def fingerprint(rows: Rows, params: dict) -> str:
    """12 hex digits naming the data and the hyperparameters: the model version without a job name."""
    h = hashlib.sha256()
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(np.ascontiguousarray(rows.labels).tobytes())
    for field in sorted(rows.buckets):
        h.update(field.encode())
        h.update(np.ascontiguousarray(rows.buckets[field]).tobytes())
    return h.hexdigest()[:12]
