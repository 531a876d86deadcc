"""regen: compress videos into tiny latents and decode them with a generative decoder."""

from models import build_model, count_parameters, preset_names

from .api import VideoLatents, decode, encode
from .checkpoints import CheckpointError, load_model, save_model, weights_sha256
from .temporal import extrapolate, interpolate

__version__ = "0.1.0"

__all__ = ["CheckpointError", "VideoLatents", "__version__", "build_model", "count_parameters", "decode",
           "encode", "extrapolate", "interpolate", "load_model", "preset_names", "save_model", "weights_sha256"]
