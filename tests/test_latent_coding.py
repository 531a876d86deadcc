import numpy as np
import pytest

from regen_cli.io import latent_coding


def test_hand_computed_residuals():
    plane = np.array([[1, 2], [3, 9]])
    # top-left from 0, first row from the left, first column from above,
    # (1,1): left 3, up 2, upper-left 1 <= min -> prediction max(3, 2) = 3
    expected = np.array([[1, 1], [2, 6]])
    content = np.stack([plane, plane + 1])[None]             # (1 frame, 2 channels, 2, 2)
    assert np.array_equal(latent_coding.encode(content.astype(np.int8)), np.stack([expected, expected + [[1, 0], [0, 0]]])[None])
    # two frames: the motion frame is coded as its difference from the content frame
    chunk = np.stack([plane, plane + 5])[:, None].astype(np.int8)     # (2, 1, 2, 2)
    residual = latent_coding.encode(chunk)
    assert np.array_equal(residual[0, 0], expected)
    assert np.array_equal(residual[1, 0], [[5, 0], [0, 0]])


def test_median_edge_detector_cases():
    # upper-left >= max(left, up) -> min; <= min -> max; else left + up - upper-left
    for ul, left, up, pred in [(9, 4, 6, 4), (1, 4, 6, 6), (5, 4, 6, 5)]:
        plane = np.array([[ul, up], [left, 0]], dtype=np.int8)[None, None]
        assert latent_coding.encode(plane)[0, 0, 1, 1] == -pred


@pytest.mark.parametrize("shape", [(2, 8, 1, 1), (2, 8, 1, 9), (2, 8, 7, 1), (1, 8, 5, 6), (2, 3, 11, 13)])
def test_round_trip_is_exact_for_every_int8_value(shape):
    rng = np.random.default_rng(sum(shape))
    latents = rng.integers(-128, 128, size=shape).astype(np.int8)
    latents.flat[:2] = [-128, 127]                            # wrap-around extremes
    assert np.array_equal(latent_coding.decode(latent_coding.encode(latents)), latents)


def test_smooth_latents_become_cheaper_and_noise_does_not_grow():
    import zstandard
    z = zstandard.ZstdCompressor(level=19)
    y, x = np.mgrid[0:24, 0:32]
    smooth = np.stack([np.stack([(x * c + y * 2) % 90 - 45 for c in range(1, 9)])] * 2)
    smooth[1] += 3
    smooth = smooth.astype(np.int8)
    assert len(z.compress(latent_coding.encode(smooth).tobytes())) < 0.5 * len(z.compress(smooth.tobytes()))
    assert np.array_equal(latent_coding.decode(latent_coding.encode(smooth)), smooth)
