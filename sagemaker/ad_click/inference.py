"""SageMaker PyTorch inference handler for ad click prediction.

Standalone on purpose (torch, numpy and the standard library only): it is copied to
`code/inference.py` inside model.tar.gz and must not depend on the training package. The training
code imports it too, so the hashing, the feature encoding and the scoring math are one code path
for training, evaluation and serving.

Artefact (model_dir):
  manifest.json  fields, request groups, hash buckets, columns (base fields, then crosses) with
                 their row offsets, model type, factors, calibration, model_version
  model.pt       plain tensors (loadable with weights_only=True): bias, linear, factors (FM only),
                 and keys.<column>: the sorted hash keys seen often enough in training to get a row
A manifest of model_type "constant" ({"format", "model_type", "ctr", "model_version"}, no model.pt)
is the model a fresh deployment serves before any training: `ctr` for every candidate.

Request (application/json):
  {"user": {"user_id": "u1", "age_group": "25-34", "country": "US"},
   "context": {"device": "mobile", "placement": "feed", "hour_of_day": 13, "day_of_week": "tue"},
   "candidates": [{"ad_id": "ad1", "advertiser_id": "adv3", "ad_category": "travel"}, ...]}
Each field named by the manifest's request groups is required, as a string or an integer; an empty
string means "unknown" and scores like a value never seen in training. 1 to 100 candidates.
Response: {"probabilities": [...], "model_version": "..."}, in the candidates' order.
"""
from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

JSON_TYPE = "application/json"
MAX_CANDIDATES = 100
MAX_VALUE_LENGTH = 256
MANIFEST = "manifest.json"
WEIGHTS = "model.pt"
FORMAT = "ad-click-ctr/1"
UNKNOWN_KEY = -1  # an empty value; no column holds it, so it lands on the column's reserved row 0

try:  # Exceptions of this family become 4xx responses in the SageMaker inference toolkit.
    from sagemaker_inference.errors import GenericInferenceToolkitError as _ToolkitError
except ImportError:  # Outside the toolkit (local server, tests): same shape, same attributes.

    class _ToolkitError(Exception):
        def __init__(self, status_code, message=None, phrase=None):
            self.status_code = status_code
            self.message = message
            self.phrase = phrase
            super().__init__(status_code, message, phrase)


class RequestError(_ToolkitError, ValueError):
    """A client error: bad content type, body or field. Carries an HTTP status code.

    The toolkit answers an exception of its own error family with that exception's status code and
    any other exception with a 500, so a ValueError alone would blame the server:
    https://github.com/aws/sagemaker-inference-toolkit/blob/master/src/sagemaker_inference/transformer.py
    """

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(status_code, message, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- hashing and encoding ------------------------------------------------------------------
def value_key(field: str, value: str, buckets: int) -> int:
    """Bucket of a categorical value: a 64-bit BLAKE2b of the UTF-8 value keyed by the field name,
    mod `buckets`. Stable across processes and machines (Python's hash() is salted per process)."""
    if value == "":
        return UNKNOWN_KEY
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8, key=field.encode("utf-8")).digest()
    return int.from_bytes(digest, "little") % buckets


def cross_key(left: np.ndarray, right: np.ndarray, right_buckets: int) -> np.ndarray:
    """Key of a pair of values: the two buckets side by side in one int64 (exact, so a cross
    collides only where its fields' buckets do); unknown when either value is."""
    key = left * right_buckets + right
    return np.where((left < 0) | (right < 0), UNKNOWN_KEY, key)


class Encoder:
    """Maps per-field bucket arrays to the model's embedding rows, one column per base field or cross.

    A column's rows are [offset, offset + rows): row 0 of a column is reserved for every value it
    has no row of its own for (unseen in training, too rare in training, or empty); row i > 0 is
    the i-th of its sorted keys."""

    def __init__(self, manifest: dict, keys: dict):
        self.fields = list(manifest["fields"])
        self.buckets = {field: int(n) for field, n in manifest["hash"]["buckets"].items()}
        self.columns = manifest["columns"]
        self.keys = [np.asarray(keys[column["name"]], dtype=np.int64) for column in self.columns]
        for column, column_keys in zip(self.columns, self.keys):
            if len(column_keys) + 1 != column["rows"]:
                raise ValueError(f"column {column['name']}: {len(column_keys)} keys for {column['rows']} rows")

    def column_keys(self, column: dict, buckets: dict) -> np.ndarray:
        names = column["fields"]
        if len(names) == 1:
            return buckets[names[0]]
        return cross_key(buckets[names[0]], buckets[names[1]], self.buckets[names[1]])

    def encode(self, buckets: dict) -> np.ndarray:
        """{field: int64 array of buckets (n,)} -> int64 (n, columns) of global embedding rows."""
        n = len(buckets[self.fields[0]])
        out = np.empty((n, len(self.columns)), dtype=np.int64)
        for j, (column, keys) in enumerate(zip(self.columns, self.keys)):
            key = self.column_keys(column, buckets)
            if len(keys) == 0:
                out[:, j] = column["offset"]
                continue
            pos = np.searchsorted(keys, key)
            clipped = np.minimum(pos, len(keys) - 1)
            out[:, j] = column["offset"] + np.where(keys[clipped] == key, pos + 1, 0)
        return out


