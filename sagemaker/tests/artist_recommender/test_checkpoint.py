"""Spot-training checkpoints: a reclaimed job resumes after its last sweep with the same result."""
import json
import os
import subprocess
import sys

import pytest
import torch

from helpers import SOURCE_DIR, child_env
from artist_recommender import als, train_job
from artist_recommender.als import ALSParams
from artist_recommender.checkpoint import CheckpointDir
from artist_recommender.data import build_interactions
from artist_recommender.model import ModelParams, fit_model
from artist_recommender.synthetic import make_rows

PARAMS = ModelParams(als=ALSParams(factors=8, iterations=5, reg=3.0, reg_exponent=0.2))


class Reclaimed(Exception):
    """Stands in for the spot instance going away in the middle of a sweep."""


@pytest.fixture(scope="module")
def small():
    rows, users = make_rows(num_users=80, num_items=60, groups=4, per_user=10, seed=5)
    return build_interactions(rows, users)


@pytest.fixture
def solves(monkeypatch):
    """Counts half-sweep solves; `crash_at` makes the n-th one raise Reclaimed."""
    state = {"calls": 0, "crash_at": None}

    def counting(real):
        def solve(*args, **kwargs):
            state["calls"] += 1
            if state["crash_at"] is not None and state["calls"] == state["crash_at"]:
                raise Reclaimed(f"reclaimed during solve {state['calls']}")
            return real(*args, **kwargs)

        return solve

    for solver in ("solve_rows", "solve_rows_cg"):  # the exact and the conjugate-gradient solver
        monkeypatch.setattr(als, solver, counting(getattr(als, solver)))
    return state


def _folder(path, lines):
    return CheckpointDir(str(path), writer=True, log=lines.append)


def _factors(trained):
    return torch.cat([trained.user_factors, trained.item_factors, trained.feature_factors])


def test_fit_interrupted_mid_sweep_resumes_to_the_uninterrupted_factors(tmp_path, small, solves):
    torch.manual_seed(11)
    reference = fit_model(small, PARAMS)
    after_reference = torch.rand(4)
    assert solves["calls"] == 10

    lines = []
    torch.manual_seed(11)
    solves.update(calls=0, crash_at=6)  # the column half of sweep 3: sweeps 1 and 2 are saved
    with pytest.raises(Reclaimed):
        fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert os.listdir(tmp_path) == ["als-fit.pt"]

    torch.manual_seed(999)  # the restored RNG state, not this one, must carry on
    solves.update(calls=0, crash_at=None)
    resumed = fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 6  # sweeps 3, 4, 5 only
    assert any("resuming from" in line and "after sweep 2/5" in line for line in lines), lines
    assert torch.allclose(_factors(resumed), _factors(reference), rtol=0, atol=1e-6)
    assert len(resumed.seconds_per_iteration) == 5
    assert torch.equal(torch.rand(4), after_reference)


def test_a_longer_run_continues_a_shorter_one(tmp_path, small, solves):
    reference = fit_model(small, PARAMS)
    lines = []
    short = ModelParams(als=ALSParams(factors=8, iterations=2, reg=3.0, reg_exponent=0.2))
    fit_model(small, short, checkpoints=_folder(tmp_path, lines))
    solves["calls"] = 0
    longer = fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 6
    assert torch.allclose(_factors(longer), _factors(reference), rtol=0, atol=1e-6)
    # A checkpoint beyond this run's sweep count is not a state this run passes through.
    solves["calls"] = 0
    fit_model(small, short, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 4 and "it holds sweep 5, this run has 2 sweeps" in lines[-1]


@pytest.mark.parametrize("change", ["data", "hyperparameters"])
def test_a_checkpoint_of_other_data_or_hyperparameters_is_ignored(tmp_path, small, solves, change):
    lines = []
    fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    if change == "data":
        rows, users = make_rows(num_users=80, num_items=60, groups=4, per_user=10, seed=6)
        data, params, reason = build_interactions(rows, users), PARAMS, "trained on other input data"
    else:
        data, reason = small, "hyperparameters differ: params.als.reg (3.0 in checkpoint, 4.0 now)"
        params = ModelParams(als=ALSParams(factors=8, iterations=5, reg=4.0, reg_exponent=0.2))
    solves["calls"] = 0
    trained = fit_model(data, params, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 10, "started from sweep 0"
    assert reason in lines[-1] and "starting from sweep 0" in lines[-1], lines[-1]
    fresh = fit_model(data, params)
    assert torch.equal(_factors(trained), _factors(fresh))


def _flip_a_factor_byte(path, tensor):
    raw = bytearray(open(path, "rb").read())
    at = raw.find(tensor.numpy().tobytes()[:64])
    assert at > 0
    raw[at + 3] ^= 0x40
    open(path, "wb").write(bytes(raw))


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "flipped"])
def test_a_corrupt_checkpoint_is_ignored_and_training_starts_from_scratch(tmp_path, small, solves, damage):
    lines = []
    path = tmp_path / "als-fit.pt"
    short = ModelParams(als=ALSParams(factors=8, iterations=3, reg=3.0, reg_exponent=0.2))
    first = fit_model(small, short, checkpoints=_folder(tmp_path, lines))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    else:
        _flip_a_factor_byte(path, first.user_factors)
    solves["calls"] = 0
    trained = fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 10
    expected = "checksum mismatch" if damage == "flipped" else "unreadable"
    assert f"ignoring {path}: " in lines[-1] and expected in lines[-1], lines[-1]
    assert lines[-1].endswith("starting from sweep 0")
    assert torch.equal(_factors(trained), _factors(fit_model(small, PARAMS)))
    # The ignored file is replaced by a good checkpoint of this run.
    solves["calls"] = 0
    fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert solves["calls"] == 0 and "after sweep 5/5" in lines[-1]


