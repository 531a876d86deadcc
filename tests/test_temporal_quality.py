"""Issue 7's measurement protocol (`temporal_quality`) computes what it says, against independent numpy."""

import json

import numpy as np
import torch

import regen_cli as regen
from regen_cli.io.frames import to_model_range, to_uint8
from regen_cli.eval.metrics import frame_psnr
from benchmarks.temporal_quality import extrapolation_quality, interpolation_quality

from .conftest import DATA, read_clip, tiny_model


def _model():
    torch.manual_seed(0)
    return regen.build_model("regen-tiny-4x").eval()


def _mean_psnr(a, b):
    return float(np.mean([frame_psnr(x, y) for x, y in zip(a, b)]))


def test_interpolation_protocol_matches_independent_computation():
    frames = to_uint8(read_clip("realshort.mp4", 12, 48, 32)).numpy()   # even: the last frame is dropped
    model = _model()
    with torch.no_grad():
        result = interpolation_quality(model, frames)
        kept, dropped = frames[0:11:2], frames[1:11:2]
        decoded = to_uint8(regen.decode(model, regen.encode(model, to_model_range(kept)))).numpy()
    assert result["dropped_frames"] == 5
    average = lambda a, b: ((a.astype(int) + b + 1) // 2).astype(np.uint8)   # noqa: E731
    assert abs(result["lossless_average"] - _mean_psnr(average(kept[:-1], kept[1:]), dropped)) < 1e-9
    assert abs(result["decode_then_average"] - _mean_psnr(average(decoded[:-1], decoded[1:]), dropped)) < 1e-9
    assert abs(result["decoded_kept_frames"] - _mean_psnr(decoded, kept)) < 1e-9
    assert 5 < result["interpolated"] < 60


def test_extrapolation_protocol_scores_every_distance_against_the_right_frames():
    frames = to_uint8(read_clip("realshort.mp4", 14, 48, 32)).numpy()
    model = _model()
    with torch.no_grad():
        result = extrapolation_quality(model, frames, horizon=4)
        decoded_front = to_uint8(regen.decode(model, regen.encode(model, to_model_range(frames[4:])))).numpy()
    for direction in ("forward", "backward"):
        assert len(result[direction]["predicted"]) == len(result[direction]["copy_nearest_decoded"]) == 4
    # backward: distance d compares the first decoded frame with original frame 4 - d
    expected = [frame_psnr(decoded_front[0], frames[4 - d]) for d in range(1, 5)]
    assert np.allclose(result["backward"]["copy_nearest_decoded"], expected)
    assert "forward_partial_last_chunk" not in result            # 10 context frames: two full 4x chunks
    with torch.no_grad():
        unaligned = extrapolation_quality(model, frames[:13], horizon=4)
    assert len(unaligned["forward_partial_last_chunk"]["predicted"]) == 4
    assert len(unaligned["forward_partial_last_chunk_rgl"]["predicted"]) == 4


def test_interpolation_protocol_at_factor_four_blends_by_time_distance():
    frames = to_uint8(read_clip("realshort.mp4", 11, 48, 32)).numpy()   # 9 used: kept 0, 4, 8
    model = _model()
    with torch.no_grad():
        result = interpolation_quality(model, frames, factor=4)
    kept = frames[0:9:4]
    between = [1, 2, 3, 5, 6, 7]
    blend = [np.floor((1 - (i % 4) / 4) * kept[i // 4].astype(float) + (i % 4) / 4 * kept[i // 4 + 1] + 0.5)
             .astype(np.uint8) for i in between]
    assert result["factor"] == 4 and result["dropped_frames"] == 6
    assert abs(result["lossless_average"] - _mean_psnr(blend, frames[between])) < 1e-9


def test_bench_temporal_averages_every_number_over_seeds(tmp_path):
    from click.testing import CliRunner
    from benchmarks.bench import bench, mean_over
    assert mean_over([{"a": [1.0, 2.0], "n": 3, "s": "x"}, {"a": [3.0, 6.0], "n": 3, "s": "x"}]) == \
        {"a": [2.0, 4.0], "n": 3, "s": "x"}
    regen.save_model(tiny_model("regen-tiny-4x"), tmp_path / "m.safetensors")
    runs = {}
    for seeds in (1, 2):
        result = CliRunner().invoke(bench, ["temporal", str(DATA / "balle-vp9.avi"), "--model", str(tmp_path / "m.safetensors"),
                                            "--side", "64", "--frames", "12", "--horizon", "2", "--seeds", str(seeds)])
        assert result.exit_code == 0, result.output
        runs[seeds] = json.loads(result.stdout)
    assert runs[2]["seeds"] == 2
    one, two = (runs[n]["clips"][0] for n in (1, 2))
    assert one["interpolation"]["lossless_average"] == two["interpolation"]["lossless_average"]   # no sampling
    assert one["interpolation"]["interpolated"] != two["interpolation"]["interpolated"]             # seed 1 joined in
