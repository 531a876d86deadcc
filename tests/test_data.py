"""Training data: synthetic camera moves over still photos (`--still-motion`)."""

from types import SimpleNamespace

import numpy as np
import pytest

from regen_cli.train.data import MAX_PAN, Augment, Clip, moving_still, sample_clips
from regen_cli.io.frames import to_uint8

from .conftest import read_clip


def _ramp(h=200, w=300):
    """A still whose value is its column: a window's mean is the value at its centre column."""
    x = np.broadcast_to(np.linspace(0, 255, w)[None, :, None], (h, w, 3))
    return np.round(x).astype(np.uint8)[None]


def test_moving_still_pans_in_a_straight_line_at_bounded_speed():
    aug = Augment(crop=32, min_scale=0.5, flip=False)
    slopes = []
    for seed in range(12):
        clip = moving_still(_ramp(), 9, aug, np.random.default_rng(seed))
        assert clip.shape == (3, 9, 32, 32) and clip.min() >= -1 and clip.max() <= 1
        centre = clip.mean(dim=(0, 2, 3)).numpy()            # tracks the window's centre column
        fit = np.polyfit(np.arange(9), centre, 1)
        inside = np.all((centre > -0.95) & (centre < 0.95))
        if inside:                                            # not stopped at the photo's edge
            assert np.abs(np.polyval(fit, np.arange(9)) - centre).max() < 0.01
        slopes.append(abs(fit[0]))
    # slope in [-1, 1] units per frame; the window spans at most 200 of the 300 columns
    # (pre-scaled to 32 px), so MAX_PAN output px/frame is at most MAX_PAN * 200/32 columns
    assert max(slopes) > 0.005 and max(slopes) <= MAX_PAN * (200 / 32) * 2 / 299 + 1e-3


def test_moving_still_frames_are_the_photo_resampled():
    photo = to_uint8(read_clip("realshort.mp4", 1, 128, 96)).numpy()       # (1, 96, 128, 3)
    clip = moving_still(photo, 5, Augment(crop=32), np.random.default_rng(0))
    frames = to_uint8(clip).numpy()
    assert frames.shape == (5, 32, 32, 3)
    assert abs(frames.mean() - photo.mean()) < 40                          # content of the photo, not noise
    steps = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(4)]
    assert max(steps) < 30                                                # a smooth move, not a cut


def test_sample_clips_mixes_in_stills_only_when_asked():
    still = Clip(_ramp(), "ramp.png")
    video = Clip(np.zeros((40, 64, 64, 3), np.uint8), "black.mp4")
    cache = SimpleNamespace(clips=[still, video], videos=[video])
    aug = Augment(crop=32, flip=False)
    plain = sample_clips(cache, 9, 8, aug, np.random.default_rng(0))
    assert plain.shape == (8, 3, 9, 32, 32) and (plain == -1).all()        # only the black video
    mixed = sample_clips(cache, 9, 8, aug, np.random.default_rng(0), still_motion=1.0)
    assert (mixed > -1).any(dim=(1, 2, 3, 4)).all()                        # every clip from the still
    only_stills = SimpleNamespace(clips=[still], videos=[])
    assert sample_clips(only_stills, 9, 2, aug, np.random.default_rng(0), still_motion=0.5).shape[0] == 2
    with pytest.raises(ValueError):
        sample_clips(only_stills, 9, 2, aug, np.random.default_rng(0))