def test_partial_writes_are_swept_and_an_unusable_folder_does_not_stop_training(tmp_path, small):
    lines = []
    (tmp_path / ".als-fit.abc123.tmp").write_bytes(b"half a checkpoint")
    fit_model(small, PARAMS, checkpoints=_folder(tmp_path, lines))
    assert sorted(os.listdir(tmp_path)) == ["als-fit.pt"]
    (tmp_path / "a-file").write_text("")
    blocked = _folder(tmp_path / "a-file" / "checkpoints", lines)
    assert "cannot use" in lines[-1] and "without checkpoints" in lines[-1]
    trained = fit_model(small, PARAMS, checkpoints=blocked)
    assert torch.equal(_factors(trained), _factors(fit_model(small, PARAMS)))


def _job(tmp_path, name, channel, checkpoint_dir, iterations="4"):
    out = tmp_path / name
    metrics = train_job.run(["--train", channel, "--model-dir", str(out / "model"), "--output-data-dir",
                             str(out / "out"), "--checkpoint-dir", str(checkpoint_dir), "--factors", "8",
                             "--iterations", iterations, "--reg", "5", "--tune", "false"])
    return metrics, out


def _same_outputs(a, b):
    ma, mb = ({k: v for k, v in m.items() if k != "fit_seconds"} for m in (a[0], b[0]))
    assert ma == mb
    for name in ("recommendations.jsonl", "popularity.json"):
        assert (a[1] / "out" / name).read_text() == (b[1] / "out" / name).read_text(), name
    ta, tb = (torch.load(m[1] / "model" / "model.pt") for m in (a, b))
    for key in ta:
        assert torch.allclose(ta[key].double(), tb[key].double(), rtol=0, atol=1e-6), key


def test_job_reclaimed_during_the_refit_resumes_to_the_uninterrupted_outputs(tmp_path, channel, solves, capsys,
                                                                              monkeypatch):
    monkeypatch.setenv("TRAINING_JOB_NAME", "spot-job")
    reference = _job(tmp_path, "reference", channel, tmp_path / "reference-checkpoints")
    assert solves["calls"] == 16  # 4 holdout sweeps + 4 refit sweeps
    solves.update(calls=0, crash_at=13)  # row half of refit sweep 3
    with pytest.raises(Reclaimed):
        _job(tmp_path, "reclaimed", channel, tmp_path / "spot-checkpoints")
    capsys.readouterr()
    solves.update(calls=0, crash_at=None)
    resumed = _job(tmp_path, "resumed", channel, tmp_path / "spot-checkpoints")
    log = capsys.readouterr().out
    assert solves["calls"] == 4  # refit sweeps 3 and 4
    assert "checkpoint [holdout]: resuming from" in log and "after sweep 4/4" in log
    assert "checkpoint [full]: resuming from" in log and "after sweep 2/4" in log
    _same_outputs(reference, resumed)


def test_checkpoint_dir_defaults_to_sagemakers_local_path(monkeypatch):
    monkeypatch.delenv("SM_CHECKPOINT_DIR", raising=False)
    assert train_job.build_parser().parse_args([]).checkpoint_dir == "/opt/ml/checkpoints"
    monkeypatch.setenv("SM_CHECKPOINT_DIR", "/elsewhere")
    assert train_job.build_parser().parse_args([]).checkpoint_dir == "/elsewhere"


