"""Served-list feedback in the training channel: `feedback.csv`, and how it joins the interactions.

feedback.csv (the snapshot's export, one row per served item):
    user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts
clicked is 0 or 1; ts the served time (ISO-8601). An absent file or one with only the header means
no feedback (older snapshots have none), and training runs as it does without it. A bad row raises
DataError naming file, line and field, or is counted and skipped with skip_bad_rows.

How the collaborative model uses it (with_feedback):
  clicks    each clicked (user, item) becomes an interaction of weight `click_weight` (1, the ETL's
            weight of a click event), summed with what the user already had
  negatives each served-but-never-clicked (user, item) that the user has no interaction with becomes
            an explicit negative of the iALS objective: preference 0 at confidence
            `negative_confidence` (als.py), a stronger "not this" than an unserved cell's weight w0
            (they were shown it and passed). A pair clicked in any request, or played, is not a
            negative; pairs of users or artists the interactions do not hold are dropped (counted).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .data import DataError, Interactions, _blank, _check_header, _missing, _parse_ts, build_interactions, csv_records
from .weighting import click_auc, click_report, fit_weighting, pair_parts

FEEDBACK_FILE = "feedback.csv"
FEEDBACK_COLUMNS = ("user_id", "item_id", "request_id", "position", "shown_score", "variant", "model_version",
                    "clicked", "ts")


@dataclass(frozen=True)
class FeedbackRow:
    user_id: str
    item_id: str
    request_id: str
    position: int
    shown_score: float
    clicked: int
    ts: str


def read_feedback(path: str, skip_bad_rows: bool = False) -> tuple[list[FeedbackRow], int]:
    """Returns (rows, skipped_count); ([], 0) when the file does not exist."""
    if not os.path.exists(path):
        return [], 0
    rows: list[FeedbackRow] = []
    skipped = 0
    records = csv_records(path)
    first = next(records, None)
    cols = _check_header(path, first and first[1], FEEDBACK_COLUMNS, ())
    for line, record in records:
        if _blank(record):
            continue
        try:
            _missing(path, line, record, cols)
            value = {name: record[index].strip() for name, index in cols.items()}
            for name in ("user_id", "item_id", "request_id"):
                if not value[name]:
                    raise DataError(f"{path}:{line}: field '{name}': empty")
            if value["clicked"] not in ("0", "1"):
                raise DataError(f"{path}:{line}: field 'clicked': {value['clicked']!r} is not 0 or 1")
            if not value["position"].isdigit() or int(value["position"]) < 1:
                raise DataError(f"{path}:{line}: field 'position': {value['position']!r} is not a positive integer")
            try:
                score = float(value["shown_score"])
            except ValueError:
                score = math.nan
            if not -1.0 <= score <= 1.0:
                raise DataError(f"{path}:{line}: field 'shown_score': {value['shown_score']!r} is not in [-1, 1]")
            try:
                _parse_ts(value["ts"])
            except ValueError:
                raise DataError(f"{path}:{line}: field 'ts': {value['ts']!r} is not ISO-8601") from None
        except DataError:
            if not skip_bad_rows:
                raise
            skipped += 1
            continue
        rows.append(FeedbackRow(value["user_id"], value["item_id"], value["request_id"], int(value["position"]),
                                score, int(value["clicked"]), value["ts"]))
    return rows, skipped


def load_feedback(directory: str | None, skip_bad_rows: bool = False) -> tuple[list[FeedbackRow], int]:
    """feedback.csv of a channel folder (none for no folder or no file)."""
    if not directory:
        return [], 0
    return read_feedback(os.path.join(directory, FEEDBACK_FILE), skip_bad_rows)


def clicked_pairs(rows: list[FeedbackRow]) -> set[tuple[str, str]]:
    return {(r.user_id, r.item_id) for r in rows if r.clicked}


def with_feedback(data: Interactions, rows: list[FeedbackRow], click_weight: float = 1.0):
    """The interactions plus clicks (positives) and served-not-clicked pairs (negatives).

    Returns (Interactions with .negatives set, counts of (user, artist) pairs: clicked_pairs added as
    interactions, negative_pairs kept, negative_pairs_dropped for an unknown user or artist)."""
    clicks = clicked_pairs(rows)
    passed = {(r.user_id, r.item_id) for r in rows if not r.clicked} - clicks
    merged = build_interactions(
        list(data.triples()) + [(user, item, click_weight) for user, item in sorted(clicks)],
        data.user_features, data.skipped_rows, negatives=sorted(passed) + data.negative_pairs())
    users, items = set(merged.user_ids), set(merged.item_ids)
    dropped = sum(1 for u, i in passed if u not in users or i not in items)
    return merged, {"clicked_pairs": len(clicks), "negative_pairs": int(len(merged.negatives)),
                    "negative_pairs_dropped": dropped}


def pairs_not_in(rows, data: Interactions) -> list:
    """The (user, item, weight) rows whose pair `data` does not hold: the channels' rule that a
    validation pair is one train lacks, kept once clicks have become train pairs (a clicked artist
    is excluded from the user's recommendations like a played one, so it cannot be a hit)."""
    held = set(zip((data.user_ids[u] for u in data.users.tolist()), (data.item_ids[i] for i in data.items.tolist())))
    return [row for row in rows if (row[0], row[1]) not in held]


def learn_from_feedback(data: Interactions, rows: list[FeedbackRow], params, fit_without_feedback):
    """The training job's feedback step: fits the model once without the feedback (its cosines are
    the collaborative part of the weighting's rows, free of their own clicks), fits the weighting,
    and merges the feedback into the interactions for the model that is served.

    fit_without_feedback(data) -> TrainedModel. Returns (merged interactions, weighting, report)."""
    base = fit_without_feedback(data)
    weighting, report = fit_weighting(base, rows, params.weighting_l2)
    merged, counts = with_feedback(data, rows, params.click_weight)
    return merged, weighting, {"train_rows": len(rows), **counts, "weighting": report}


def held_out_clicks(trained, rows: list[FeedbackRow]) -> dict | None:
    """Served-score AUC and log loss of the model on feedback it was not trained on (the
    validation channel's), beside the plain cosine's AUC; None without such rows."""
    if not rows or trained.weighting is None:
        return None
    parts, clicked, used = pair_parts(trained, trained.weighting.tables(trained.data), rows)
    if not used:
        return None
    report = click_report(trained.weighting.logit(parts), clicked)
    user_index = {u: i for i, u in enumerate(trained.data.user_ids)}
    item_index = {a: i for i, a in enumerate(trained.data.item_ids)}
    cosine_auc = click_auc(trained.scorer().pair_scores(
        [user_index[r.user_id] for r in used], [item_index[r.item_id] for r in used], weighted=False), clicked)
    report["cosine_click_auc"] = None if cosine_auc is None else round(cosine_auc, 6)
    report["rows_left_out_unknown"] = len(rows) - len(used)
    return report
