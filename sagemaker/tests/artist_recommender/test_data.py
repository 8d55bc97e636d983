import pytest

from artist_recommender.data import DataError, load_channel


def write(path, text):
    path.write_text(text)
    return path


GOOD = "user_id,item_id,weight,ts\nu1,a1,3,2024-01-01T00:00:00Z\nu1,a2,1.5,\nu2,a1,2,2024-02-03\n"


def test_loads_valid_channel_and_sums_duplicates(tmp_path):
    write(tmp_path / "interactions.csv", GOOD + "u1,a1,1,\n")
    write(tmp_path / "users.csv", "user_id,age_group,location\nu1,25-34,DE\nu2,,\n")
    data = load_channel(str(tmp_path))
    assert data.user_ids == ["u1", "u2"] and data.item_ids == ["a1", "a2"]
    assert sorted(data.weights.tolist()) == [1.5, 2.0, 4.0]
    assert data.user_features["u1"] == {"age_group": "25-34", "location": "DE"}
    assert data.skipped_rows == 0


@pytest.mark.parametrize(
    "bad_line, field",
    [
        ("u3,a1,-2,", "weight"),
        ("u3,a1,abc,", "weight"),
        ("u3,a1,inf,", "weight"),
        ("u3,a1,0,", "weight"),
        (",a1,1,", "user_id"),
        ("u3,,1,", "item_id"),
        ("u3,a1,1,yesterday", "ts"),
        ("u3", "item_id"),
    ],
)
def test_bad_row_names_file_line_and_field(tmp_path, bad_line, field):
    path = write(tmp_path / "interactions.csv", GOOD + bad_line + "\n")
    with pytest.raises(DataError) as info:
        load_channel(str(tmp_path))
    message = str(info.value)
    assert f"{path}:5" in message
    assert f"'{field}'" in message


def test_skip_bad_rows_counts_instead_of_failing(tmp_path):
    write(tmp_path / "interactions.csv", GOOD + "u3,a1,-2,\nu3,a3,1,\n,a1,1,\n")
    write(tmp_path / "users.csv", "user_id,age_group,location\nu1,a,b\nu1,c,d\n")
    data = load_channel(str(tmp_path), skip_bad_rows=True)
    assert data.skipped_rows == 3  # two interaction rows and one duplicate user row
    assert "u3" in data.user_ids and len(data.weights) == 4


def test_missing_header_column_and_missing_file(tmp_path):
    write(tmp_path / "interactions.csv", "user_id,item_id,ts\nu1,a1,\n")
    with pytest.raises(DataError, match=r"interactions.csv:1: field 'weight'"):
        load_channel(str(tmp_path))
    with pytest.raises(DataError, match="not found"):
        load_channel(str(tmp_path / "nowhere"))


def test_users_file_errors_name_line(tmp_path):
    write(tmp_path / "interactions.csv", GOOD)
    path = write(tmp_path / "users.csv", "user_id,age_group,location\nu1,a,b\n,x,y\n")
    with pytest.raises(DataError) as info:
        load_channel(str(tmp_path))
    assert f"{path}:3" in str(info.value) and "'user_id'" in str(info.value)