def test_local_train_writes_checkpoints_like_a_sagemaker_job(trained_job):
    assert sorted(os.listdir(trained_job["work"] / "checkpoints")) == ["als-full.pt", "als-holdout.pt"]


def _entry_point(tmp_path, name, channel, checkpoints):
    env = child_env(SM_CHANNEL_TRAIN=channel, SM_MODEL_DIR=str(tmp_path / name / "model"),
                    SM_OUTPUT_DATA_DIR=str(tmp_path / name / "out"), SM_CHECKPOINT_DIR=str(checkpoints),
                    SM_HOSTS='["algo-1"]', SM_CURRENT_HOST="algo-1", TRAINING_JOB_NAME="entry",
                    OMP_NUM_THREADS="1")
    # As SageMaker runs it: the entry point with the packages beside it in the working directory.
    entry_point = os.path.join(SOURCE_DIR, "artist_recommender", "train.py")
    done = subprocess.run([sys.executable, entry_point, "--factors", "8", "--iterations", "3", "--tune", "false"], cwd=SOURCE_DIR,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with open(tmp_path / name / "out" / "metrics.json") as handle:
        return json.load(handle), done.stdout


def test_script_mode_entry_point_writes_and_resumes_from_the_checkpoint_dir(tmp_path, channel):
    checkpoints = tmp_path / "opt-ml-checkpoints"
    first, _ = _entry_point(tmp_path, "first", channel, checkpoints)
    assert sorted(os.listdir(checkpoints)) == ["als-full.pt", "als-holdout.pt"]
    saved = torch.load(checkpoints / "als-full.pt", weights_only=True)
    meta = json.loads(saved["meta"])
    assert meta["sweep"] == 3 and meta["key"]["params"]["als"]["factors"] == 8
    assert saved["tensors"]["row_factors"].shape == (300, 8)
    # The restarted job finds every sweep done and writes the same outputs.
    again, log = _entry_point(tmp_path, "again", channel, checkpoints)
    assert "checkpoint [full]: resuming from" in log and "after sweep 3/3" in log
    assert {k: v for k, v in again.items() if k != "fit_seconds"} == \
        {k: v for k, v in first.items() if k != "fit_seconds"}


def _distributed_data():
    rows, users = make_rows(num_users=80, num_items=60, groups=4, per_user=10, seed=5)
    return build_interactions(rows, users)


def _sweeps(n):
    return ModelParams(als=ALSParams(factors=8, iterations=n, reg=3.0, reg_exponent=0.2))


def _rank_worker(rank, world_size, store, root):
    import shutil

    import torch.distributed as dist

    from common.distributed import current_context

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    try:
        ctx, data, lines = current_context(), _distributed_data(), []
        # One folder per rank, as on one host each: SageMaker syncs every host's local path.
        mine = os.path.join(root, f"host{rank}")

        def fit(n):
            folder = CheckpointDir(mine, writer=ctx.is_main, log=lines.append)
            return fit_model(data, _sweeps(n), "cpu", ctx, checkpoints=folder)

        fit(2)
        dist.barrier()
        written = sorted(os.listdir(mine)) if os.path.isdir(mine) else []
        disagreed = fit(4)  # only rank 0 holds a checkpoint
        dist.barrier()
        if rank == 1:  # a restarted job finds the S3 checkpoints restored on every host
            os.makedirs(mine)
            shutil.copy(os.path.join(root, "host0", "als-fit.pt"), mine)
        dist.barrier()
        resumed = fit(6)
        torch.save({"written": written, "lines": lines, "disagreed": _factors(disagreed),
                    "resumed": _factors(resumed)}, os.path.join(root, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_under_torchrun_rank_0_writes_and_all_ranks_resume_only_together(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_rank_worker, args=(2, str(tmp_path / "store"), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert ranks[0]["written"] == ["als-fit.pt"] and ranks[1]["written"] == []
    for r, result in enumerate(ranks):
        assert any("ranks hold different checkpoints (sweeps [2, 0])" in line for line in result["lines"]), r
        assert "after sweep 4/6" in result["lines"][-1], result["lines"][-1]
        assert result["lines"][-1].startswith(f"rank {r}: checkpoint [fit]: resuming from")
    single4, single6 = (_factors(fit_model(_distributed_data(), _sweeps(n))) for n in (4, 6))
    for result in ranks:
        assert torch.allclose(result["disagreed"], single4, rtol=1e-4, atol=1e-5)
        assert torch.allclose(result["resumed"], single6, rtol=1e-4, atol=1e-5)