# --- scoring -------------------------------------------------------------------------------
def logits(params: dict, rows: torch.Tensor, factor_columns: int, sparse: bool = False,
           gathered: list | None = None) -> torch.Tensor:
    """Logit per row: bias + the linear weights of every column + the factorization machine's
    pairwise term over the first `factor_columns` columns (the base fields), computed in O(k n) as
    0.5 * sum_k[(sum_f v_fk)^2 - sum_f v_fk^2]. `params` holds tensors or parameters; `sparse`
    gives the tables sparse gradients in training, and `gathered` receives the looked-up linear
    weights and factors (for the training penalty on the rows a batch touches)."""
    weights = F.embedding(rows, params["linear"], sparse=sparse)
    z = params["bias"] + weights.sum(dim=(1, 2))
    if gathered is not None:
        gathered.append(weights)
    factors = params.get("factors")
    if factors is not None and factors.shape[1] > 0 and factor_columns > 1:
        v = F.embedding(rows[:, :factor_columns], factors, sparse=sparse)
        summed = v.sum(dim=1)
        z = z + 0.5 * (summed * summed - (v * v).sum(dim=1)).sum(dim=1)
        if gathered is not None:
            gathered.append(v)
    return z


def calibrate(z: torch.Tensor, calibration: dict) -> torch.Tensor:
    """Platt scaling on the logit, sigmoid(scale * z + shift); temperature scaling is shift 0."""
    return torch.sigmoid(float(calibration.get("scale", 1.0)) * z + float(calibration.get("shift", 0.0)))


def _load_tensors(path: str) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch older than 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


class ClickModel:
    """A trained CTR model: the encoder, the tables and the calibration."""

    def __init__(self, manifest: dict, tensors: dict):
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT!r}")
        self.manifest = manifest
        self.model_version = manifest["model_version"]
        self.request_groups = {group: list(fields) for group, fields in manifest["request_groups"].items()}
        self.encoder = Encoder(manifest, {c["name"]: tensors[f"keys.{c['name']}"] for c in manifest["columns"]})
        self.params = {name: tensors[name].float() for name in ("bias", "linear", "factors") if name in tensors}
        self.factor_columns = int(manifest["factor_columns"])
        self.calibration = manifest.get("calibration") or {}
        expected = sum(column["rows"] for column in manifest["columns"])
        if self.params["linear"].shape[0] != expected:
            raise ValueError(f"{WEIGHTS}: linear table has {self.params['linear'].shape[0]} rows, "
                             f"the manifest's columns {expected}")

    def probabilities(self, rows: np.ndarray, batch: int = 65536) -> np.ndarray:
        """Calibrated click probabilities of encoded rows."""
        out = []
        with torch.no_grad():
            for start in range(0, len(rows), batch):
                chunk = torch.from_numpy(np.ascontiguousarray(rows[start : start + batch]))
                out.append(calibrate(logits(self.params, chunk, self.factor_columns), self.calibration).numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def score(self, request: dict) -> dict:
        """One validated request -> {"probabilities", "model_version"}."""
        candidates = request["candidates"]
        n = len(candidates)
        buckets = {}
        for group in ("user", "context"):
            for field in self.request_groups[group]:
                key = value_key(field, request[group][field], self.encoder.buckets[field])
                buckets[field] = np.full(n, key, dtype=np.int64)
        for field in self.request_groups["candidate"]:
            buckets[field] = np.array([value_key(field, c[field], self.encoder.buckets[field]) for c in candidates],
                                      dtype=np.int64)
        probabilities = self.probabilities(self.encoder.encode(buckets))
        return {"probabilities": [round(float(p), 8) for p in probabilities], "model_version": self.model_version}


class ConstantModel:
    """One probability for every candidate: the bootstrap model, before any training run."""

    def __init__(self, manifest: dict):
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT!r}")
        ctr = manifest.get("ctr")
        if isinstance(ctr, bool) or not isinstance(ctr, (int, float)) or not 0 < ctr < 1:
            raise ValueError(f"{MANIFEST}: ctr {ctr!r} of a constant model must be a number between 0 and 1")
        self.ctr = float(ctr)
        self.model_version = manifest["model_version"]
        # Written by training code, the groups name the fields to check; without them, the shape is checked.
        self.request_groups = manifest.get("request_groups")

    def score(self, request: dict) -> dict:
        return {"probabilities": [self.ctr] * len(request["candidates"]), "model_version": self.model_version}


