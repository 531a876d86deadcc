"""A latent `.safetensors` file (a generator's output, in the export layout) -> video.

The model is `--model` or the bundled model the file names; when the file records the
SHA-256 of its model's weights, the model must be those weights. Normalised values are
de-normalised with the statistics the file carries, then checked like every float input
(`codec.latents.checked_latents`: clamped to [-1, 1] with a warning, NaN refused), and
decoded through the same streaming path as an `.rgl` file.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import torch

from models import Magvit2, Model

from ..codec.decode import ChunkDecoder
from ..codec.latents import checked_latents
from ..codec.options import DecodeDefaults, DecodeOptions
from ..errors import ConfigError, ModelMismatch, ModelNotBundled
from ..export.latent_file import LatentFile, read_latents
from ..io.checkpoints import load_model, weights_sha256
from ..io.video import output_format
from ..io.zoo import ModelRef, bundled_models, resolve_model
from .common import write_video
from .decode import decoded_frames


def model_for_latents(file: LatentFile, spec: str | None) -> ModelRef:
    """The model to decode `file` with: `spec`, else the bundled model it names; checked
    against the weights' SHA-256 the file records, if any."""
    if spec is None:
        if file.model is None:
            raise ConfigError("model", "the latent file names no model; give the model whose latents these are "
                                       "(a bundled name or a model file)")
        if file.model not in bundled_models():
            raise ModelNotBundled(f"the latents are of model '{file.model}', which is not bundled here")
        spec = file.model
    ref = resolve_model(spec)
    if file.model_sha256 is not None and weights_sha256(ref.path) != file.model_sha256:
        raise ModelMismatch(f"{ref.path} is not the model of these latents ('{file.model}', sha256 "
                            f"{file.model_sha256[:12]}…); pass the same model")
    return ref


def decode_latents_file(src: Path, dst: Path, spec: str | None, fps: Fraction | None, device: torch.device,
                        options: DecodeOptions, crf: int, overwrite: bool, quiet: bool) -> dict:
    """Decodes the latent file `src` into the video `dst` at `fps` (default: the file's)."""
    output_format(dst)
    file = read_latents(src)
    fps = fps or file.fps
    if fps is None:
        raise ConfigError("fps", "the latent file gives no frame rate; give the one to decode at, e.g. 24")
    ref = model_for_latents(file, spec)
    model: Model = load_model(ref.path, device)
    latents = checked_latents(file.video_latents(model.ratio))
    options = options.resolve(DecodeDefaults(temperature=ref.temperature))
    decoder = ChunkDecoder(model, options)
    written = write_video(dst, decoded_frames(latents, decoder), latents.width, latents.height, fps, crf,
                          overwrite, latents.num_frames, quiet)
    return {"input": str(src), "output": str(dst), "frames": written, "width": latents.width,
            "height": latents.height, "fps": f"{fps.numerator}/{fps.denominator}", "model": ref.name,
            "normalized": file.stats is not None, "steps": options.steps, "seed": options.seed,
            "temperature": options.temperature, "extension": options.extension,
            "baseline": isinstance(model, Magvit2)}
