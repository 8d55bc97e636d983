import json

import pytest

from common.cli import DataError
from common.monitoring_baseline import BASELINE_DIR, BASELINE_FILE, sample_rows, write_baseline_sample

FIELDS = ("device", "hour_of_day")


def rows(n):
    return [{"device": f"d{i % 3}", "hour_of_day": i % 24, "label": i % 2} for i in range(n)]


def test_keeps_every_row_in_order_when_there_are_fewer_than_the_cap():
    sample = sample_rows(rows(5), FIELDS, max_rows=10)
    assert sample == [{"device": f"d{i % 3}", "hour_of_day": str(i % 24)} for i in range(5)]


def test_caps_the_sample_keeps_input_order_and_repeats_with_the_seed():
    source = [{"device": "d", "hour_of_day": i} for i in range(10_000)]
    sample = sample_rows(source, FIELDS, max_rows=500, seed=3)
    positions = [int(record["hour_of_day"]) for record in sample]
    assert len(sample) == 500 and positions == sorted(positions) and len(set(positions)) == 500
    assert sample == sample_rows(source, FIELDS, max_rows=500, seed=3)
    assert sample != sample_rows(source, FIELDS, max_rows=500, seed=4)
    # Uniform over the whole input, not its head: late rows are as likely as early ones.
    assert 150 < sum(1 for p in positions if p >= 5_000) < 350


def test_values_become_strings_and_a_missing_value_an_empty_one():
    assert sample_rows([{"device": None, "hour_of_day": 7}], FIELDS) == [{"device": "", "hour_of_day": "7"}]


def test_rejects_a_cap_below_one():
    with pytest.raises(ValueError, match="max_rows"):
        sample_rows(rows(3), FIELDS, max_rows=0)


def test_writes_json_lines_of_the_monitored_fields_only(tmp_path):
    channel = tmp_path / "data.csv"
    channel.write_text("label,device,hour_of_day,user_id\n1,mobile,13,u1\n0,desktop,,u2\n")
    path = write_baseline_sample(str(channel), FIELDS, str(tmp_path / "out"))
    assert path == str(tmp_path / "out" / BASELINE_DIR / BASELINE_FILE)
    with open(path) as handle:
        lines = [json.loads(line) for line in handle]
    assert lines == [{"device": "mobile", "hour_of_day": "13"}, {"device": "desktop", "hour_of_day": ""}]


def test_a_channel_without_a_monitored_field_is_a_data_error_naming_it(tmp_path):
    channel = tmp_path / "data.csv"
    channel.write_text("label,device\n1,mobile\n")
    with pytest.raises(DataError, match="hour_of_day"):
        write_baseline_sample(str(channel), FIELDS, str(tmp_path / "out"))


def test_an_empty_channel_is_a_data_error(tmp_path):
    channel = tmp_path / "data.csv"
    channel.write_text("label,device,hour_of_day\n")
    with pytest.raises(DataError, match="no rows"):
        write_baseline_sample(str(channel), FIELDS, str(tmp_path / "out"))
