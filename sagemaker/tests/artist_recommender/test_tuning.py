"""The hyperparameter search (tuning.py): inner split, determinism, budget, and its place in the job."""
import json
import math
import time
from dataclasses import replace

import numpy as np
import pytest

from artist_recommender import train_job, tuning
from artist_recommender.als import ALSParams
from artist_recommender.data import build_interactions, load_channel
from artist_recommender.evaluation import evaluate
from artist_recommender.model import ModelParams, _digest, fit_model
from artist_recommender.split import per_user_split
from artist_recommender.synthetic import make_rows

SMALL = ModelParams(als=ALSParams(factors=8, reg=5.0, iterations=4))


@pytest.fixture(scope="module")
def small_data():
    rows, users = make_rows(num_users=120, num_items=80, groups=4, per_user=15, seed=3)
    return build_interactions(rows, users, timestamps=[1_700_000_000.0 + 60 * n for n in range(len(rows))])


def _rows_with_times():
    """Two users with 10 pairs each, dated out of row order; one user with 3 pairs."""
    rows, times = [], []
    for user, offset in (("u1", 0), ("u2", 5)):
        for n in range(10):
            rows.append((user, f"a{n}", 1.0))
            times.append(1_000.0 + ((n * 7 + offset) % 10))
    rows += [("u3", "a1", 1.0), ("u3", "a2", 1.0), ("u3", "a3", 1.0)]
    times += [5.0, 6.0, 7.0]
    return rows, times


def test_channel_ts_becomes_each_pairs_latest_time_and_stays_out_of_the_digest(tmp_path):
    (tmp_path / "interactions.csv").write_text(
        "user_id,item_id,weight,ts\n"
        "u1,a1,1,2024-01-01T00:00:00Z\n"
        "u1,a1,2,2024-01-03T00:00:00+00:00\n"
        "u1,a2,1,\n"
        "u2,a1,1,2024-01-02T00:00:00\n")
    data = load_channel(str(tmp_path))
    assert data.last_ts[0] == pytest.approx(1704240000.0)  # the later of u1's two a1 rows
    assert math.isnan(data.last_ts[1])
    assert data.last_ts[2] == pytest.approx(1704153600.0)  # no offset: UTC
    assert data.weights.tolist() == [3.0, 1.0, 1.0]
    # The fit reads no timestamp, so the data digest (checkpoint keys, model versions) ignores them.
    undated = build_interactions([("u1", "a1", 1.0), ("u1", "a1", 2.0), ("u1", "a2", 1.0), ("u2", "a1", 1.0)])
    assert np.isnan(undated.last_ts).all()
    assert _digest(data, {}) == _digest(undated, {})
    assert data.last_ts_of([("u2", "a1", 9.0), ("u9", "a1", 1.0)])[0] == pytest.approx(1704153600.0)


def test_inner_split_holds_out_each_users_latest_pairs_when_dated():
    rows, times = _rows_with_times()
    inner, held_out, how = tuning.inner_split(build_interactions(rows, timestamps=times))
    assert how.startswith("temporal")
    by_user = {}
    for user, item, _ in held_out:
        by_user.setdefault(user, set()).add(item)
    latest = {}
    for (user, item, _), when in zip(rows, times):
        latest.setdefault(user, []).append((when, item))
    for user in ("u1", "u2"):
        assert by_user[user] == {item for _, item in sorted(latest[user])[-2:]}  # 20% of 10
    assert "u3" not in by_user  # fewer than 5 pairs: all in the inner train
    assert len(inner.weights) == len(rows) - 4
    # The inner train keeps its timestamps.
    assert np.isfinite(inner.last_ts).all()


def test_inner_split_falls_back_to_the_seed_43_per_user_holdout_without_timestamps():
    rows, _ = _rows_with_times()
    inner, held_out, how = tuning.inner_split(build_interactions(rows))
    assert how.startswith("per-user holdout, seed 43")
    assert held_out == per_user_split(rows, 43)[1]
    assert len(inner.weights) == len(rows) - len(held_out)


