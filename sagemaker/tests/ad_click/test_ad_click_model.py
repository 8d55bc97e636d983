import itertools
import os

import numpy as np
import pytest
import torch

from ad_click import features, generate, inference, metrics
from ad_click.model import ModelParams, fit, fit_calibration

FAST = dict(epochs=6)


@pytest.fixture(scope="module")
def splits(dataset):
    train = features.read_channel(dataset["train"])
    test = features.read_channel(dataset["test"])
    true_p = generate.read_true_p(os.path.join(dataset["dir"], "true_p", "test.csv"), len(test))
    return train, test, true_p


@pytest.fixture(scope="module")
def fm(splits):
    return fit(splits[0], ModelParams(model_type="fm", **FAST))


def test_fm_beats_the_global_click_rate(splits, fm):
    train, test, true_p = splits
    model = metrics.log_loss(test.labels, fm.predict(test))
    baseline = metrics.log_loss(test.labels, np.full(len(test), train.labels.mean()))
    best = metrics.log_loss(test.labels, true_p)
    assert best < model < baseline - 0.002
    assert metrics.roc_auc(test.labels, fm.predict(test)) > 0.65


def test_lr_with_crosses_learns_and_has_no_factors(splits):
    train, test, _ = splits
    lr = fit(train, ModelParams(model_type="lr", crosses="device*placement,age_group*ad_category", **FAST))
    assert "factors" not in lr.tensors
    assert [c["name"] for c in lr.manifest["columns"]][-2:] == ["device*placement", "age_group*ad_category"]
    baseline = metrics.log_loss(test.labels, np.full(len(test), train.labels.mean()))
    assert metrics.log_loss(test.labels, lr.predict(test)) < baseline - 0.002


def test_same_seed_same_model_other_seed_other_model(splits, fm):
    train, test, _ = splits
    again = fit(train, ModelParams(model_type="fm", **FAST))
    assert np.array_equal(fm.predict(test), again.predict(test))
    other = fit(train, ModelParams(model_type="fm", seed=8, **FAST))
    assert not np.array_equal(fm.predict(test), other.predict(test))


def test_early_stopping_keeps_the_best_epoch(splits):
    # Unregularised Adam memorises the rare users and ads within a few epochs.
    params = ModelParams(model_type="fm", epochs=10, patience=1, optimizer="adam", l2_linear=0, l2_factors=0)
    trained = fit(splits[0], params)
    losses = [r["inner_log_loss"] for r in trained.history]
    assert trained.best_epoch == 1 + int(np.argmin(losses))
    assert len(trained.history) == trained.best_epoch + 1 < 10  # stopped one epoch after the best
    assert trained.manifest["training"]["inner_log_loss"] == min(losses)


def test_pairwise_term_equals_the_sum_over_field_pairs():
    torch.manual_seed(0)
    params = {"bias": torch.tensor([0.3]), "linear": torch.randn(20, 1), "factors": torch.randn(12, 4)}
    rows = torch.tensor([[0, 3, 7, 11, 15], [1, 2, 9, 10, 19]])  # 4 factor columns, then a cross
    expected = []
    for row in rows:
        z = 0.3 + params["linear"][row].sum()
        for i, j in itertools.combinations(range(4), 2):
            z = z + params["factors"][row[i]] @ params["factors"][row[j]]
        expected.append(float(z))
    assert inference.logits(params, rows, 4).tolist() == pytest.approx(expected, rel=1e-5)


def test_platt_calibration_recovers_a_known_distortion():
    rng = np.random.default_rng(0)
    z = rng.normal(-3.0, 1.0, 200_000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-(0.6 * z - 0.4)))).astype(float)
    platt = fit_calibration(z, y, "platt")
    assert platt["scale"] == pytest.approx(0.6, abs=0.03) and platt["shift"] == pytest.approx(-0.4, abs=0.1)
    temperature = fit_calibration(z, y, "temperature")
    assert temperature["shift"] == 0.0 and 0 < temperature["scale"] < 1.2
    assert fit_calibration(z, y, "none") == {"method": "none", "scale": 1.0, "shift": 0.0}


def test_calibration_brings_ece_down_on_a_miscalibrated_score():
    rng = np.random.default_rng(1)
    z = rng.normal(-3.0, 1.0, 100_000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-(z - 1.0)))).astype(float)  # the score is off by +1 logit
    raw = metrics.expected_calibration_error(y, 1 / (1 + np.exp(-z)))
    c = fit_calibration(z, y, "platt")
    fixed = metrics.expected_calibration_error(y, 1 / (1 + np.exp(-(c["scale"] * z + c["shift"]))))
    assert raw > 0.02 and fixed < 0.005


def test_bad_parameters_are_all_named():
    problems = ModelParams(model_type="gbdt", factors=0, learning_rate=-1, crosses="a*b", inner_fraction=0.7).problems()
    text = "; ".join(problems)
    for fragment in ("--model-type gbdt", "--factors 0", "--learning-rate -1", "--inner-fraction 0.7"):
        assert fragment in text
    assert "--crosses" in "; ".join(ModelParams(model_type="lr", crosses="a*b").problems())
