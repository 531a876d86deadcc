"""The PNGs of `regen compare`, drawn with matplotlib (the optional extra `regen[compare]`). Does not import torch.

- `rd.png`: PSNR against bits per pixel, regen's ratios against each codec's CRF sweep, one
  panel per video plus the mean over videos; stars mark each codec at regen's bytes.
- `grid-VIDEO-Kx.png`: source, regen and each codec at regen's bytes, for the frame in the
  middle of the first chunk and the frame just after the first chunk boundary, each with an
  enlarged crop of the source's most detailed square (outlined in the full frames).
- `xt-VIDEO-Kx.png`: one row of pixels (through that square) over time, for the source,
  regen with and without latent extension, and each codec: chunk boundaries (dashed) and
  flicker show as horizontal seams and streaks.
- `temporal-VIDEO-Kx.png`: interpolated and extrapolated frames against the source frames
  they should be, and the trivial baselines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MissingDependency
from ..io.atomic import atomic_output
from .metrics import frame_psnr

DPI = 100
INSTALL = 'pip install "regen[compare]"'


def require_matplotlib():
    """matplotlib.pyplot on the Agg backend, or a MissingDependency saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise MissingDependency(f"matplotlib is not installed, so no pictures can be drawn; {INSTALL}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> Path:
    with atomic_output(path, True) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    fig.clf()
    require_matplotlib().close(fig)
    return path


def detail_square(frame: np.ndarray, side: int) -> tuple[int, int]:
    """(y, x) of the `side` x `side` square with the most gradient energy, on a side/2 grid."""
    g = frame.astype(np.float64).mean(axis=2)
    energy = np.zeros_like(g)
    energy[:, 1:] += np.abs(np.diff(g, axis=1))
    energy[1:] += np.abs(np.diff(g, axis=0))
    h, w = g.shape
    step = max(1, side // 2)
    best, where = -1.0, (0, 0)
    for y in range(0, max(1, h - side + 1), step):
        for x in range(0, max(1, w - side + 1), step):
            e = energy[y:y + side, x:x + side].sum()
            if e > best:
                best, where = e, (y, x)
    return where


def _off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def rd_plot(report: dict, path: Path) -> Path:
    plt = require_matplotlib()
    from matplotlib.ticker import FormatStrFormatter, NullFormatter
    names = list(report["codecs"])
    panels = [(Path(e["video"]).name, e["regen"], e["sweep"], e["matched"]) for e in report["videos"]]
    if len(panels) > 1:
        agg = report["aggregate"]
        regen = [{"ratio": int(r), **c["regen"]} for r, c in agg["ratios"].items()]
        matched = {n: [{"ratio": int(r), **c[n]} for r, c in agg["ratios"].items() if c[n]] for n in names}
        panels.append((f"mean of {len(panels)} videos", regen, agg["sweep"], matched))
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False, dpi=DPI)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (title, regen, sweep, matched) in zip(axes.flat, panels):
        for i, name in enumerate(names):
            c = colours[(i + 1) % len(colours)]
            ax.plot([p["bpp"] for p in sweep[name]], [p["psnr"] for p in sweep[name]], "o-", color=c, ms=3,
                    label=f"{name} (CRF sweep)")
            hits = [m for m in matched[name] if "bpp" in m]   # where the codec reached regen's bytes
            ax.plot([m["bpp"] for m in hits], [m["psnr"] for m in hits], "*", color=c, ms=9, ls="none")
        ax.plot([r["bpp"] for r in regen], [r["psnr"] for r in regen], "s-", color="black", label="regen")
        for r in regen:
            ax.annotate(f"{r['ratio']}x", (r["bpp"], r["psnr"]), textcoords="offset points", xytext=(4, -10),
                        fontsize=8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("bits per pixel (log)")
        ax.set_ylabel("RGB PSNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="best")
    fig.suptitle("regen vs classical codecs: stars = each codec at regen's bytes (smallest CRF that fits)",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def grid_frames(frames: int, ratio: int) -> list[tuple[int, str]]:
    """(frame index, why) for the frame grid: the middle of the first chunk and, where the video
    has one, the first frame after the first chunk boundary."""
    picks = [(min(ratio // 2, frames - 1), "middle of chunk 1")]
    if frames > ratio + 1:
        picks.append((ratio + 1, "just after a chunk boundary"))
    return picks


def frame_grid(reference: np.ndarray, columns: list[tuple[str, np.ndarray, str]], ratio: int, path: Path,
               title: str) -> Path:
    """columns: (label, decoded frames (T, H, W, 3), what it costs) after the source."""
    plt = require_matplotlib()
    t, h, w = reference.shape[:3]
    side = max(8, min(h, w) // 4)
    panels = [("source", reference, "")] + columns
    picks = grid_frames(t, ratio)
    pw = 3.2
    ph = pw * h / w
    fig, axes = plt.subplots(2 * len(picks), len(panels), figsize=(pw * len(panels), (ph + pw + 0.9) * len(picks)),
                             squeeze=False, dpi=DPI, gridspec_kw={"height_ratios": [ph, pw] * len(picks)})
    for p, (index, why) in enumerate(picks):
        y, x = detail_square(reference[index], side)
        for c, (label, frames, cost) in enumerate(panels):
            full, crop = axes[2 * p, c], axes[2 * p + 1, c]
            full.imshow(frames[index], interpolation="nearest")
            full.add_patch(plt.Rectangle((x - 0.5, y - 0.5), side, side, fill=False, color="yellow", lw=1))
            psnr = "" if c == 0 else f", {min(frame_psnr(frames[index], reference[index]), 100):.1f} dB"
            full.set_title(f"{label}{cost}\nframe {index} ({why}){psnr}", fontsize=8)
            crop.imshow(frames[index, y:y + side, x:x + side], interpolation="nearest")
            crop.set_xlabel(f"crop x{w / side:.1f}" if c == 0 else "", fontsize=7)
            _off(full)
            _off(crop)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def xt_slice(reference: np.ndarray, rows: list[tuple[str, np.ndarray]], ratio: int, path: Path, title: str) -> Path:
    """One row of pixels over time (time downwards, 4 pixels a frame) for the source and each of `rows`."""
    plt = require_matplotlib()
    t, h, w = reference.shape[:3]
    side = max(8, min(h, w) // 4)
    y = detail_square(reference[min(ratio // 2, t - 1)], side)[0] + side // 2
    panels = [("source", reference)] + rows
    stretch = 4
    pw = max(4.0, w / DPI * 1.5)
    ph = pw * t * stretch / w
    fig, axes = plt.subplots(len(panels), 1, figsize=(pw, (ph + 0.45) * len(panels) + 0.4), squeeze=False, dpi=DPI)
    for ax, (label, frames) in zip(axes[:, 0], panels):
        ax.imshow(np.repeat(frames[:, y], stretch, axis=0), interpolation="nearest", aspect="auto",
                  extent=(0, w, t - 0.5, -0.5))
        for b in range(ratio + 1, t, ratio + 1):
            ax.axhline(b - 0.5, color="white", ls="--", lw=0.8)
        ax.set_title(f"{label}: row y={y} over frames 0-{t - 1}", fontsize=8)
        ax.set_ylabel("frame", fontsize=7)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    fig.suptitle(title + "\n(dashed: chunk boundaries)", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def temporal_strip(parts: list[tuple[str, dict]], path: Path, title: str) -> Path:
    """parts: (name, {"times", "truth", "predicted", "baseline", "baseline_name"}) -> rows of
    source / regen / baseline frames, one block per part."""
    plt = require_matplotlib()
    h, w = parts[0][1]["truth"].shape[1:3]
    cols = max(len(p["times"]) for _, p in parts)
    pw = 2.4
    ph = pw * h / w
    fig, axes = plt.subplots(3 * len(parts), cols, figsize=(pw * cols, (ph + 0.45) * 3 * len(parts) + 0.4),
                             squeeze=False, dpi=DPI)
    for b, (name, part) in enumerate(parts):
        rows = [("source", part["truth"]), (f"regen {name}", part["predicted"]), (part["baseline_label"],
                                                                                 part["baseline"])]
        for r, (label, frames) in enumerate(rows):
            for c in range(cols):
                ax = axes[3 * b + r, c]
                _off(ax)
                if c >= len(frames):
                    ax.axis("off")
                    continue
                ax.imshow(frames[c], interpolation="nearest")
                psnr = "" if r == 0 else f", {min(frame_psnr(frames[c], part['truth'][c]), 100):.1f} dB"
                ax.set_title(f"{label[:28]}\nt={float(part['times'][c]):g}{psnr}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def draw(report: dict, shown: list[dict], out: Path) -> list[Path]:
    """Every picture of a `compare` report; `shown`: each video's frames from `compare`."""
    paths = [rd_plot(report, out / "rd.png")]
    for entry, frames in zip(report["videos"], shown):
        stem = Path(entry["reference"]).name.removesuffix("-reference.mkv")
        name = Path(entry["video"]).name
        reference = frames["reference"]
        for row in entry["regen"]:
            k = row["ratio"]
            got = frames["ratios"][k]
            columns = [(f"regen {k}x", got["regen"], f", {row['bytes']} B")]
            for codec, matches in entry["matched"].items():
                m = next(m for m in matches if m["ratio"] == k)
                if m["crf"] is not None:
                    columns.append((f"{codec} CRF {m['crf']}", got["codecs"][codec], f", {m['bytes']} B"))
            paths.append(frame_grid(reference, columns, k, out / f"grid-{stem}-{k}x.png",
                                    f"{name} at {k}x: every column at most {row['bytes']} bytes"))
            if "regen_no_extension" in got:
                rows = [(f"regen {k}x", got["regen"]), (f"regen {k}x without latent extension",
                                                        got["regen_no_extension"])]
                rows += [(label, frames_) for label, frames_, _ in columns[1:]]
                paths.append(xt_slice(reference, rows, k, out / f"xt-{stem}-{k}x.png", f"{name} at {k}x"))
            parts = [(n, got[n]) for n in ("interpolation", "extrapolation") if n in got]
            if parts:
                paths.append(temporal_strip(parts, out / f"temporal-{stem}-{k}x.png",
                                            f"{name}, regen {k}x: interpolation (even frames encoded) and "
                                            f"extrapolation (last {len(got.get('extrapolation', {}).get('times', []))}"
                                            " frames not encoded)"))
    return paths
