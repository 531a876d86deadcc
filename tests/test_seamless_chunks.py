"""Latent extension: chunk boundaries cross-faded between both chunks' decodes (codec.timeline),
and the boundary metric that measures it (eval.metrics.boundary_jump)."""

import numpy as np
import pytest
import torch

import regen_cli as regen
from regen_cli.codec.temporal import horizon
from regen_cli.codec.timeline import decode_times, extension_reach, plan_times
from regen_cli.eval.metrics import boundary_jump, video_psnr
from regen_cli.io.frames import to_uint8
from regen_cli.io.zoo import resolve_model

from .conftest import chunk_decoder, read_clip


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    m = regen.build_model("regen-tiny-4x").eval()
    torch.nn.init.normal_(m.dit.head.weight, std=0.02)
    return m


def test_reach_window_weights_and_order():
    # 4x, reach (1, 1): the window is chunk 0's local times (3, 6); frame 4 (chunk 0's last) is
    # 2/3 chunk 0 and 1/3 chunk 1 at local -1, frame 5 (chunk 1's first) 1/3 chunk 0 at local 5
    plan = plan_times([float(t) for t in range(10)], 4, 2, (1, 1))
    assert plan[0] == [(0, 0, 1.0), (1, 1, 1.0), (2, 2, 1.0), (3, 3, 1.0),
                       (4, 4, pytest.approx(2 / 3)), (5, 5, pytest.approx(1 / 3))]
    assert plan[1] == [(4, -1, pytest.approx(1 / 3)), (5, 0, pytest.approx(2 / 3)), (6, 1, 1.0), (7, 2, 1.0),
                       (8, 3, 1.0), (9, 4, 1.0)]
    # fractional times, outside times, three chunks: every output's weights sum to one
    times = [-1.5, 0.0, 3.5, 4.25, 4.5, 5.5, 8.9, 9.0, 10.0, 14.0, 16.0]
    for reach in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2)]:
        plan = plan_times(times, 4, 3, reach)
        total = np.zeros(len(times))
        for items in plan.values():
            assert [t for _, t, _ in items] == sorted(t for _, t, _ in items)
            for i, _, w in items:
                total[i] += w
        np.testing.assert_allclose(total, 1.0)
    # no reach: only the gap between frames 4 and 5 is shared, as without extension
    assert plan_times([4.0, 5.0], 4, 2) == {0: [(0, 4.0, 1.0)], 1: [(1, 0.0, 1.0)]}


@pytest.mark.parametrize("ratio", [4, 8, 16, 32])
def test_reach_is_a_few_frames_within_the_horizon(ratio):
    back, fwd = extension_reach(ratio)
    assert back + fwd >= 1 and (back + fwd) / (ratio + 1) <= 0.25 + 1e-9
    assert max(back, fwd) <= horizon(ratio)   # within the trained extrapolation horizon, which is also the
                                              # wide window of `bench boundaries`: a spread jump is still measured


def test_decode_with_extension_cross_fades_the_boundary_frames(tiny):
    latents = regen.encode(tiny, torch.rand(3, 10, 16, 24) * 2 - 1)
    back, fwd = extension_reach(4)
    out = regen.decode(tiny, latents)
    plain = regen.decode(tiny, latents, extension=False)
    first = chunk_decoder(tiny).decode(0, latents.z_c[0], latents.z_m[0], [float(t) for t in range(5 + fwd)])
    second = chunk_decoder(tiny).decode(1, latents.z_c[1], latents.z_m[1], [float(t) for t in range(-back, 5)])
    plan = plan_times([float(t) for t in range(10)], 4, 2, (back, fwd))
    weights = {(c, i): w for c, items in plan.items() for i, _, w in items}
    for i in range(10):
        expect = (weights.get((0, i), 0) * (first[:, i] if i < first.shape[1] else 0)
                  + weights.get((1, i), 0) * (second[:, i - 5 + back] if i - 5 + back >= 0 else 0))
        torch.testing.assert_close(out[:, i], expect[:, :16, :24])
    # frames away from the boundary are the chunk's own decode, with or without extension
    torch.testing.assert_close(out[:, :4 - back], plain[:, :4 - back])
    assert not torch.allclose(out[:, 4], plain[:, 4])
    # streaming order is time order
    assert [i for i, _ in decode_times(chunk_decoder(tiny), latents, range(10))] == list(range(10))


def test_boundary_jump_counts_a_spread_jump():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 200, (1, 8, 8, 3))
    source = np.concatenate([base + i for i in range(10)]).astype(np.uint8)     # one grey level per frame
    jumped = source.copy()
    jumped[5:] += 20                                                            # a step at 4x's boundary
    spread = source.copy()
    spread[4] += 10
    spread[5:] += 20                                                            # the same step over two frames
    assert boundary_jump(source, source, 4) == {"across_boundaries": 1.0, "inside_chunks": 1.0}
    assert boundary_jump(jumped, source, 4)["across_boundaries"] == pytest.approx(21.0)
    assert boundary_jump(spread, source, 4)["across_boundaries"] == pytest.approx(11.0)
    assert boundary_jump(spread, source, 4)["inside_chunks"] == pytest.approx(1.0)


def test_wide_window_counts_a_jump_moved_two_frames_off_the_boundary():
    source = (np.arange(18)[:, None, None, None] + np.zeros((1, 4, 4, 3))).astype(np.uint8)  # one level per frame
    moved = source.copy()
    moved[11:] += 20            # 8x: the boundary step is frame 8 -> 9; this step is 10 -> 11
    assert boundary_jump(moved, source, 8)["across_boundaries"] == pytest.approx(1.0)     # k/8 = 1 step: missed
    assert boundary_jump(moved, source, 8, horizon(8))["across_boundaries"] == pytest.approx(21.0)


def test_bundled_4x_boundaries_jump_less_with_extension():
    """A real clip held out of training (realshort.mp4, 128x96, 3 chunks): latent extension
    lowers the boundary jump by at least a fifth at no PSNR cost beyond 0.1 dB."""
    ref = resolve_model(None, 4)
    model = regen.load_model(ref.path)
    video = read_clip("realshort.mp4", 15, 128, 96)
    source = to_uint8(video).numpy()
    latents = regen.encode(model, video)
    results = {}
    for extension in (True, False):
        decoded = to_uint8(regen.decode(model, latents, extension=extension, temperature=ref.temperature)).numpy()
        results[extension] = (boundary_jump(decoded, source, 4)["across_boundaries"], video_psnr(decoded, source))
    print(f"\nregen-4x realshort 128x96: jump {results[True][0]:.3f} with extension, {results[False][0]:.3f} without; "
          f"PSNR {results[True][1]:.3f} / {results[False][1]:.3f} dB")
    assert results[True][0] <= 0.8 * results[False][0]
    assert results[True][1] >= results[False][1] - 0.1