def test_the_search_is_deterministic_for_a_seed_and_starts_with_the_defaults(small_data):
    first = tuning.tune(small_data, SMALL, budget_seconds=600, seed=5, max_configs=9)
    second = tuning.tune(small_data, SMALL, budget_seconds=600, seed=5, max_configs=9)
    assert first.stopped_by == "max_configs"
    strip = [{k: v for k, v in t.items() if k != "seconds"} for t in first.trials]
    assert strip == [{k: v for k, v in t.items() if k != "seconds"} for t in second.trials]
    assert first.best_values == second.best_values
    # Rung 0 opens with the defaults; they always reach the full sweep count.
    assert first.trials[0]["config"] == 0 and first.trials[0]["rung"] == 0 and first.trials[0]["defaults"]
    assert first.trials[0]["params"] == tuning.values_of(SMALL, tuning.load_space())
    assert [t["sweeps"] for t in first.trials if t["config"] == 0] == [1, 2, 4]
    # Then the textbook-iALS anchor (clipped into the space), which also reaches the full count.
    anchor = first.trials[1]
    assert anchor["config"] == 1 and anchor["anchor"] and not anchor["defaults"]
    assert anchor["params"] == {**first.trials[0]["params"], "factors": 64, "reg": 30.0, "unobserved_weight": 1.0,
                                "alpha": 1.0, "norm_exponent": 0.0, "neighbour_weight": 0.0}
    assert [t["sweeps"] for t in first.trials if t["config"] == 1] == [1, 2, 4]
    assert not any(t["anchor"] for t in first.trials if t["config"] > 1)
    assert {t["config"] for t in first.trials if t["rung"] == 0} == set(range(9))
    rung1 = {t["config"] for t in first.trials if t["rung"] == 1}
    best_third = sorted((t for t in first.trials if t["rung"] == 0), key=lambda t: (-t["ndcg_at_10"], t["config"]))[:3]
    assert rung1 == {t["config"] for t in best_third} | {0, 1}
    assert first.best_ndcg >= first.defaults_ndcg
    # Then the polish: one coordinate step at a time from the halving's winner, at the full count;
    # the factor count only steps down.
    halving = [t for t in first.trials if t["stage"] == "halving" and t["sweeps"] == SMALL.als.iterations]
    winner = max(halving, key=lambda t: (t["ndcg_at_10"], -t["config"]))
    polish = [t for t in first.trials if t["stage"] == "polish"]
    assert polish and all(t["sweeps"] == SMALL.als.iterations and t["bracket"] is None for t in polish)
    incumbent = winner["params"]
    changed = [k for k in incumbent if polish[0]["params"][k] != incumbent[k]]
    assert changed == ["factors"] and polish[0]["params"]["factors"] < incumbent["factors"]
    other = tuning.tune(small_data, SMALL, budget_seconds=600, seed=6, max_configs=9)
    assert other.trials[2]["params"] != first.trials[2]["params"]  # another seed, another sample


def test_a_tiny_budget_cuts_the_exploration_but_not_the_defaults_and_the_anchor(small_data):
    # The budget would stop everything after the first trial; the pinned configurations run on to
    # the full count, so the winner cannot depend on the machine's load.
    began = time.perf_counter()
    result = tuning.tune(small_data, SMALL, budget_seconds=0.001, seed=0)
    elapsed = time.perf_counter() - began
    anchor = tuning.anchored(result.defaults, tuning.ANCHORS[0], tuning.load_space())
    assert {t["config"] for t in result.trials} == {0, 1}
    assert {t["config"] for t in result.trials if t["sweeps"] == SMALL.als.iterations} == {0, 1}
    assert result.stopped_by == "budget"
    finals = {t["config"]: t["ndcg_at_10"] for t in result.trials if t["sweeps"] == SMALL.als.iterations}
    assert result.best_values == (result.defaults if finals[0] >= finals[1] else anchor)
    assert elapsed < 60


