import os
import subprocess
import sys

import numpy as np
import pytest

from common.cli import DataError
from helpers import child_env
from ad_click import features, inference

HEADER = ",".join(features.COLUMNS)
ROW = "1,u1,25-34,US,mobile,ad1,adv1,travel,feed,13,tue"


def write(tmp_path, text):
    (tmp_path / "data.csv").write_text(text)
    return str(tmp_path)


def test_field_list_has_one_home():
    assert features.COLUMNS == ("label",) + features.CATEGORICAL_FIELDS
    assert sorted(sum(map(list, features.REQUEST_GROUPS.values()), [])) == sorted(features.CATEGORICAL_FIELDS)


def test_reads_a_channel_in_any_column_order(tmp_path):
    columns = list(reversed(features.COLUMNS))
    values = dict(zip(features.COLUMNS, ROW.split(",")))
    path = write(tmp_path, ",".join(columns) + "\n" + ",".join(values[c] for c in columns) + "\n\n")
    rows = features.read_channel(path)
    assert rows.labels.tolist() == [1.0]
    assert rows.buckets["country"][0] == inference.value_key("country", "US", features.BUCKETS["country"])


@pytest.mark.parametrize("text, fragment", [
    ("", "empty file"),
    (HEADER.replace(",country", "") + "\n", ":1: missing column country"),
    (HEADER + ",true_p\n" + ROW + ",0.1\n", ":1: unexpected column true_p"),
    (HEADER + "\n" + ROW + "\n" + "1,u1,25-34\n", ":3: field country: missing"),
    (HEADER + "\n" + ROW + ",extra\n", ":2: 12 fields, the header has 11"),
    (HEADER + "\n" + ROW.replace("1,", "yes,", 1) + "\n", ":2: field label: 'yes' is not 0 or 1"),
    (HEADER + "\n" + ROW.replace("1,", "0.5,", 1) + "\n", ":2: field label: '0.5' is not 0 or 1"),
    (HEADER + "\n", "no rows after the header"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        features.read_channel(path)
    assert str(info.value).startswith(os.path.join(path, "data.csv"))
    assert fragment in str(info.value)


def test_missing_channel_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="data.csv: not found"):
        features.read_channel(str(tmp_path))


def test_hash_is_stable_across_processes():
    # Python's str hash is salted per process; the bucket of a value must not be.
    script = "from ad_click.inference import value_key; print(value_key('user_id', 'u42', 1 << 30))"
    outputs = {subprocess.run([sys.executable, "-c", script], env=child_env(PYTHONHASHSEED=str(seed)),
                              capture_output=True, text=True, check=True).stdout.strip() for seed in (1, 2)}
    assert outputs == {str(inference.value_key("user_id", "u42", 1 << 30))}
    # The field name keys the hash: the same text in two fields lands in unrelated buckets.
    assert inference.value_key("ad_id", "7", 1 << 20) != inference.value_key("advertiser_id", "7", 1 << 20)


def test_unseen_rare_and_empty_values_share_the_reserved_row():
    labels = np.zeros(7, dtype=np.float32)
    values = {field: ["x"] * 7 for field in features.CATEGORICAL_FIELDS}
    values["country"] = ["US", "US", "US", "FR", "FR", "FR", "DE"]  # DE once: below min_count 2
    rows = features.Rows(labels, {f: features.hash_column(f, v) for f, v in values.items()})
    manifest, keys = features.build_vocabulary(rows, features.parse_crosses("country*device"), min_count=2)
    encoder = inference.Encoder(manifest, keys)
    country = [c["name"] for c in manifest["columns"]].index("country")
    offset = manifest["columns"][country]["offset"]
    probe = {f: np.array([inference.value_key(f, "x", features.BUCKETS[f])] * 5) for f in features.CATEGORICAL_FIELDS}
    probe["country"] = np.array([inference.value_key("country", v, features.BUCKETS["country"]) if v else -1
                                 for v in ("US", "FR", "DE", "JP", "")])
    encoded = encoder.encode(probe)[:, country] - offset
    assert encoded[0] != encoded[1] and min(encoded[:2]) >= 1  # seen often enough: rows of their own
    assert encoded[2:].tolist() == [0, 0, 0]  # rare, unseen, empty: the reserved row
    cross = encoder.encode(probe)[:, -1] - manifest["columns"][-1]["offset"]
    assert cross[0] >= 1 and cross[2:].tolist() == [0, 0, 0]


def test_parse_crosses():
    assert len(features.parse_crosses("all")) == 45
    assert features.parse_crosses("none") == ()
    assert features.parse_crosses("placement*device, device*placement") == (("device", "placement"),)
    for bad in ("device", "device*nope", "device*device", "a*b*c"):
        with pytest.raises(ValueError, match="expected two different fields"):
            features.parse_crosses(bad)
