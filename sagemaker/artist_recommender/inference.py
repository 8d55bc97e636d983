"""SageMaker PyTorch inference handler for the artist recommender.

Standalone on purpose (torch + standard library only): it is copied to `code/inference.py` inside
model.tar.gz and must not depend on the training package. The training code imports it too, so
batch scoring and online serving share one scoring path.

Artefact (model_dir): model.pt (dict of plain tensors, loadable with weights_only=True),
config.json (hyperparameters, threshold, model_version), ids.json (user, artist and feature ids).

Request (application/json): {"user_id": "u1", "k": 10, "exclude": [...], "context_artists": [...],
"age_group": "...", "location": "..."} or {"instances": [<same objects>]}.
Response: {"model_version": ..., "items": [{"artistId": "...", "score": 0.87}, ...]} (or
{"predictions": [...]} for instances); items sorted by score, score >= threshold, at most k.
Known users get their trained vector and never see artists from their training history. Unknown
users get a vector folded in from their side features and context artists (cold start); with
neither, popularity (scores in [0, 1], no cosine threshold applies to them).

A model trained with served-list feedback carries a learned weighting of the score's parts
(config "score_weighting", tensors "weighting_*"; see artist_recommender/weighting.py): the served
score is then tanh((logit - center) / 2) of logit = bias + weights . (the user's standardised cosine,
age-group affinity, location affinity, popularity), still in [-1, 1], and the threshold applies to
it. Without it the score is the cosine.

A model with a segment prior (config "segment_prior", tensors "segment_*"; see
artist_recommender/segment_prior.py) blends each score with its naive-Bayes share among the listens
of the user's age group and location: (1 - w) cosine + w prior, w = s / (s + n), n the user's
training interactions (the context artists of a request). A new user with features only gets the
segment's taste; the blend stays in [-1, 1]. Users without a known feature keep the cosine.
"""
from __future__ import annotations

import json
import os

import torch

JSON_TYPE = "application/json"
MAX_K = 100
DEFAULT_K = 10

try:  # Exceptions of this family become 4xx responses in the SageMaker inference toolkit.
    from sagemaker_inference.errors import GenericInferenceToolkitError as _ToolkitError
except ImportError:  # Outside the toolkit (local server, tests): same shape, same attributes.

    class _ToolkitError(Exception):
        def __init__(self, status_code, message=None, phrase=None):
            self.status_code = status_code
            self.message = message
            self.phrase = phrase
            super().__init__(status_code, message, phrase)


class RequestError(_ToolkitError):
    """A client error: bad content type, body or field. Carries an HTTP status code."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(status_code, message, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _csr_rows(indptr: torch.Tensor, index: torch.Tensor, rows: torch.Tensor) -> tuple:
    """The entries of `rows` of a CSR matrix (indptr, index), row after row (repeats and empty rows
    allowed), and each row's length. The positions are one cumulative sum of steps, 1 inside a row
    and a jump at each row's start, in index's dtype: with int32 each pass over the entries moves
    half the bytes, and these passes are most of a request's cost."""
    starts = indptr.index_select(0, rows)
    lengths = indptr.index_select(0, rows + 1) - starts
    total = int(lengths.sum())
    if total == 0:
        return index[:0], lengths
    nonempty = lengths > 0  # an empty row has no first entry to jump to
    first, size = starts[nonempty].to(index.dtype), lengths[nonempty].to(index.dtype)
    step = torch.ones(total, dtype=index.dtype)
    step[0] = first[0]
    step[torch.cumsum(size[:-1].long(), 0)] = first[1:] - (first[:-1] + size[:-1]) + 1
    return index.index_select(0, torch.cumsum(step, 0, dtype=index.dtype)), lengths


def _load_tensors(path: str) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch older than 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


