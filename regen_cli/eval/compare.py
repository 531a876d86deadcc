"""`regen compare`: regen against classical codecs at the same bytes (the quality protocol of `regen eval`).

Per video: the reference is `regen eval`'s (downscaled to `max_side`, cut to `max_frames`,
kept losslessly). Per ratio, regen encodes it to an `.rgl` and decodes it as `regen decode`
would; its bytes are the whole `.rgl` file. Per codec, `codecs.Encodings.match` finds the
smallest CRF whose bitstream is no larger than that `.rgl` (so the next CRF down is larger),
and a fixed CRF sweep gives the codec's rate-distortion curve. Everything is measured with
`metrics`: PSNR per frame on the 0-255 grid in float64 averaged over frames, SSIM on RGB,
bpp = 8 bytes / (frames x width x height). Aggregates average over videos. Every bitstream
is kept under `DIR/streams/` so that any number can be re-measured independently.

With `pictures`, regen is also decoded without latent extension (for the x-t slices) and
asked to interpolate and extrapolate (for the temporal strips):
- interpolation: the even frames 0, 2, 4, ... are encoded and decoded at twice their rate;
  the truth is the odd frames, the baseline the mean of the two decoded neighbours;
- extrapolation: all but the last `FUTURE` frames are encoded and the next `FUTURE` frames
  predicted; the truth is the source's last frames, the baseline a copy of the last encoded
  source frame (lossless, so it flatters copying).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..codec.decode import ChunkDecoder
from ..codec.options import DecodeDefaults, DecodeOptions
from ..codec.temporal import extrapolated_frames
from ..codec.timeline import decode_times
from ..errors import InvalidArgument
from ..files.common import RglLatents, model_for_file, resolve_for_file
from ..files.decode import frame_uint8
from ..files.encode import encode_file
from ..io.container import RglReader
from ..io.frames import to_model_range
from ..io.video import VideoReader, VideoWriter
from ..io.zoo import ModelRef
from . import codecs as classical
from .evaluate import reference_copy, rgl_frames
from .metrics import bits_per_pixel, frame_psnr, video_psnr, video_ssim

FUTURE = 4         # frames predicted in the extrapolation strips
INTERPOLATED = 4   # in-between frames shown in the interpolation strips
REGEN_BYTES = "the whole .rgl file: header, chunk index, CRCs and zstd-coded int8 latents"


def _psnr_frames(out: np.ndarray, ref: np.ndarray) -> list[float]:
    return [min(frame_psnr(a, b), 100.0) for a, b in zip(out, ref)]


def _measure(out: np.ndarray, ref: np.ndarray, size: int) -> dict:
    t, h, w = ref.shape[:3]
    return {"bytes": size, "bpp": bits_per_pixel(size, t, w, h), "psnr": video_psnr(out, ref),
            "ssim": video_ssim(out, ref)}


def _read(path: Path) -> tuple[np.ndarray, Fraction]:
    with VideoReader(path) as reader:
        return np.stack(list(reader.frames())), reader.info.fps


def _write(path: Path, frames: np.ndarray, fps: Fraction) -> Path:
    with VideoWriter(path, frames.shape[2], frames.shape[1], fps) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def _decode(rgl: Path, ref: ModelRef, device: torch.device, options: DecodeOptions) -> np.ndarray:
    with rgl_frames(rgl, ref, device, options) as frames:
        return np.stack(list(frames))


def _interpolation(frames: np.ndarray, fps: Fraction, ref: ModelRef, device: torch.device, options: DecodeOptions,
                   tmp: Path) -> dict | None:
    """Encodes the even frames and decodes them at twice their rate, as `regen interpolate
    --factor 2` would, over the first INTERPOLATED gaps; the baseline averages the decoded
    neighbours (decode, then average)."""
    even = frames[::2]
    count = min(INTERPOLATED, len(even) - 1)
    if count < 1:
        return None
    rgl = tmp / "even.rgl"
    encode_file(_write(tmp / "even.mkv", even, fps / 2), rgl, ref, device, True, True)
    with RglReader(rgl) as reader:
        model = model_for_file(reader.header, str(ref.path), device)
        decoder = ChunkDecoder(model, resolve_for_file(options, reader.header))
        times = [i / 2 for i in range(2 * count + 1)]
        decoded = np.stack([frame_uint8(f) for _, f in decode_times(decoder, RglLatents(reader), times)])
    predicted, ends = decoded[1::2], decoded[0::2].astype(np.uint16)
    truth = frames[1:2 * count:2]
    mean = ((ends[:-1] + ends[1:] + 1) // 2).astype(np.uint8)
    return {"times": [2 * t for t in times[1::2]], "truth": truth, "predicted": predicted, "baseline": mean,
            "psnr": video_psnr(predicted, truth), "baseline_psnr": video_psnr(mean, truth),
            "baseline_name": "mean of regen's two decoded neighbouring frames", "baseline_label": "decode, then average"}


def _extrapolation(frames: np.ndarray, fps: Fraction, ref: ModelRef, device: torch.device, options: DecodeOptions,
                   tmp: Path) -> dict | None:
    """Encodes all but the last FUTURE frames and predicts those."""
    known = frames[:-FUTURE]
    if len(known) < 2:
        return None
    rgl, last = tmp / "known.rgl", []
    encode_file(_write(tmp / "known.mkv", known, fps), rgl, ref, device, True, True, last)
    with RglReader(rgl) as reader:
        h = reader.header
        model = model_for_file(h, str(ref.path), device)
        tail = to_model_range(np.stack(last)) if len(last) == h.ratio + 1 else None
        stream = extrapolated_frames(model, RglLatents(reader), resolve_for_file(options, h), future=FUTURE,
                                     include_source=False, tail=tail)
        predicted = np.stack([frame_uint8(f) for _, f in stream])
    truth = frames[-FUTURE:]
    copy = np.repeat(known[-1:], FUTURE, axis=0)
    return {"times": list(range(len(known), len(frames))), "truth": truth, "predicted": predicted,
            "baseline": copy, "psnr": video_psnr(predicted, truth), "baseline_psnr": video_psnr(copy, truth),
            "baseline_name": "copy of the last encoded source frame (lossless)", "baseline_label": "source frame copy"}


def _stem(video: Path, seen: set[str]) -> str:
    stem, n = video.stem, 1
    while stem in seen:
        n += 1
        stem = f"{video.stem}-{n}"
    seen.add(stem)
    return stem


def compare_video(video: Path, stem: str, models: list[ModelRef], ratios: list[int], codecs: list[classical.Codec],
                  device: torch.device, options: DecodeOptions, max_side: int, max_frames: int | None,
                  streams: Path, pictures: bool, log: Callable[[str], None]) -> tuple[dict, dict]:
    """(the video's report entry, its frames for the pictures)."""
    reference = reference_copy(video, streams, max_side, max_frames, None, name=f"{stem}-reference.mkv")
    frames, fps = _read(reference)
    t, h, w = frames.shape[:3]
    log(f"{video.name}: {t} frames of {w}x{h}")
    encodings = {c.name: classical.Encodings(c, frames, fps) for c in codecs}
    entry = {"video": str(video), "reference": str(reference), "frames": t, "width": w, "height": h,
             "fps": f"{fps.numerator}/{fps.denominator}", "regen": [], "matched": {c.name: [] for c in codecs},
             "sweep": {}}
    shown: dict = {"reference": frames, "ratios": {}}
    for ratio, ref in zip(ratios, models):
        rgl = streams / f"{stem}-{ratio}x.rgl"
        info = encode_file(reference, rgl, ref, device, True, True)
        if info["ratio"] != ratio:
            raise InvalidArgument(f"model {ref.name} is a {info['ratio']}x model, not {ratio}x")
        size = rgl.stat().st_size
        log(f"  regen {ratio}x: {size} bytes, decoding {t} frames")
        decoded = _decode(rgl, ref, device, options)
        row = {"ratio": ratio, "model": ref.name, "file": str(rgl), **_measure(decoded, frames, size),
               "psnr_frames": _psnr_frames(decoded, frames)}
        per_ratio = {"regen": decoded, "codecs": {}}
        if pictures:
            plain = _decode(rgl, ref, device, replace(options, extension=False))
            row["psnr_no_extension"] = video_psnr(plain, frames)
            per_ratio["regen_no_extension"] = plain
            with tempfile.TemporaryDirectory(dir=streams) as tmp:
                for name, fn in (("interpolation", _interpolation), ("extrapolation", _extrapolation)):
                    found = fn(frames, fps, ref, device, options, Path(tmp))
                    if found is not None:
                        row[name] = {k: found[k] for k in ("times", "psnr", "baseline_psnr", "baseline_name")}
                        per_ratio[name] = found
        entry["regen"].append(row)
        for codec in codecs:
            match = encodings[codec.name].match(size)
            if match is None:
                smallest = encodings[codec.name](codec.crf_range[1]).bytes
                entry["matched"][codec.name].append(
                    {"ratio": ratio, "budget": size, "crf": None,
                     "reason": f"even CRF {codec.crf_range[1]} takes {smallest} bytes, more than the .rgl"})
                continue
            path = streams / f"{stem}-{ratio}x-{codec.name}{codec.suffix}"
            classical.write_stream(match, codec, path, w + w % 2, h + h % 2, fps)
            down = encodings[codec.name].done.get(match.crf - 1)
            entry["matched"][codec.name].append(
                {"ratio": ratio, "budget": size, "crf": match.crf, "file": str(path),
                 "next_crf_down_bytes": None if down is None else down.bytes,
                 **_measure(match.frames, frames, match.bytes), "psnr_frames": _psnr_frames(match.frames, frames)})
            per_ratio["codecs"][codec.name] = match.frames
            log(f"  {codec.name} at {size} bytes or less: CRF {match.crf}, {match.bytes} bytes")
        shown["ratios"][ratio] = per_ratio
    for codec in codecs:
        entry["sweep"][codec.name] = [{"crf": crf, **_measure(e.frames, frames, e.bytes)}
                                      for crf in codec.sweep for e in [encodings[codec.name](crf)]]
    return entry, shown


def _mean(rows: list[dict], keys=("psnr", "ssim", "bpp", "bytes")) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in keys} | {"videos": len(rows)}


