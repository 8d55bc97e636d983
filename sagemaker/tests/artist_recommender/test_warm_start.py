"""Warm starts: a retrain starts from the champion's factors, mapped by id, and a bad champion
means a cold fit with a reason, never a failed job."""
import io
import json
import os
import tarfile

import pytest
import torch

import sagemaker_images as images
from artist_recommender import train_job, warm_start_bench
from artist_recommender.als import ALSParams, InitialFactors
from artist_recommender.checkpoint import CheckpointDir
from artist_recommender.data import build_interactions
from artist_recommender.model import ModelParams, checkpoint_key, feature_columns, fit_model
from artist_recommender.planted_replay import make_replay
from artist_recommender.synthetic import make_rows, write_channel
from artist_recommender.warm_start import ChampionError, initial_factors, load_champion, plan
from artist_recommender.warm_start_bench import evaluate_day

PARAMS = ModelParams(als=ALSParams(factors=8, iterations=6, reg=3.0))


@pytest.fixture(scope="module")
def rows_users():
    return make_rows(num_users=120, num_items=80, groups=4, per_user=12, seed=4)


@pytest.fixture(scope="module")
def champion_dir(tmp_path_factory, rows_users):
    """A champion trained on all but the last 20 users and the artists only they played."""
    rows, users = rows_users
    early = [r for r in rows if int(r[0][1:]) < 100]
    trained = fit_model(build_interactions(early, users), PARAMS)
    path = tmp_path_factory.mktemp("champion")
    trained.save(str(path), "champion-1", 0.1)
    return str(path)


