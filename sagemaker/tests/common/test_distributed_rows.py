"""common.distributed: the context a process runs in, and the one collective, alone and in a gloo group."""
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from common.distributed import DistContext, current_context, gather_rows, init_from_env

# Rows of a 7-row matrix, split unevenly between two ranks (all_gather needs the padding).
ROW_SETS = [torch.tensor([0, 3, 4, 6]), torch.tensor([1, 2, 5])]
FULL = torch.arange(7 * 3, dtype=torch.float32).reshape(7, 3)


def test_one_process_runs_alone(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert init_from_env("cpu") == DistContext() == current_context()
    monkeypatch.setenv("WORLD_SIZE", "1")
    ctx = init_from_env("cpu")
    assert (ctx.rank, ctx.world_size, ctx.enabled, ctx.is_main) == (0, 1, False, True)


def test_alone_the_solved_rows_land_where_they_belong():
    rows = torch.tensor([4, 0, 2])
    full = gather_rows(FULL[rows], [rows], 5, DistContext())
    assert torch.equal(full[rows], FULL[rows])


def _worker(rank, world_size, store, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    try:
        ctx = current_context()
        full = gather_rows(FULL[ROW_SETS[rank]], ROW_SETS, FULL.shape[0], ctx)
        torch.save({"ctx": (ctx.rank, ctx.world_size, ctx.enabled, ctx.is_main), "full": full}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_in_a_group_every_rank_assembles_the_whole_matrix(tmp_path):
    out = str(tmp_path / "full.pt")
    mp.spawn(_worker, args=(2, str(tmp_path / "store"), out), nprocs=2, join=True)
    for rank in (0, 1):
        result = torch.load(f"{out}.{rank}")
        assert result["ctx"] == (rank, 2, True, rank == 0)
        assert torch.equal(result["full"], FULL)
