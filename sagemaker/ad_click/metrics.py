"""Quality of click probabilities: log loss, ROC AUC and expected calibration error.

All take labels in {0, 1} and probabilities in [0, 1] as array-likes of the same length.
"""
from __future__ import annotations

import numpy as np

ECE_BINS = 15
EPS = 1e-15


def _arrays(labels, probabilities) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} probabilities")
    if len(y) == 0:
        raise ValueError("no rows to score")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("probabilities must be finite and within [0, 1]")
    return y, p


def log_loss(labels, probabilities) -> float:
    """Mean negative log-likelihood in nats; probabilities are clipped to [1e-15, 1 - 1e-15] so a
    confident mistake costs about 34.5 rather than infinity."""
    y, p = _arrays(labels, probabilities)
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Start of each run of equal values, and the mean rank of the run.
    starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
    ends = np.concatenate((starts[1:], [len(values)]))
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc(labels, probabilities) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic: the chance that a random positive
    scores above a random negative, a tie counting one half. Undefined (ValueError) without both
    classes."""
    y, p = _arrays(labels, probabilities)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs at least one positive and one negative label")
    rank_sum = float(average_ranks(p)[y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def calibration_bins(labels, probabilities, bins: int = ECE_BINS) -> list[dict]:
    """Equal-frequency bins of the predictions: the edges are the predictions at ranks n*i/bins, a
    prediction goes to the bin of its value, so tied predictions always share a bin (bins may then be
    uneven, and bins left empty are dropped). Equal-frequency rather than equal-width: click
    probabilities crowd below 0.1, where equal-width bins would put nearly every row in one bin.
    Each bin: rows, mean prediction, observed rate."""
    y, p = _arrays(labels, probabilities)
    if bins < 1:
        raise ValueError("bins must be at least 1")
    ordered = np.sort(p)
    cut = (np.arange(1, bins) * len(p)) // bins
    edges = ordered[cut]
    which = np.searchsorted(edges, p, side="right")
    out = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            out.append({"rows": n, "mean_probability": float(p[mask].mean()), "click_rate": float(y[mask].mean())})
    return out


def expected_calibration_error(labels, probabilities, bins: int = ECE_BINS) -> float:
    """sum over bins of (rows in bin / rows) * |observed rate - mean prediction|, over the
    equal-frequency bins of calibration_bins (15 by default)."""
    n = len(np.asarray(labels).ravel())
    return float(sum(b["rows"] / n * abs(b["click_rate"] - b["mean_probability"])
                     for b in calibration_bins(labels, probabilities, bins)))


def report(labels, probabilities) -> dict:
    return {
        "log_loss": log_loss(labels, probabilities),
        "auc": roc_auc(labels, probabilities),
        "expected_calibration_error": expected_calibration_error(labels, probabilities),
    }