def _cluster_rows():
    """20 taste clusters of 15 artists; each user plays 9 of their cluster's and one at random."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(300):
        own = rng.choice(15, size=9, replace=False) + 15 * (u % 20)
        rows += [(f"u{u}", f"a{i}", 1.0) for i in [*own.tolist(), int(rng.integers(300))]]
    return rows


def test_the_search_beats_defaults_that_are_clearly_wrong_for_the_data():
    # No side features; one latent factor cannot tell the clusters apart, a dozen can.
    rows = _cluster_rows()
    bad = ModelParams(als=ALSParams(factors=1, reg=1.0, iterations=4), neighbour_weight=0.0)
    space = [tuning.Parameter("factors", "integer", 1, 32, "log")]
    result = tuning.tune(build_interactions(rows), bad, budget_seconds=600, seed=0, max_configs=9, space=space)
    assert result.best_values["factors"] > 4
    assert result.best_ndcg > result.defaults_ndcg + 0.2
    assert result.best.als.factors == result.best_values["factors"] and result.best.als.iterations == 4


@pytest.mark.parametrize("name, bad, step, taken", [
    # lambda 300 smooths the clusters away; 200 is far better (0.41 -> 0.47 inner NDCG@10).
    ("reg", 300.0, 200.0, True),
    # w0 0.05 -> 0.075 moves NDCG@10 by 0.0005, inside the per-user noise: not taken.
    ("unobserved_weight", 0.05, 0.075, False),
])
def test_the_polish_takes_a_step_only_when_it_clearly_beats_the_winner(name, bad, step, taken):
    base = ModelParams(als=replace(ALSParams(factors=16, reg=3.0, iterations=4), **{name: bad}), neighbour_weight=0.0)
    space = [tuning.Parameter(name, "continuous", 0.05, 300.0, "log")]
    # One configuration enters (the defaults); the polish then tries one step each way.
    result = tuning.tune(build_interactions(_cluster_rows()), base, budget_seconds=600, seed=0, max_configs=1,
                         space=space)
    polish = [t for t in result.trials if t["stage"] == "polish"]
    assert polish[0]["params"] == {name: pytest.approx(step)}
    assert result.best_values == ({name: pytest.approx(step)} if taken else {name: bad})
    if taken:
        assert len(polish) == 1 and result.best_ndcg == polish[0]["ndcg_at_10"] > result.defaults_ndcg
    else:
        assert result.best_ndcg == result.defaults_ndcg


def test_the_polish_skips_side_feature_settings_on_data_without_side_features(small_data):
    def stepped(result) -> set:
        # Each taken step changes one name, so a name differs from the defaults only if it was stepped.
        return {k for t in result.trials if t["stage"] == "polish" for k in result.defaults
                if t["params"][k] != result.defaults[k]}

    features = {"feature_confidence", "segment_prior_strength"}
    with_features = tuning.tune(small_data, SMALL, budget_seconds=600, seed=0, max_configs=1)
    assert features <= stepped(with_features)
    plain = tuning.tune(build_interactions(_cluster_rows()), SMALL, budget_seconds=600, seed=0, max_configs=1)
    assert not features & stepped(plain) and "reg" in stepped(plain)


def test_the_polish_is_cut_by_the_budget_and_skipped_without_two_validation_users(small_data):
    # The pinned configurations run whatever the budget; the polish's first step would pass it, so none runs.
    cut = tuning.tune(small_data, SMALL, budget_seconds=0.001, seed=0, max_configs=1)
    assert cut.stopped_by == "budget" and not [t for t in cut.trials if t["stage"] == "polish"]
    one_user = build_interactions([("u1", f"a{n}", 1.0) for n in range(10)] + [("u2", "a1", 1.0)])
    alone = tuning.tune(one_user, SMALL, budget_seconds=600, seed=0, max_configs=1)
    assert not [t for t in alone.trials if t["stage"] == "polish"]


def test_coordinate_steps_and_the_two_standard_error_bar():
    log = tuning.Parameter("reg", "continuous", 3.0, 300.0, "log")
    assert tuning.coordinate_steps(log, 30.0) == [20.0, 45.0]
    assert tuning.coordinate_steps(log, 300.0) == [200.0]  # the step up is clipped back onto the value
    linear = tuning.Parameter("norm_exponent", "continuous", 0.0, 0.6, "linear")
    assert tuning.coordinate_steps(linear, 0.0) == [pytest.approx(0.1)]
    integer = tuning.Parameter("factors", "integer", 16, 256, "log")
    assert tuning.coordinate_steps(integer, 64) == [43, 96] and tuning.coordinate_steps(integer, 17) == [16, 26]
    categorical = tuning.Parameter("kind", "categorical", values=["a", "b", "c"])
    assert tuning.coordinate_steps(categorical, "a") == ["b"]
    base = np.full(400, 0.3)
    noise = np.random.default_rng(0).normal(0.0, 0.2, 400)
    assert tuning.clearly_better(base + 0.05 + noise, base)  # SE of the difference: 0.01
    assert not tuning.clearly_better(base + 0.015 + noise, base)  # 1.5 SE: inside the 2-SE bar
    assert not tuning.clearly_better(base, base) and not tuning.clearly_better(base[:1] + 1, base[:1])


def test_search_space_names_train_job_hyperparameters_with_sane_ranges():
    with open(tuning.SPACE_PATH, encoding="utf-8") as handle:
        spec = json.load(handle)
    assert spec["objective"] == {"metric": "ndcg_at_10", "direction": "maximize"}
    parser = train_job.build_parser()
    defaults = vars(parser.parse_args([]))
    dests = {action.dest for action in parser._actions}
    for p in tuning.load_space():
        assert p.name in dests and p.name not in train_job.NOT_HYPERPARAMETERS, p.name
        if p.type == "categorical":
            assert defaults[p.name] in p.values
            continue
        assert p.type in ("continuous", "integer") and p.scale in ("log", "linear")
        assert p.min < p.max and (p.scale == "linear" or p.min > 0)
        assert p.min <= defaults[p.name] <= p.max, p.name  # the defaults are a point of the space
        assert p.value(0.0) == pytest.approx(p.min) and p.min <= p.value(0.999) <= p.max
    assert defaults["tune"] is True and defaults["tune_budget_seconds"] > 0


def _job(tmp_path, name, channel, *extra):
    out = tmp_path / name
    metrics = train_job.run(["--train", channel, "--model-dir", str(out / "model"), "--output-data-dir",
                             str(out / "out"), "--checkpoint-dir", str(tmp_path / f"{name}-checkpoints"),
                             "--factors", "8", "--iterations", "3", "--reg", "5", *extra])
    return metrics, out


def test_the_job_records_the_search_and_trains_the_winner(tmp_path, channel, monkeypatch, capsys):
    monkeypatch.delenv("TRAINING_JOB_NAME", raising=False)
    metrics, out = _job(tmp_path, "tuned", channel, "--tune-max-configs", "4")
    search = metrics["tuning"]
    assert search["stopped_by"] == "max_configs" and search["configs"] == 4
    assert search["split"].startswith("temporal")  # the synthetic channel has a ts column
    for trial in search["trials"]:
        assert {"config", "rung", "sweeps", "params", "ndcg_at_10", "seconds"} <= set(trial)
    for name, value in search["best"].items():
        assert metrics["hyperparameters"][name] == value
    with open(out / "out" / "metrics.json") as handle:
        assert json.load(handle)["tuning"]["trials"] == search["trials"]
    with open(out / "model" / "config.json") as handle:
        config = json.load(handle)
    assert config["factors"] == search["best"]["factors"] and config["reg"] == search["best"]["reg"]
    untuned, _ = _job(tmp_path, "untuned", channel, "--tune", "false")
    if search["best"] != search["defaults"]:
        assert metrics["model_version"] != untuned["model_version"]
    # A restarted job takes the saved search instead of searching again, and ends the same.
    saved = tmp_path / "tuned-checkpoints" / tuning.SAVED_SEARCH
    assert saved.exists()
    capsys.readouterr()
    again, again_out = _job(tmp_path, "tuned", channel, "--tune-max-configs", "4")
    assert "tuning: resuming with the search saved in" in capsys.readouterr().out
    assert {k: v for k, v in again.items() if k != "fit_seconds"} == {k: v for k, v in metrics.items()
                                                                      if k != "fit_seconds"}
    recommendations = "out/recommendations.jsonl"
    assert (again_out / recommendations).read_text() == (out / recommendations).read_text()


def test_a_tiny_job_budget_still_ends_with_the_pinned_configurations_refitted(tmp_path, channel):
    metrics, _ = _job(tmp_path, "tiny", channel, "--tune-budget-seconds", "0.001")
    assert {t["config"] for t in metrics["tuning"]["trials"]} == {0, 1}  # the defaults and the anchor
    assert metrics["tuning"]["stopped_by"] == "budget"
    assert metrics["num_interactions"] == 6000  # the refit on all of train


def test_tune_false_is_the_untuned_path(tmp_path, channel, monkeypatch):
    monkeypatch.delenv("TRAINING_JOB_NAME", raising=False)
    metrics, _ = _job(tmp_path, "plain", channel, "--tune", "false")
    assert "tuning" not in metrics
    assert not {"tune", "tune_budget_seconds", "tune_max_configs"} & set(metrics["hyperparameters"])
    # The same holdout fit by hand, with the given hyperparameters.
    data = load_channel(channel)
    train_rows, val_rows = per_user_split(data.triples(), 43)
    params = tuning.with_values(ModelParams(), {"factors": 8, "reg": 5.0}, iterations=3)
    report = evaluate(fit_model(build_interactions(train_rows, data.user_features), params), val_rows)
    assert metrics["ndcg_at_10"] == pytest.approx(report["model"]["ndcg_at_10"], abs=1e-9)
    assert metrics["threshold"] == pytest.approx(report["threshold"], abs=1e-6)
