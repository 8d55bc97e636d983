"""Model Monitor record preprocessor of the click endpoint: one captured request -> flat rows.

Standalone on purpose (standard library only): the data-quality monitoring job downloads this one
file and calls `preprocess_handler` on every captured record
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html). The
analyzer only reads tabular or flat JSON records, and a scoring request is nested (user, context,
1 to 100 candidates; see inference.py), so each candidate becomes one flat row of the monitored
fields, the same rows the training job writes as the baseline sample (train_job.py,
common/monitoring_baseline.py). Values are strings on both sides, so the analyzer infers the same
type for a field in the baseline and in the traffic.

The identifiers (user_id, ad_id, advertiser_id) are not monitored: with millions of values their
distributions say nothing a drift check could act on, and they would swell the statistics.
A record that is not a well-formed request (the endpoint answered it 4xx) yields no rows.
"""
from __future__ import annotations

import json

# The fields whose distribution the monitor compares with the training snapshot's, by request group.
MONITORED_GROUPS = {
    "user": ("age_group", "country"),
    "context": ("device", "placement", "hour_of_day", "day_of_week"),
    "candidate": ("ad_category",),
}
MONITORED_FIELDS = tuple(field for fields in MONITORED_GROUPS.values() for field in fields)


def _text(value) -> str | None:
    """A request value as the training channel writes it, or None where the request is malformed."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def request_rows(request) -> list[dict]:
    """The monitored rows of one parsed request body: one per candidate, [] when malformed."""
    if not isinstance(request, dict):
        return []
    shared = {}
    for group in ("user", "context"):
        part = request.get(group)
        if not isinstance(part, dict):
            return []
        for field in MONITORED_GROUPS[group]:
            value = _text(part.get(field))
            if value is None:
                return []
            shared[field] = value
    candidates = request.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return []
    rows = []
    for candidate in candidates:
        if not isinstance(candidate, dict):
            return []
        row = dict(shared)
        for field in MONITORED_GROUPS["candidate"]:
            value = _text(candidate.get(field))
            if value is None:
                return []
            row[field] = value
        rows.append(row)
    return rows


def preprocess_handler(inference_record, logger=None):
    """Model Monitor's entry point: the captured request's rows (a list of flat dicts)."""
    captured = inference_record.endpoint_input
    if getattr(captured, "encoding", "JSON") != "JSON":
        return []
    try:
        request = json.loads(captured.data)
    except (TypeError, ValueError):
        if logger is not None:
            logger.warning("captured request is not JSON; skipped")
        return []
    return request_rows(request)
