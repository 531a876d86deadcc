"""Tiles on CPU threads (codec/parallel.py): same frames and latents as one tile at a time,
results in order, torch's thread count restored, errors passed on."""

import pytest
import torch

import regen_cli as regen
from regen_cli.codec.parallel import map_tiles

from .conftest import tiny_model


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_results_in_order_and_thread_count_restored(two_threads):
    seen = []

    def work(i):
        seen.append(torch.get_num_threads())
        return i * i

    assert list(map_tiles(work, range(7), torch.device("cpu"))) == [(i, i * i) for i in range(7)]
    assert seen[:6] == [1] * 6                  # tiles side by side, each on one thread
    assert seen[6] == 2                         # the odd one out last, on both threads
    assert torch.get_num_threads() == 2


def test_tiles_are_computed_at_most_two_per_worker_ahead(two_threads):
    started = []

    def work(i):
        started.append(i)
        return i

    results = map_tiles(work, range(20), torch.device("cpu"))
    assert next(results) == (0, 0)
    assert len(started) <= 5                    # the first one plus two ahead per worker
    assert [i for i, _ in results] == list(range(1, 20))
    assert torch.get_num_threads() == 2


def test_an_error_in_a_tile_is_raised_and_threads_restored(two_threads):
    def work(i):
        if i == 3:
            raise ValueError("tile 3")
        return i

    with pytest.raises(ValueError, match="tile 3"):
        list(map_tiles(work, range(5), torch.device("cpu")))
    assert torch.get_num_threads() == 2


def test_workers_keep_the_callers_autograd_mode(two_threads):
    def work(_):
        return torch.is_grad_enabled(), torch.is_inference_mode_enabled()

    with torch.inference_mode():
        assert {r for _, r in map_tiles(work, range(3), torch.device("cpu"))} == {(False, True)}
    assert {r for _, r in map_tiles(work, range(3), torch.device("cpu"))} == {(True, False)}


@pytest.mark.parametrize("name", ["regen-tiny-4x", "magvit2-tiny-4x"])
def test_parallel_tiles_decode_like_sequential_tiles(two_threads, name):
    model = tiny_model(name).eval()
    video = torch.rand(3, 5, 80, 144, generator=torch.Generator().manual_seed(1)) * 2 - 1
    latents = regen.encode(model, video)
    parallel = regen.decode(model, latents, tile=32)          # 64 px tiles: several per frame
    torch.set_num_threads(1)
    sequential = regen.decode(model, latents, tile=32)
    torch.testing.assert_close(parallel, sequential, atol=1e-4, rtol=0)


def test_parallel_encoder_tiles_give_the_same_latents(two_threads):
    from regen_cli.codec.encode import ENCODE_MARGIN, ENCODE_TILE
    model = tiny_model("regen-tiny-4x").eval()
    side = 8 * (ENCODE_TILE + 2 * ENCODE_MARGIN + 8)          # just over one encoder tile
    video = torch.rand(3, 5, 16, side, generator=torch.Generator().manual_seed(2)) * 2 - 1
    parallel = regen.encode(model, video)
    torch.set_num_threads(1)
    sequential = regen.encode(model, video)
    assert (parallel.z_c - sequential.z_c).abs().max() <= 1 / 127 + 1e-6
    assert (parallel.z_c != sequential.z_c).float().mean() < 0.01


def test_fewer_workers_share_the_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        seen = [n for _, n in map_tiles(lambda _: torch.get_num_threads(), range(6), torch.device("cpu"),
                                        max_workers=2)]
        assert seen == [2] * 6 and torch.get_num_threads() == 4
    finally:
        torch.set_num_threads(before)