def aggregate(entries: list[dict], ratios: list[int], codecs: list[str]) -> dict:
    """Per ratio: the mean over videos of regen and of each codec where it reached the bytes
    (`videos` says over how many); per codec: its sweep averaged over videos at each CRF."""
    out: dict = {"ratios": {}, "sweep": {}}
    for ratio in ratios:
        cell = {"regen": _mean([r for e in entries for r in e["regen"] if r["ratio"] == ratio])}
        for name in codecs:
            rows = [m for e in entries for m in e["matched"][name] if m["ratio"] == ratio and m["crf"] is not None]
            cell[name] = _mean(rows) if rows else None
        out["ratios"][str(ratio)] = cell
    for name in codecs:
        crfs = [p["crf"] for p in entries[0]["sweep"][name]]
        out["sweep"][name] = [{"crf": crf, **_mean([p for e in entries for p in e["sweep"][name] if p["crf"] == crf])}
                              for crf in crfs]
    return out


def compare(videos: list[Path], models: list[ModelRef], ratios: list[int], codecs: list[classical.Codec],
            device: torch.device, out: Path, options: DecodeOptions = DecodeOptions(), max_side: int = 512,
            max_frames: int | None = None, pictures: bool = True,
            log: Callable[[str], None] = lambda line: None) -> tuple[dict, list[dict]]:
    """(the report, each video's frames for `pictures.draw`). `codecs` must be available
    (`codecs.missing_from_ffmpeg`); the caller lists the missing ones in the report."""
    if len(models) != len(ratios):
        raise InvalidArgument(f"{len(models)} models for {len(ratios)} ratios: give one model per ratio")
    streams = out / "streams"
    streams.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    entries, shown = [], []
    for video in videos:
        entry, frames = compare_video(video, _stem(video, seen), models, ratios, codecs, device, options, max_side,
                                      max_frames, streams, pictures, log)
        entries.append(entry)
        shown.append(frames)
    used = options.resolve(DecodeDefaults(temperature=models[0].temperature))
    report = {
        "protocol": {
            "psnr": "RGB PSNR per frame on the 0-255 grid in float64 (100 dB for identical frames), averaged over "
                    "frames, then over videos",
            "ssim": "SSIM per frame on RGB (channels averaged), averaged like PSNR",
            "bpp": "8 x bytes / (frames x width x height)",
            "bytes": {"regen": REGEN_BYTES, "codecs": classical.COUNTED},
            "matching": "for each codec and ratio, the smallest CRF whose bytes are at most the .rgl's bytes "
                        "(found by bisection: the next CRF down is larger); crf null where even the largest "
                        "CRF is larger",
            "reference": "each video downscaled (antialiased bilinear) to max_side and cut to max_frames, "
                         "stored losslessly (FFV1): the same reference as regen eval"},
        "max_side": max_side, "max_frames": max_frames, "steps": used.steps, "seed": used.seed,
        "temperature": {m.name: m.temperature if options.temperature is None else options.temperature
                        for m in models},
        "ratios": ratios, "models": [m.name for m in models],
        "codecs": {c.name: {"encoder": c.encoder, "decoder": c.decoder, "options": c.options,
                            "crf_range": list(c.crf_range), "sweep_crfs": list(c.sweep)} for c in codecs},
        "videos": entries, "aggregate": aggregate(entries, ratios, [c.name for c in codecs])}
    return report, shown
