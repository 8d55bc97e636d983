import math

import numpy as np
import pytest

from ad_click import metrics


def test_log_loss_of_hand_computable_cases():
    assert metrics.log_loss([0, 1], [0.5, 0.5]) == pytest.approx(math.log(2))
    # -(ln 0.9 + ln 0.8 + ln 0.3) / 3
    assert metrics.log_loss([1, 0, 1], [0.9, 0.2, 0.3]) == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.3)) / 3)
    # A certain mistake is clipped at 1e-15, not infinite.
    assert metrics.log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15))
    assert metrics.log_loss([0, 1], [0.0, 1.0]) == pytest.approx(0.0, abs=1e-12)


def test_auc_of_known_examples():
    # The scikit-learn documentation's example: 3 of 4 positive-negative pairs are ordered right.
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert metrics.roc_auc([0, 1], [0.2, 0.9]) == 1.0
    assert metrics.roc_auc([1, 0], [0.2, 0.9]) == 0.0


def test_auc_counts_a_tie_as_one_half():
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert metrics.roc_auc([0, 0, 1, 1], [0.3, 0.3, 0.3, 0.3]) == 0.5
    # Pairs (positive, negative): (0.5, 0.1) win, (0.5, 0.5) tie, (0.9, 0.1) win, (0.9, 0.5) win -> 3.5 / 4.
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)


def test_auc_equals_the_pairwise_count_on_random_data_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = rng.integers(0, 20, 300) / 20.0  # many ties
    pos, neg = p[y == 1], p[y == 0]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert metrics.roc_auc(y, p) == pytest.approx(pairwise, abs=1e-12)


def test_average_ranks_share_tied_ranks():
    assert metrics.average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist() == [1.5, 3.0, 1.5, 4.0]


def test_ece_of_hand_computable_bins():
    # Two equal-frequency bins: {0.1, 0.1} with no clicks -> |0 - 0.1| = 0.1; {0.8, 0.8} with one
    # click -> |0.5 - 0.8| = 0.3; ECE = 0.5 * 0.1 + 0.5 * 0.3 = 0.2.
    assert metrics.expected_calibration_error([0, 0, 1, 0], [0.1, 0.1, 0.8, 0.8], bins=2) == pytest.approx(0.2)
    # Perfectly calibrated bins: rates equal mean predictions.
    assert metrics.expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], bins=4) == pytest.approx(0.0)


def test_ece_bins_are_equal_frequency_and_keep_ties_together():
    p = np.arange(1, 11) / 10.0
    y = np.zeros(10)
    assert [b["rows"] for b in metrics.calibration_bins(y, p, bins=5)] == [2, 2, 2, 2, 2]
    # Ten equal predictions cannot be split: one bin of 10, so ECE = |rate - p|.
    bins = metrics.calibration_bins([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.3] * 10, bins=5)
    assert bins == [{"rows": 10, "mean_probability": pytest.approx(0.3), "click_rate": pytest.approx(0.1)}]
    assert metrics.expected_calibration_error([1] + [0] * 9, [0.3] * 10) == pytest.approx(0.2)


def test_ece_default_is_15_bins():
    rng = np.random.default_rng(1)
    p = rng.random(1500)
    assert len(metrics.calibration_bins(np.zeros(1500), p)) == metrics.ECE_BINS == 15


@pytest.mark.parametrize("labels, probabilities, fragment", [
    ([0, 0], [0.1, 0.2], "positive and one negative"),
    ([0, 2], [0.1, 0.2], "0 or 1"),
    ([0, 1], [0.1, 1.2], "within [0, 1]"),
    ([0, 1], [0.1, float("nan")], "finite"),
    ([0, 1], [0.1], "2 labels but 1"),
    ([], [], "no rows"),
])
def test_bad_inputs_are_refused(labels, probabilities, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        metrics.roc_auc(labels, probabilities)
