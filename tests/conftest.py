from pathlib import Path

import av
import numpy as np
import pytest
import torch

import regen_cli as regen
from regen_cli.io.frames import to_model_range

DATA = Path(__file__).parent / "data"


def read_clip(name: str, frames: int, width: int, height: int, start: int = 0) -> torch.Tensor:
    """Frames [start, start+frames) of a clip in tests/data, resized, as (3, T, H, W) in [-1, 1]."""
    with av.open(str(DATA / name)) as container:
        out = []
        for i, frame in enumerate(container.decode(video=0)):
            if i >= start + frames:
                break
            if i >= start:
                out.append(frame.reformat(width=width, height=height, format="rgb24").to_ndarray())
    return to_model_range(np.stack(out))


def chunk_decoder(model, **options):
    """A ChunkDecoder with the API's defaults, overridden by `options` (DecodeOptions fields)."""
    from regen_cli.codec.decode import ChunkDecoder
    from regen_cli.codec.options import DecodeDefaults, DecodeOptions
    return ChunkDecoder(model, DecodeOptions(**options).resolve(DecodeDefaults()))


def save_untrained(folder: Path, name: str = "regen-tiny-4x") -> Path:
    """A freshly initialised preset (seed 0) saved as FOLDER/NAME.safetensors: a real model
    file for CLI tests that need one, not its quality."""
    path = folder / f"{name}.safetensors"
    torch.manual_seed(0)
    regen.save_model(regen.build_model(name), path)
    return path


def tiny_model(name: str, seed: int = 0):
    """A preset model with random N(0, 0.05) weight matrices (untrained output heads are zero,
    which would make every output the same), for tests that need outputs to depend on inputs."""
    torch.manual_seed(seed)
    model = regen.build_model(name)
    for p in model.parameters():
        if p.dim() > 1:
            p.data.normal_(0, 0.05)
    return model


@pytest.fixture(scope="session")
def real_clip() -> torch.Tensor:
    """17 real frames (office window plant, hand-held) at 48x64, (3, 17, 48, 64) in [-1, 1]."""
    return read_clip("realshort.mp4", 17, 64, 48)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