# --- request parsing -------------------------------------------------------------------------
def _value(obj: dict, where: str, field: str) -> str:
    if field not in obj:
        raise RequestError(f"'{where}.{field}' is required")
    value = obj[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RequestError(f"'{where}.{field}' must be a string or an integer, got {type(value).__name__}")
    value = str(value)
    if len(value) > MAX_VALUE_LENGTH:
        raise RequestError(f"'{where}.{field}' is longer than {MAX_VALUE_LENGTH} characters")
    return value


def _object(payload: dict, where: str) -> dict:
    if where not in payload:
        raise RequestError(f"'{where}' is required (an object)")
    value = payload[where]
    if not isinstance(value, dict):
        raise RequestError(f"'{where}' must be an object, got {type(value).__name__}")
    return value


def parse_request(payload, request_groups: dict | None) -> dict:
    """Checks a decoded request against the model's request groups; every problem names its field.
    Without request groups (a constant model) every value present is checked, and none is required."""
    if not isinstance(payload, dict):
        raise RequestError("the request must be a JSON object with 'user', 'context' and 'candidates'")
    parsed = {}
    for group in ("user", "context"):
        obj = _object(payload, group)
        names = request_groups[group] if request_groups else list(obj)
        parsed[group] = {field: _value(obj, group, field) for field in names}
    candidates = payload.get("candidates")
    if not isinstance(candidates, list):
        raise RequestError("'candidates' is required (a list of 1 to 100 objects)"
                           if candidates is None else f"'candidates' must be a list, got {type(candidates).__name__}")
    if not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise RequestError(f"'candidates' holds {len(candidates)} items; 1 to {MAX_CANDIDATES} are allowed")
    parsed["candidates"] = []
    for i, candidate in enumerate(candidates):
        where = f"candidates[{i}]"
        if not isinstance(candidate, dict):
            raise RequestError(f"'{where}' must be an object, got {type(candidate).__name__}")
        names = request_groups["candidate"] if request_groups else list(candidate)
        parsed["candidates"].append({field: _value(candidate, where, field) for field in names})
    return parsed


# --- SageMaker inference toolkit handler functions -------------------------------------------
def model_fn(model_dir: str):
    with open(os.path.join(model_dir, MANIFEST), encoding="utf-8") as handle:
        manifest = json.load(handle)
    if manifest.get("model_type") == "constant":
        return ConstantModel(manifest)
    return ClickModel(manifest, _load_tensors(os.path.join(model_dir, WEIGHTS)))


def input_fn(request_body, request_content_type: str):
    content_type = (request_content_type or "").split(";")[0].strip().lower()
    if content_type != JSON_TYPE:
        raise RequestError(f"unsupported content type {request_content_type!r}; use {JSON_TYPE}", 415)
    if isinstance(request_body, (bytes, bytearray)):
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("request body is not valid UTF-8") from None
    try:
        # NaN and Infinity are not JSON; Python's decoder would accept them.
        return json.loads(request_body, parse_constant=_reject_constant)
    except RequestError:
        raise
    except (TypeError, ValueError) as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from None


def _reject_constant(name: str):
    raise RequestError(f"request body is not valid JSON: {name} is not a JSON value")


def predict_fn(input_data, model) -> dict:
    # Parsed here rather than in input_fn: the request groups come from the loaded model.
    return model.score(parse_request(input_data, model.request_groups))


def output_fn(prediction: dict, accept: str) -> str:
    accepted = [part.split(";")[0].strip().lower() for part in (accept or JSON_TYPE).split(",")]
    if not any(a in (JSON_TYPE, "*/*", "application/*", "") for a in accepted):
        raise RequestError(f"unsupported accept type {accept!r}; use {JSON_TYPE}", 406)
    if not all(math.isfinite(p) for p in prediction["probabilities"]):
        raise ValueError("the model produced a non-finite probability")  # a defect, not the client's: a 500
    return json.dumps(prediction)
