"""The click endpoint's data-quality monitoring: the record preprocessor and the baseline sample
describe the same rows, so the monitor compares like with like."""
import ast
import csv
import json
import os
import sys
from types import SimpleNamespace

from ad_click import features, monitoring_record
from ad_click.monitoring_record import MONITORED_FIELDS, preprocess_handler, request_rows
from common.monitoring_baseline import BASELINE_DIR, BASELINE_FILE

REQUEST = {
    "user": {"user_id": "u1", "age_group": "25-34", "country": "US"},
    "context": {"device": "mobile", "placement": "feed", "hour_of_day": 13, "day_of_week": "tue"},
    "candidates": [
        {"ad_id": "ad1", "advertiser_id": "adv3", "ad_category": "travel"},
        {"ad_id": "ad2", "advertiser_id": "adv4", "ad_category": ""},
    ],
}


def captured(data, encoding="JSON"):
    """A captured record as Model Monitor hands it to the preprocessor."""
    return SimpleNamespace(endpoint_input=SimpleNamespace(data=data, encoding=encoding))


def test_one_flat_row_of_strings_per_candidate():
    rows = preprocess_handler(captured(json.dumps(REQUEST)))
    shared = {"age_group": "25-34", "country": "US", "device": "mobile", "placement": "feed",
              "hour_of_day": "13", "day_of_week": "tue"}
    assert rows == [{**shared, "ad_category": "travel"}, {**shared, "ad_category": ""}]
    assert all(list(row) == list(MONITORED_FIELDS) for row in rows)


def test_identifiers_are_not_monitored_and_every_monitored_field_is_a_feature():
    assert set(MONITORED_FIELDS) <= set(features.CATEGORICAL_FIELDS)
    assert not {"user_id", "ad_id", "advertiser_id"} & set(MONITORED_FIELDS)
    for group, fields in monitoring_record.MONITORED_GROUPS.items():
        assert set(fields) <= set(features.REQUEST_GROUPS[group]), group


def test_malformed_requests_yield_no_rows():
    assert preprocess_handler(captured("not json")) == []
    assert preprocess_handler(captured("a,b,c", encoding="CSV")) == []
    assert request_rows([REQUEST]) == []
    assert request_rows({**REQUEST, "candidates": []}) == []
    assert request_rows({**REQUEST, "user": {"age_group": "25-34"}}) == []
    assert request_rows({**REQUEST, "context": {**REQUEST["context"], "hour_of_day": True}}) == []
    assert request_rows({**REQUEST, "candidates": [{"ad_category": 1.5}]}) == []


def test_preprocessor_needs_nothing_beyond_the_standard_library():
    """The monitoring job runs this one file in the analyzer image, without the model's packages."""
    with open(monitoring_record.__file__) as handle:
        tree = ast.parse(handle.read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    assert not any(isinstance(node, ast.ImportFrom) and node.level > 0 for node in ast.walk(tree))


def test_training_job_writes_the_baseline_rows_the_preprocessor_would_make(trained_job, dataset):
    path = os.path.join(trained_job["work"], "output", "data", BASELINE_DIR, BASELINE_FILE)
    with open(path) as handle:
        sample = [json.loads(line) for line in handle]
    with open(os.path.join(dataset["train"], features.CHANNEL_FILE), newline="") as handle:
        channel = list(csv.DictReader(handle))
    assert len(sample) == len(channel)  # the small data set is under the sample's cap
    # Each channel row, sent as a scoring request, becomes exactly its baseline record.
    for row, record in zip(channel[:200], sample[:200]):
        request = {group: {field: row[field] for field in fields}
                   for group, fields in features.REQUEST_GROUPS.items() if group != "candidate"}
        request["candidates"] = [{field: row[field] for field in features.REQUEST_GROUPS["candidate"]}]
        assert request_rows(request) == [record]