def _tar(path, members: dict, links=()):
    """A model.tar.gz with `members` (name -> bytes) and symbolic links (name, target)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return str(path)


def _artefact(folder) -> dict:
    return {name: open(os.path.join(folder, name), "rb").read() for name in ("model.pt", "ids.json", "config.json")}


def test_factors_are_mapped_by_id_across_reordered_data(champion_dir, rows_users):
    rows, users = rows_users
    champion = load_champion(champion_dir)
    # Another export: other row order (so other indices), and the late users with their artists.
    data = build_interactions(list(reversed(rows)), users)
    assert data.user_ids != champion.user_ids[: data.num_users]
    init = initial_factors(champion, data)
    feature_ids, _, _ = feature_columns(data)
    for index, user in enumerate(data.user_ids):
        if user in champion.user_ids:
            assert torch.equal(init.initial.rows[index], champion.user_factors[champion.user_ids.index(user)])
    for index, item in enumerate(data.item_ids):
        expected = (champion.item_factors[champion.item_ids.index(item)] if item in champion.item_ids
                    else torch.zeros(champion.factors))
        assert torch.equal(init.initial.cols[index], expected)
    for index, feature in enumerate(feature_ids):
        assert torch.equal(init.initial.cols[data.num_items + index],
                           champion.feature_factors[champion.feature_ids.index(feature)])
    assert init.known_users == 100 and init.new_users == 20
    assert init.known_items == len(set(data.item_ids) & set(champion.item_ids))
    assert init.known_items + init.new_items == data.num_items


def test_new_users_start_from_the_champions_fold_in_of_their_side_features(champion_dir, rows_users):
    rows, users = rows_users
    champion = load_champion(champion_dir)
    users = {**users, "u100": {"age_group": "age0", "location": "loc0"},
             "u101": {"age_group": "age1", "location": "nowhere"}, "u102": {}}
    data = build_interactions(rows, users)
    init = initial_factors(champion, data).initial.rows
    at = {u: data.user_ids.index(u) for u in ("u100", "u101", "u102")}
    feature = champion.feature_ids.index
    # The vector serving gives a user it has never seen, from the features it knows.
    assert torch.allclose(init[at["u100"]], champion.scorer.fold_in([], [feature("age_group=age0"),
                                                                         feature("location=loc0")]), atol=1e-6)
    assert torch.allclose(init[at["u101"]], champion.scorer.fold_in([], [feature("age_group=age1")]), atol=1e-6)
    assert init[at["u100"]].norm() > 0 and not torch.equal(init[at["u100"]], init[at["u101"]])
    assert torch.equal(init[at["u102"]], torch.zeros(champion.factors))  # nothing known: left out


@pytest.mark.parametrize("case, reason", [
    ("other factors", "has 8 factors, this fit 16"),
    ("corrupt model.pt", "model.pt is unreadable"),
    ("format version", "format version 99"),
    ("tar with ..", "leaves the archive's folder"),
    ("tar with absolute path", "has an absolute path"),
    ("tar with a link", "is a link or a special file"),
    ("truncated tar", "model.tar.gz is unreadable"),
    ("empty folder", "holds neither"),
    ("no folder", "is not a folder"),
])
def test_an_unusable_champion_means_a_cold_fit_with_the_reason(tmp_path, champion_dir, case, reason):
    files = _artefact(champion_dir)
    folder = tmp_path / "champion"
    folder.mkdir()
    params, tuning = PARAMS, True
    if case == "other factors":
        params, tuning = ModelParams(als=ALSParams(factors=16)), False
        folder = champion_dir
    elif case == "corrupt model.pt":
        _tar(folder / "model.tar.gz", {**files, "model.pt": files["model.pt"][:300]})
    elif case == "format version":
        config = {**json.loads(files["config.json"]), "format_version": 99}
        for name, data in {**files, "config.json": json.dumps(config).encode()}.items():
            (folder / name).write_bytes(data)
    elif case == "tar with ..":
        _tar(folder / "model.tar.gz", {**files, "../../escape.txt": b"x"})
    elif case == "tar with absolute path":
        _tar(folder / "model.tar.gz", {**files, "/tmp/escape.txt": b"x"})
    elif case == "tar with a link":
        _tar(folder / "model.tar.gz", files, links=[("ids.json.bak", "/etc/passwd")])
    elif case == "truncated tar":
        full = _tar(tmp_path / "full.tar.gz", files)
        (folder / "model.tar.gz").write_bytes(open(full, "rb").read()[:2000])
    elif case == "no folder":
        folder = tmp_path / "absent"
    lines = []
    warm = plan(str(folder), True, params, 3, tuning, lines.append)
    assert not warm.used and reason in warm.reason, warm.reason
    assert lines == [f"warm start: not used, {warm.reason}; training cold"]
    assert warm.initial_for(build_interactions(make_rows(20, 20, per_user=5)[0])) is None
    assert not (tmp_path / "escape.txt").exists() and not os.path.exists("/tmp/escape.txt")
    report = warm.report()
    assert report["used"] is False and report["sweeps"] is None and report["reason"] == warm.reason


def test_a_champion_archive_is_read_whether_at_its_root_or_in_a_sub_folder(tmp_path, champion_dir):
    files = _artefact(champion_dir)
    (tmp_path / "root").mkdir()
    _tar(tmp_path / "root" / "model.tar.gz", files)
    (tmp_path / "nested" / "job-1" / "output").mkdir(parents=True)
    _tar(tmp_path / "nested" / "job-1" / "output" / "model.tar.gz",
         {f"./{name}": data for name, data in files.items()} | {"code/inference.py": b"# not the artefact"})
    for folder in ("root", "nested"):
        champion = load_champion(str(tmp_path / folder))
        assert champion.model_version == "champion-1" and champion.factors == 8
    (tmp_path / "nested" / "model.tar.gz").write_bytes(b"")
    with pytest.raises(ChampionError, match="2 model.tar.gz files"):
        load_champion(str(tmp_path / "nested"))


def test_with_tuning_off_a_warm_start_keeps_the_jobs_hyperparameters(champion_dir):
    mine = ModelParams(als=ALSParams(factors=8, reg=7.0, iterations=15), alpha=2.0)
    warm = plan(champion_dir, True, mine, 4, tuning=False)
    assert warm.used and warm.params.als.reg == 7.0 and warm.params.alpha == 2.0 and warm.params.als.iterations == 4
    warm = plan(champion_dir, True, mine, 4, tuning=True)
    assert warm.used and warm.params.als.reg == PARAMS.als.reg and warm.params.als.iterations == 4
    assert not plan(champion_dir, False, mine, 4, tuning=True).used
    assert "no champion channel" in plan(None, True, mine, 4, tuning=True).reason


@pytest.mark.parametrize("recorded, cold_every, used", [
    (None, 7, True), (5, 7, True), (6, 7, False), (0, 1, False), ("six", 7, True), (-3, 7, True),
])
def test_every_cold_every_th_retrain_in_a_row_trains_cold(tmp_path, champion_dir, recorded, cold_every, used):
    files = _artefact(champion_dir)
    config = json.loads(files["config.json"])
    if recorded is not None:
        config["validation_metrics"] = {"warm_start": {"warm_starts_since_cold": recorded}}
    folder = tmp_path / "champion"
    folder.mkdir()
    for name, data in {**files, "config.json": json.dumps(config).encode()}.items():
        (folder / name).write_bytes(data)
    warm = plan(str(folder), True, PARAMS, 3, tuning=True, cold_every=cold_every)
    # A count that is missing or not a count reads as 0: the champion is taken for a cold fit.
    counted = recorded if isinstance(recorded, int) and recorded >= 0 else 0
    assert warm.used is used
    assert warm.report()["warm_starts_since_cold"] == (counted + 1 if used else 0)
    if not used:
        assert warm.reason == (f"champion champion-1 is {counted} warm starts from its last cold fit and "
                               f"--cold-every is {cold_every}, tuning again")


def test_a_warm_fit_with_few_sweeps_matches_a_cold_fit_on_planted_data(tmp_path):
    replay = make_replay(days=3, num_users=900, num_items=250, seed=5)
    params = ModelParams(als=ALSParams(factors=32, iterations=15))
    previous = fit_model(build_interactions(replay.through(0), replay.users), params)
    previous.save(str(tmp_path), "day-0", -1.0)
    data = build_interactions(replay.through(1), replay.users)
    init = initial_factors(load_champion(str(tmp_path)), data)
    assert init.new_users > 50 and init.new_items > 5
    cold = evaluate_day(fit_model(data, params), replay.on(2))
    few = ModelParams(als=ALSParams(factors=32, iterations=3))
    warm = evaluate_day(fit_model(data, few, initial=init.initial), replay.on(2))
    random_start = evaluate_day(fit_model(data, few), replay.on(2))
    assert warm["ndcg_at_10"] >= cold["ndcg_at_10"] - 0.01, (warm, cold)
    # The champion's factors, not the sweeps alone, close the gap.
    assert warm["ndcg_at_10"] - random_start["ndcg_at_10"] > cold["ndcg_at_10"] - warm["ndcg_at_10"], random_start


def test_a_cold_checkpoint_is_never_resumed_as_a_warm_fit_nor_the_other_way(tmp_path, champion_dir, rows_users):
    rows, users = rows_users
    data = build_interactions(rows, users)
    initial = initial_factors(load_champion(champion_dir), data).initial
    cold_key, warm_key = checkpoint_key(data, PARAMS, "full"), checkpoint_key(data, PARAMS, "full", initial)
    assert cold_key["initial"] is None and warm_key["initial"] == initial.digest()
    other = InitialFactors(rows=initial.rows + 1e-3)
    assert checkpoint_key(data, PARAMS, "full", other)["initial"] != warm_key["initial"]
    lines = []
    fit_model(data, PARAMS, checkpoints=CheckpointDir(str(tmp_path), log=lines.append), stage="full")
    warm = fit_model(data, PARAMS, checkpoints=CheckpointDir(str(tmp_path), log=lines.append), stage="full",
                     initial=initial)
    assert "hyperparameters differ: initial" in lines[-1] and "starting from sweep 0" in lines[-1], lines[-1]
    assert torch.equal(warm.user_factors, fit_model(data, PARAMS, initial=initial).user_factors)
    fit_model(data, PARAMS, checkpoints=CheckpointDir(str(tmp_path), log=lines.append), stage="full",
              initial=initial)
    assert "after sweep 6/6" in lines[-1], lines[-1]
    fit_model(data, PARAMS, checkpoints=CheckpointDir(str(tmp_path), log=lines.append), stage="full")
    assert "hyperparameters differ: initial" in lines[-1], lines[-1]


def test_initial_factors_of_the_wrong_shape_are_refused(rows_users):
    data = build_interactions(*rows_users)
    with pytest.raises(ValueError, match="initial rows have shape"):
        fit_model(data, PARAMS, initial=InitialFactors(rows=torch.zeros(3, 8)))


def _job(tmp_path, name, channel, *extra):
    out = tmp_path / name
    argv = ["--train", channel, "--model-dir", str(out / "model"), "--output-data-dir", str(out / "data"),
            "--checkpoint-dir", "", "--factors", "8", "--iterations", "6", "--tune", "false", *extra]
    metrics = train_job.run(argv)
    with open(out / "data" / "metrics.json", encoding="utf-8") as handle:
        assert json.load(handle)["warm_start"] == metrics["warm_start"]
    return metrics, out


@pytest.fixture(scope="module")
def day_channels(tmp_path_factory, rows_users):
    rows, users = rows_users
    root = tmp_path_factory.mktemp("days")
    write_channel(str(root / "day-1"), [r for r in rows if int(r[0][1:]) < 100], users)
    write_channel(str(root / "day-2"), rows, users)
    return root


@pytest.mark.parametrize("form", ["folder", "model.tar.gz"])
def test_train_job_starts_warm_from_a_champion_channel(tmp_path, day_channels, form):
    first, out = _job(tmp_path, "day-1", str(day_channels / "day-1"))
    assert first["warm_start"] == {"used": False, "reason": "no champion channel", "champion": None,
                                   "known_users": 0, "new_users": 0, "known_items": 0, "new_items": 0,
                                   "sweeps": None, "warm_starts_since_cold": 0}
    champion = out / "model"
    if form == "model.tar.gz":
        champion = tmp_path / "champion-channel"
        champion.mkdir()
        images._tar_contents(str(out / "model"), str(champion / "model.tar.gz"))
    second, _ = _job(tmp_path, "day-2", str(day_channels / "day-2"), "--champion", str(champion),
                     "--warm-start-sweeps", "2")
    warm = second["warm_start"]
    assert warm["used"] and warm["champion"] == first["model_version"] and warm["sweeps"] == 2
    assert (warm["known_users"], warm["new_users"]) == (100, 20)
    assert warm["known_items"] + warm["new_items"] == second["num_items"]
    assert second["hyperparameters"]["warm_start_sweeps"] == 2 and "champion" not in second["hyperparameters"]
    assert warm["warm_starts_since_cold"] == 1
    # --cold-every 2: the warm refit's successor is the second retrain in a row, so it trains cold.
    third, _ = _job(tmp_path, "day-3", str(day_channels / "day-2"), "--champion", str(tmp_path / "day-2" / "model"),
                    "--cold-every", "2")
    assert third["warm_start"]["used"] is False and third["warm_start"]["warm_starts_since_cold"] == 0
    assert "is 1 warm starts from its last cold fit and --cold-every is 2" in third["warm_start"]["reason"]
    off, _ = _job(tmp_path, "day-2-cold", str(day_channels / "day-2"), "--champion", str(champion),
                  "--warm-start", "false")
    assert off["warm_start"]["used"] is False and off["warm_start"]["reason"] == "--warm-start false"
    assert off["model_version"] != second["model_version"]


def test_train_job_trains_cold_when_the_champion_is_corrupt(tmp_path, day_channels):
    folder = tmp_path / "champion"
    folder.mkdir()
    (folder / "model.tar.gz").write_bytes(b"not a tar")
    metrics, out = _job(tmp_path, "day-2", str(day_channels / "day-2"), "--champion", str(folder))
    assert metrics["warm_start"]["used"] is False and "model.tar.gz is unreadable" in metrics["warm_start"]["reason"]
    assert os.path.exists(out / "model" / "model.pt")


@pytest.mark.sagemaker_image
def test_champion_channel_through_the_training_images_toolkit(tmp_path, day_channels):
    """sagemaker-training hands a `champion` channel to train.py as SM_CHANNEL_CHAMPION: the previous
    job's model.tar.gz, as the pipeline passes the champion's S3 artefact, starts the fit warm."""
    python = images.image_python("training")
    design = images.design_model("artist-recommender")
    hyperparameters = {"factors": "8", "iterations": "4", "warm-start-sweeps": "2", "tune": "false",
                       "sagemaker_program": "train.py", "checkpoint-dir": ""}
    bundle = images.source_bundle("artist_recommender", design["entryPoint"], str(tmp_path))
    first = images.run_training_job(python, str(tmp_path / "job-1"), bundle=bundle,
                                    channels={"train": str(day_channels / "day-1")},
                                    hyperparameters=hyperparameters, job_name="artist-recommender-warm-1")
    assert first.returncode == 0, first.log[-4000:]
    assert first.metrics()["warm_start"]["used"] is False
    champion = tmp_path / "champion"
    champion.mkdir()
    first.model_tar_gz(str(champion))
    second = images.run_training_job(python, str(tmp_path / "job-2"), bundle=bundle,
                                     channels={"train": str(day_channels / "day-2"), "champion": str(champion)},
                                     hyperparameters=hyperparameters, job_name="artist-recommender-warm-2")
    assert second.returncode == 0, second.log[-4000:]
    warm = second.metrics()["warm_start"]
    assert warm["used"] and warm["champion"] == "artist-recommender-warm-1" and warm["sweeps"] == 2, warm
    assert "warm start: from champion artist-recommender-warm-1" in second.log


def test_replay_bench_reports_each_day_and_the_mean_ratios(capsys):
    assert warm_start_bench.main(["--days", "3", "--users", "150", "--items", "60", "--factors", "8",
                                  "--iterations", "4", "--warm-sweeps", "2", "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    days = report["days"]
    assert [d["day"] for d in days] == [0, 1, 2] and days[0]["warm"] is None
    assert all(d["warm"]["users"] == d["cold"]["users"] > 0 and d["new_users"] > 0 for d in days[1:])
    # Users arrive over time: each retrain knows more of them.
    assert days[0]["users"] < days[1]["users"] < days[2]["users"]
    summary = report["summary"]
    assert summary["mean_fit_time_ratio"] == pytest.approx(
        sum(d["warm_seconds"] / d["cold_seconds"] for d in days[1:]) / 2)
    assert summary["mean_ndcg_difference"] == pytest.approx(
        sum(d["warm"]["ndcg_at_10"] - d["cold"]["ndcg_at_10"] for d in days[1:]) / 2)


@pytest.mark.parametrize("argv, message", [
    (["--days", "1"], "--days must be at least 2"),
    (["--warm-sweeps", "0"], "--warm-sweeps must be at least 1"),
    (["--factor", "8"], "--factor"),
])
def test_replay_bench_names_a_bad_flag(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        warm_start_bench.main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err