class RecommenderModel:
    """Trained vectors plus the fold-in solver for users the model has not seen."""

    def __init__(self, tensors: dict, config: dict, ids: dict):
        self.t = {name: value.float() if value.is_floating_point() else value for name, value in tensors.items()}
        # The interactions twice, artist-major (listeners) and user-major (seen_indices), as int32
        # where they fit: half the artefact's int64 memory, and half the bytes neighbour_scores moves.
        indices = [name for name in ("listeners", "seen_indices") if name in self.t]
        largest = max([len(ids["users"]), len(ids["items"])] + [self.t[name].numel() for name in indices])
        for name in indices:
            self.t[name] = self.t[name].to(torch.int32 if largest < 2**31 else torch.long)
        self.config = config
        self.model_version = config["model_version"]
        self.threshold = float(config["threshold"])
        self.user_ids, self.item_ids, self.feature_ids = ids["users"], ids["items"], ids["features"]
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        self.item_index = {a: i for i, a in enumerate(self.item_ids)}
        self.feature_index = {f: i for i, f in enumerate(self.feature_ids)}
        self.num_items = len(self.item_ids)

    @classmethod
    def load(cls, model_dir: str) -> "RecommenderModel":
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
        with open(os.path.join(model_dir, "ids.json"), encoding="utf-8") as handle:
            ids = json.load(handle)
        return cls(_load_tensors(os.path.join(model_dir, "model.pt")), config, ids)

    # --- vectors -------------------------------------------------------------------------
    def fold_in(self, items: list[int], features: list[int]) -> torch.Tensor:
        """Latent vector of a new user from artists (context confidence) and side features,
        solved exactly as the training half-step solves a user row."""
        cfg = self.config
        cols = torch.cat([self.t["item_factors"], self.t["feature_factors"]])
        idx = torch.tensor(items + [self.num_items + f for f in features], dtype=torch.long)
        conf = torch.tensor(
            [cfg["context_confidence"]] * len(items) + [cfg["feature_confidence"]] * len(features)
        )
        vecs = cols[idx]
        weights = self.t["column_weights"]
        reg = cfg["reg"] * (len(idx) + float(weights.sum())) ** cfg["reg_exponent"]
        lhs = self.t["fold_in_gram"] + (vecs.T * (conf - weights[idx])) @ vecs + reg * torch.eye(vecs.shape[1])
        return torch.linalg.solve(lhs, vecs.T @ conf)

    def neighbour_scores(self, item_lists: list) -> tuple:
        """Second block of the vectors: artist co-occurrence (an item-item component).

        X is the listener matrix with each artist's column scaled to unit norm (scale_j =
        1/sqrt(listeners of j) at each listener); an artist's block is its column of X. A user's
        block is X r normalised, r their row of X (scale_j at each artist j of the list; an artist
        listed twice counts twice): the sum of their artists' blocks, each weighted by its scale_j.
        Returns the (B, n_items) dot products of the two blocks and which users have a non-empty block.

        X r is non-zero only at the co-listeners of the list, so the dot product with artist i is
        scale_i times the sum of the block over the co-listeners who listen to i: only the
        co-listeners' own artists are read (seen_indices, the same interactions user-major), not the
        whole matrix. For a list of popular artists they are still a large share of all interactions."""
        indptr, listeners, scale = self.t["listeners_indptr"], self.t["listeners"], self.t["listener_scale"]
        user_indptr, user_items = self.t["seen_indptr"], self.t["seen_indices"]
        num_users = len(self.user_ids)
        scores = torch.zeros(len(item_lists), self.num_items)
        present = torch.zeros(len(item_lists), 1)
        for b, items in enumerate(item_lists):
            items = torch.as_tensor(items, dtype=torch.long)
            co_listeners, lengths = _csr_rows(indptr, listeners, items)
            if len(co_listeners) == 0:
                continue
            # X r at co-listener u: scale_j^2 summed over the list's artists j that u listens to.
            # Few co-listeners: sort them; many: scatter into a vector of every user (sorting a
            # million costs ~15x the scatter).
            shares = torch.repeat_interleave(scale[items] ** 2, lengths)
            if len(co_listeners) * 32 < num_users:
                users, position = torch.unique(co_listeners, return_inverse=True)
                weights = torch.zeros(len(users)).index_add_(0, position, shares)
            else:
                block = torch.zeros(num_users).index_add_(0, co_listeners, shares)
                users = torch.nonzero(block).squeeze(1)
                weights = block[users]
            weights = weights / weights.norm()
            artists, counts = _csr_rows(user_indptr, user_items, users)
            scores[b].index_add_(0, artists, torch.repeat_interleave(weights, counts, output_size=len(artists)))
            scores[b] *= scale
            present[b] = 1.0
        return scores, present

    def cosine_scores(self, factors: torch.Tensor, item_lists: list) -> torch.Tensor:
        """Cosine of user vectors [(1-g) u/|u|, 0, g b_u] with artist vectors [a_i, c_i]
        (a_i: the unit padded factor vector, c_i: the unit co-occurrence block, so |artist| = sqrt 2;
        g = neighbour_weight; b_u: the user's unit co-occurrence block, see neighbour_scores)."""
        item_vectors = self.t["item_vectors"]
        single = factors.dim() == 1
        factors = factors.reshape(-1, factors.shape[-1])
        users = factors / factors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        latent = users @ item_vectors[:, : users.shape[-1]].T
        g = float(self.config.get("neighbour_weight", 0.0))
        if g > 0:
            neighbour, present = self.neighbour_scores(item_lists)
            user_norm = ((1 - g) ** 2 + g**2 * present).sqrt()
            latent = ((1 - g) * latent + g * neighbour) / (user_norm * 2**0.5)
        return latent[0] if single else latent

    # --- segment prior (light users) --------------------------------------------------------
    def prior_rows_known(self, users: torch.Tensor) -> dict:
        """Each known user's row in the prior's lift tables, per feature ({} without a prior)."""
        prior = self.config.get("segment_prior")
        if not prior:
            return {}
        return {name: self.t[f"segment_user_{name}"][users] for name in prior["groups"]}

    def prior_rows_request(self, request: dict) -> dict:
        """A request's rows (its age_group / location; the all-zero last row when absent or unknown)."""
        prior = self.config.get("segment_prior")
        if not prior:
            return {}
        return {name: torch.tensor([values.index(request.get(name)) if request.get(name) in values else len(values)],
                                   dtype=torch.long)
                for name, values in prior["groups"].items()}

    @staticmethod
    def prior_weight(strength: float, interactions: torch.Tensor) -> torch.Tensor:
        """w = s / (s + n): the prior's share of the score of a user with n interactions."""
        n = interactions.double()
        return strength / (strength + n) if strength > 0 else torch.zeros_like(n)

    def segment_prior_scores(self, rows: dict) -> tuple:
        """((B, n_items) prior scores tanh((log P(i | segment) + log n_items) / 2), (B,) whether the
        user has a known feature), log P(i | segment) = log p_i + the lifts of their groups - log Z."""
        logit = self.t["segment_log_share"].double()[None, :]
        known = None
        for name, group in rows.items():
            lift = self.t[f"segment_{name}_lift"]
            logit = logit + lift[group].double()
            has = group < lift.shape[0] - 1
            known = has if known is None else known | has
        log_p = logit - torch.logsumexp(logit, dim=-1, keepdim=True)
        return torch.tanh(0.5 * (log_p + torch.log(torch.tensor(float(self.num_items))))), known

    def with_segment_prior(self, cosine: torch.Tensor, rows: dict, interactions: torch.Tensor) -> torch.Tensor:
        """(1 - w) cosine + w prior for (B, n_items) cosines; the cosine where there is no prior."""
        prior = self.config.get("segment_prior")
        if not prior or not rows:
            return cosine
        single = cosine.dim() == 1
        cosine = cosine.reshape(-1, self.num_items)
        scores, known = self.segment_prior_scores(rows)
        w = self.prior_weight(float(prior["strength"]), interactions) * known.double()
        blended = ((1 - w)[:, None] * cosine.double() + w[:, None] * scores).to(cosine.dtype)
        return blended[0] if single else blended

    # --- learned weighting of the parts ----------------------------------------------------
    def segment_rows_known(self, users: torch.Tensor) -> dict:
        """Each known user's row in the weighting's affinity tables, per segment."""
        weighting = self.config.get("score_weighting")
        if not weighting:
            return {}
        return {name: self.t[f"weighting_user_{name}"][users] for name in weighting["groups"]}

    def segment_rows_request(self, request: dict) -> dict:
        """A request's rows (its age_group / location; the all-zero last row when absent or unknown)."""
        weighting = self.config.get("score_weighting")
        if not weighting:
            return {}
        rows = {}
        for name, values in weighting["groups"].items():
            value = request.get(name)
            rows[name] = torch.tensor([values.index(value) if value in values else len(values)], dtype=torch.long)
        return rows

    @staticmethod
    def collaborative_part(cosine: torch.Tensor) -> torch.Tensor:
        """The weighting's collaborative part: each user's cosines standardised over the catalogue.
        A folded-in vector (cold start) has cosines on a lower scale than a trained one; within the
        row, the order and spread are what the clicks were fitted on."""
        mean = cosine.mean(dim=-1, keepdim=True)
        if cosine.shape[-1] < 2:  # one artist: no spread to divide by
            return cosine - mean
        return (cosine - mean) / cosine.std(dim=-1, keepdim=True).clamp_min(1e-6)

    def served_scores(self, cosine: torch.Tensor, segment_rows: dict) -> torch.Tensor:
        """The served score of (B, n_items) cosines: the cosine itself, or with a learned weighting
        tanh((logit - center) / 2), logit = bias + w_c collaborative part + w_a age affinity +
        w_l location affinity + w_p popularity, center = the logit of the mean click rate of the
        training feedback: monotone in the logit, inside [-1, 1], and >= 0 exactly for artists more
        likely than the average served one to be clicked."""
        weighting = self.config.get("score_weighting")
        if not weighting:
            return cosine
        single = cosine.dim() == 1
        cosine = cosine.reshape(-1, self.num_items)
        w = weighting["weights"]
        logit = (weighting["bias"] + w["collaborative"] * self.collaborative_part(cosine)
                 + w["popularity"] * self.t["weighting_popularity"])
        for name, rows in segment_rows.items():
            logit = logit + w[name] * self.t[f"weighting_{name}_affinity"][rows]
        served = torch.tanh(0.5 * (logit - weighting["center"]))
        return served[0] if single else served

    def known_scores(self, users: torch.Tensor, weighted: bool = True) -> torch.Tensor:
        """(B, n_items) scores of known users (their training artists not excluded): the cosine
        blended with the segment prior, then, when weighted, the learned weighting."""
        scores = self.cosine_scores(self.t["user_factors"][users], [self.seen_items(u) for u in users.tolist()])
        indptr = self.t["seen_indptr"]
        scores = self.with_segment_prior(scores, self.prior_rows_known(users), indptr[users + 1] - indptr[users])
        return self.served_scores(scores, self.segment_rows_known(users)) if weighted else scores

    def pair_scores(self, users, items, weighted: bool = True, batch: int = 256, part: bool = False):
        """Scores of (known user index, artist index) pairs, as a float64 numpy array; with
        weighted=False the cosine (with the segment prior), or with part=True its collaborative part."""
        users, items = torch.as_tensor(users, dtype=torch.long), torch.as_tensor(items, dtype=torch.long)
        out = torch.empty(len(users), dtype=torch.float64)
        unique, inverse = torch.unique(users, return_inverse=True)
        for start in range(0, len(unique), batch):
            rows = self.known_scores(unique[start : start + batch], weighted and not part).double()
            if part:
                rows = self.collaborative_part(rows)
            mask = (inverse >= start) & (inverse < start + batch)
            out[mask] = rows[inverse[mask] - start, items[mask]]
        return out.numpy()

    def seen_items(self, user: int) -> torch.Tensor:
        start, end = int(self.t["seen_indptr"][user]), int(self.t["seen_indptr"][user + 1])
        return self.t["seen_indices"][start:end].long()

    # --- ranking -------------------------------------------------------------------------
    def top_k(self, scores: torch.Tensor, k: int, excluded: torch.Tensor, threshold: float | None):
        scores = scores.clone()
        if len(excluded):
            scores[excluded] = float("-inf")
        values, indices = torch.topk(scores, min(k, self.num_items))
        return [
            {"artistId": self.item_ids[i], "score": round(v, 6)}
            for v, i in zip(values.tolist(), indices.tolist())
            if v != float("-inf") and (threshold is None or v >= threshold)
        ]

    def recommend(self, request: dict) -> dict:
        """One validated request -> {"model_version", "items"}."""
        k = request["k"]
        excluded = [self.item_index[a] for a in request["exclude"] + request["context_artists"] if a in self.item_index]
        user = self.user_index.get(request["user_id"])
        if user is not None:
            scores = self.known_scores(torch.tensor([user]))[0]
            excluded_t = torch.cat([self.seen_items(user), torch.tensor(excluded, dtype=torch.long)])
            return {"model_version": self.model_version, "items": self.top_k(scores, k, excluded_t, self.threshold)}
        items = sorted({self.item_index[a] for a in request["context_artists"] if a in self.item_index})
        features = [
            self.feature_index[f"{name}={request[name]}"]
            for name in ("age_group", "location")
            if request.get(name) and f"{name}={request[name]}" in self.feature_index
        ]
        excluded_t = torch.tensor(excluded, dtype=torch.long)
        if items or features:
            cosine = self.with_segment_prior(self.cosine_scores(self.fold_in(items, features), [items]),
                                             self.prior_rows_request(request), torch.tensor([len(items)]))
            scores = self.served_scores(cosine, self.segment_rows_request(request))
            return {"model_version": self.model_version, "items": self.top_k(scores, k, excluded_t, self.threshold)}
        return {"model_version": self.model_version, "items": self.top_k(self.t["popularity"], k, excluded_t, None)}

    def recommend_known(self, users: torch.Tensor, k: int, threshold: float | None, batch: int = 256):
        """Top-k (indices, scores) for many known users, their training artists excluded."""
        all_idx, all_scores = [], []
        indptr, seen = self.t["seen_indptr"], self.t["seen_indices"]
        for start in range(0, len(users), batch):
            chunk = users[start : start + batch]
            scores = self.known_scores(chunk)
            lengths = indptr[chunk + 1] - indptr[chunk]
            rows = torch.repeat_interleave(torch.arange(len(chunk)), lengths)
            cols = torch.cat([seen[indptr[u] : indptr[u + 1]] for u in chunk.tolist()]).long() if len(chunk) else rows
            scores[rows, cols] = float("-inf")
            values, indices = torch.topk(scores, min(k, self.num_items), dim=1)
            for v_row, i_row in zip(values.tolist(), indices.tolist()):
                keep = [j for j, v in enumerate(v_row) if v != float("-inf") and (threshold is None or v >= threshold)]
                all_idx.append([i_row[j] for j in keep])
                all_scores.append([v_row[j] for j in keep])
        return all_idx, all_scores


