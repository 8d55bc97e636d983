"""The co-occurrence block of the served score (inference.RecommenderModel.neighbour_scores) against
the dense formula: a (B x n_users) block per request dotted with every interaction of the model."""
import numpy as np
import pytest
import torch

from artist_recommender.als import ALSParams, column_weights
from artist_recommender.data import Interactions
from artist_recommender.model import ModelParams, TrainedModel, feature_columns

USERS, ARTISTS = 2000, 40
SILENT = ARTISTS - 1  # an artist in the catalogue that nobody listens to


def dense_reference(tensors: dict, num_users: int, item_lists: list) -> tuple:
    """The block's definition computed densely, in float64: a user block per list over every user,
    then every interaction of the model (the item-major CSR) gathered and summed per artist."""
    indptr, listeners = tensors["listeners_indptr"], tensors["listeners"].long()
    scale = tensors["listener_scale"].double()
    num_items = len(indptr) - 1
    counts = indptr[1:] - indptr[:-1]
    user_blocks = torch.zeros(len(item_lists), num_users, dtype=torch.float64)
    for b, items in enumerate(item_lists):
        items = torch.as_tensor(items, dtype=torch.long)
        if len(items) == 0:
            continue
        lengths = counts[items]
        first = torch.repeat_interleave(indptr[items] - (torch.cumsum(lengths, 0) - lengths), lengths)
        entries = first + torch.arange(int(lengths.sum()))
        user_blocks[b].index_add_(0, listeners[entries], torch.repeat_interleave(scale[items] ** 2, lengths))
    norms = user_blocks.norm(dim=1, keepdim=True)
    user_blocks = user_blocks / norms.clamp_min(1e-12)
    item_of_entry = torch.repeat_interleave(torch.arange(num_items), counts)
    contributions = user_blocks[:, listeners] * scale[item_of_entry]
    scores = torch.zeros(len(item_lists), num_items, dtype=torch.float64).index_add_(1, item_of_entry, contributions)
    return scores, (norms > 0).double()


@pytest.fixture(scope="module")
def scorer():
    """A model written by the training code's own tensors(): popularity-skewed random interactions,
    one user with none, one artist with no listener."""
    rng = np.random.default_rng(3)
    popularity = 1.0 / np.arange(1, ARTISTS) ** 1.2
    per_user = rng.integers(1, 8, size=USERS)
    per_user[-1] = 0  # the last user has no artists
    users = np.repeat(np.arange(USERS), per_user)
    items = rng.choice(ARTISTS - 1, size=len(users), p=popularity / popularity.sum())
    keys = np.unique(users * ARTISTS + items)
    data = Interactions([f"u{i}" for i in range(USERS)], [f"a{i}" for i in range(ARTISTS)], keys // ARTISTS,
                        keys % ARTISTS, 1.0 + rng.random(len(keys)))
    params = ModelParams(als=ALSParams(factors=4, reg=1.0, iterations=1))
    names, _, _ = feature_columns(data)
    generator = torch.Generator().manual_seed(0)
    trained = TrainedModel(
        data, params, names,
        user_factors=torch.randn(USERS, 4, generator=generator),
        item_factors=torch.randn(ARTISTS, 4, generator=generator),
        feature_factors=torch.randn(len(names), 4, generator=generator),
        column_weights=column_weights(torch.zeros(ARTISTS + len(names)), params.als),
        confidence=torch.from_numpy(1.0 + np.log1p(data.weights)),
        seconds_per_iteration=[],
    )
    model = trained.scorer()
    assert int(model.t["listeners_indptr"][SILENT + 1] - model.t["listeners_indptr"][SILENT]) == 0
    return model, trained.tensors()


def test_int32_indices(scorer):
    model, _ = scorer
    assert model.t["listeners"].dtype == torch.int32 and model.t["seen_indices"].dtype == torch.int32
    assert model.seen_items(0).dtype == torch.long


def test_matches_the_dense_formula(scorer):
    model, tensors = scorer
    counts = (tensors["listeners_indptr"][1:] - tensors["listeners_indptr"][:-1]).tolist()
    top, rare = int(np.argmax(counts)), min((c, j) for j, c in enumerate(counts) if c > 0)[1]
    assert counts[rare] * 32 < USERS <= counts[top] * 32  # both ways of summing the co-listeners run
    lists = [
        model.seen_items(0).tolist(),
        [],  # a user with no artists
        model.seen_items(USERS - 1).tolist(),  # the user with no interactions: also empty
        [SILENT],  # only an artist nobody listens to
        [rare],  # few co-listeners
        [top, top, rare],  # a repeat counts twice
        [rare, SILENT, top, 5, 5, 7],
        list(range(ARTISTS)),
    ] + [model.seen_items(u).tolist() for u in range(1, 30)]
    scores, present = model.neighbour_scores(lists)
    expected, expected_present = dense_reference(tensors, USERS, lists)
    assert scores.shape == (len(lists), ARTISTS) and scores.dtype == torch.float32
    torch.testing.assert_close(scores.double(), expected, atol=1e-6, rtol=1e-4)  # float32 sums
    assert present.flatten().tolist() == expected_present.flatten().tolist()
    assert present.flatten().tolist()[1:4] == [0.0, 0.0, 0.0]
    assert not bool(scores[1:4].any())
    # A repeat is not a duplicate to drop: [top, top, rare] differs from [top, rare].
    assert not torch.allclose(scores[5], model.neighbour_scores([[top, rare]])[0][0])
    # Each row is what the list alone gets.
    for b in (0, 4, 6):
        single, _ = model.neighbour_scores([lists[b]])
        torch.testing.assert_close(single[0], scores[b])


def test_served_cosine_uses_it(scorer):
    model, tensors = scorer
    users = torch.arange(8)
    lists = [model.seen_items(u) for u in users.tolist()]
    neighbour, _ = dense_reference(tensors, USERS, lists)
    g = model.config["neighbour_weight"]
    assert g > 0
    factors = model.t["user_factors"][users]
    latent = (factors / factors.norm(dim=1, keepdim=True)) @ model.t["item_vectors"][:, : factors.shape[1]].T
    expected = ((1 - g) * latent.double() + g * neighbour) / (((1 - g) ** 2 + g**2) ** 0.5 * 2**0.5)
    torch.testing.assert_close(model.cosine_scores(factors, lists).double(), expected, atol=1e-5, rtol=1e-5)
