import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from artist_recommender.als import ALSParams
from common.distributed import current_context
from artist_recommender.model import ModelParams, fit_model
from artist_recommender.synthetic import make_rows
from artist_recommender.data import build_interactions

PARAMS = ModelParams(als=ALSParams(factors=12, iterations=4, reg=3.0, reg_exponent=0.2), feature_confidence=2.0)


def _data():
    rows, users = make_rows(num_users=120, num_items=90, groups=4, per_user=15, seed=3)
    return build_interactions(rows, users)


def _worker(rank, world_size, store, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    try:
        trained = fit_model(_data(), PARAMS, "cpu", current_context())
        if rank == 0:
            torch.save({"users": trained.user_factors, "cols": torch.cat([trained.item_factors,
                                                                          trained.feature_factors])}, out)
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_match_one_process(tmp_path):
    out = str(tmp_path / "factors.pt")
    mp.spawn(_worker, args=(2, str(tmp_path / "store"), out), nprocs=2, join=True)
    parallel = torch.load(out)
    single = fit_model(_data(), PARAMS)
    assert torch.allclose(parallel["users"], single.user_factors, atol=1e-5, rtol=1e-4)
    assert torch.allclose(parallel["cols"], torch.cat([single.item_factors, single.feature_factors]),
                          atol=1e-5, rtol=1e-4)
    assert single.feature_factors.shape[0] == 8  # 4 age groups + 4 locations


def test_entry_point_under_torchrun_matches_single_process(tmp_path, channel):
    """train.py launched by torchrun (WORLD_SIZE/RANK/LOCAL_RANK from the environment)."""
    import json
    import subprocess
    import sys

    from helpers import SOURCE_DIR, child_env

    def job(name, launcher):
        env = child_env(SM_CHANNEL_TRAIN=channel, SM_MODEL_DIR=str(tmp_path / name / "model"),
                        SM_OUTPUT_DATA_DIR=str(tmp_path / name / "out"), TRAINING_JOB_NAME="parity",
                        SM_CHECKPOINT_DIR=str(tmp_path / name / "checkpoints"),
                        OMP_NUM_THREADS="1")
        entry_point = os.path.join(SOURCE_DIR, "artist_recommender", "train.py")
        cmd = launcher + [entry_point, "--factors", "8", "--iterations", "3", "--tune", "false"]
        done = subprocess.run(cmd, cwd=SOURCE_DIR, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        with open(tmp_path / name / "out" / "metrics.json") as handle:
            return json.load(handle)

    # --redirects/--tee keep torch 1.13's elastic agent working on Python 3.11.
    parallel = job("ddp", [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--redirects", "1", "--tee", "1"])
    single = job("single", [sys.executable])
    assert parallel["world_size"] == 2 and single["world_size"] == 1
    for key in ("ndcg_at_10", "recall_at_10", "threshold"):
        assert abs(parallel[key] - single[key]) < 1e-4, key