class PopularityModel:
    """A model with no trained vectors: the same ranked list for every user.

    A fresh deployment serves one (config.json of kind "popularity", written at synth time) so its
    endpoint answers before any training has run; the first trained model replaces it."""

    def __init__(self, config: dict):
        self.model_version = config["model_version"]
        self.items = [
            {"artistId": str(item["artistId"]), "score": float(item["score"])} for item in config.get("popularity", [])
        ]

    def recommend(self, request: dict) -> dict:
        excluded = set(request["exclude"]) | set(request["context_artists"])
        items = [item for item in self.items if item["artistId"] not in excluded][: request["k"]]
        return {"model_version": self.model_version, "items": items}


# --- request parsing ----------------------------------------------------------------------
def _string_list(obj: dict, name: str) -> list[str]:
    value = obj.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise RequestError(f"'{name}' must be a list of artist id strings")
    return [str(v) for v in value]


def _parse_request(obj) -> dict:
    if not isinstance(obj, dict):
        raise RequestError("each request must be a JSON object")
    user_id = obj.get("user_id")
    if user_id is None or isinstance(user_id, bool) or not isinstance(user_id, (str, int)) or str(user_id) == "":
        raise RequestError("'user_id' is required (a non-empty string)")
    k = obj.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise RequestError(f"'k' must be an integer between 1 and {MAX_K}")
    parsed = {
        "user_id": str(user_id),
        "k": k,
        "exclude": _string_list(obj, "exclude"),
        "context_artists": _string_list(obj, "context_artists"),
    }
    for name in ("age_group", "location"):
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise RequestError(f"'{name}' must be a string")
        parsed[name] = value
    return parsed


# --- SageMaker inference toolkit handler functions -----------------------------------------
def model_fn(model_dir: str):
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    if config.get("kind") == "popularity":
        return PopularityModel(config)
    return RecommenderModel.load(model_dir)


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
        payload = json.loads(request_body)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from None
    if isinstance(payload, dict) and "instances" in payload:
        instances = payload["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError("'instances' must be a non-empty list of request objects")
        return {"batch": True, "requests": [_parse_request(item) for item in instances]}
    return {"batch": False, "requests": [_parse_request(payload)]}


def predict_fn(input_data: dict, model) -> dict:
    with torch.no_grad():
        results = [model.recommend(request) for request in input_data["requests"]]
    return {"predictions": results} if input_data["batch"] else results[0]


def output_fn(prediction: dict, accept: str) -> str:
    accepted = [part.split(";")[0].strip().lower() for part in (accept or JSON_TYPE).split(",")]
    if not any(a in (JSON_TYPE, "*/*", "application/*", "") for a in accepted):
        raise RequestError(f"unsupported accept type {accept!r}; use {JSON_TYPE}", 406)
    return json.dumps(prediction)
