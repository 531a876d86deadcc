"""The plain-text tables of `eval`, `models` and `presets` (their `--json` carries the same data)."""

from __future__ import annotations

from pathlib import Path


def eval_table(result: dict, max_side: int, crop: int | None) -> list[str]:
    lines = [f"model {result['model']}, {result['steps']} step(s), seed {result['seed']}, temperature "
             f"{result['temperature']:g}, long side <= {max_side}" + (f", centre crop {crop}x{crop}" if crop else ""),
             f"{'video':<34} {'frames':>6} {'size':>9} {'PSNR':>7} {'SSIM':>6} {'bpp':>8} {'enc fps':>8} {'dec fps':>8}"]
    for r in result["videos"]:
        lines.append(f"{Path(r['video']).name[:34]:<34} {r['frames']:>6} {r['width']:>4}x{r['height']:<4} "
                     f"{r['psnr']:>7.2f} {r['ssim']:>6.3f} {r['bpp']:>8.4f} {r['encode_fps']:>8.1f} "
                     f"{r['decode_fps']:>8.2f}")
    a = result["aggregate"]
    lines.append(f"{'mean':<34} {'':>6} {'':>9} {a['psnr']:>7.2f} {a['ssim']:>6.3f} {a['bpp']:>8.4f} "
                 f"{a['encode_fps']:>8.1f} {a['decode_fps']:>8.2f}")
    if "rfvd" in a:
        lines.append(f"rFVD over {a['rfvd_clips']} clips of 16 frames: {a['rfvd']}")
    return lines


def models_table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["no bundled models in this install"]

    def num(row: dict, key: str, width: int, digits: int) -> str:
        return f"{row[key]:>{width}.{digits}f}" if key in row else f"{'-':>{width}}"
    lines = [f"{'model':<22} {'ratio':>5} {'params':>11} {'test PSNR':>10} {'val. PSNR':>10} {'SSIM':>6} {'bpp':>8} "
             f"{'MAGVIT-v2 PSNR':>15}"]
    for r in rows:
        lines.append(f"{r['name']:<22} {r['ratio']:>4}x {r['parameters']:>11,} {num(r, 'test_psnr', 10, 2)} "
                     f"{num(r, 'psnr', 10, 2)} "
                     f"{num(r, 'ssim', 6, 3)} {num(r, 'bpp', 8, 4)} {num(r, 'baseline_psnr', 15, 2)}")
    return lines


def presets_table(rows: list[dict]) -> list[str]:
    lines = [f"{'preset':<20} {'ratio':>5} {'encoder':>12} {'decoder':>14}"]
    for r in rows:
        lines.append(f"{r['preset']:<20} {r['ratio']:>4}x {r['encoder_params']:>12,} {r['decoder_params']:>14,}")
    return lines


def compare_table(report: dict) -> list[str]:
    """Per video and ratio: regen's PSNR and bytes, each codec's PSNR, CRF and bytes at (at most)
    regen's bytes; then the means over videos; then what was counted."""
    codecs = list(report["codecs"])
    frames = f", first {report['max_frames']} frames" if report["max_frames"] else ""
    lines = [f"regen vs classical codecs at the same bytes: RGB PSNR in dB, long side <= {report['max_side']}"
             f"{frames}, {report['steps']} step(s), seed {report['seed']}",
             f"{'video':<26} {'ratio':>5} {'regen dB':>8} {'bytes':>8} {'bpp':>7}"
             + "".join(f" | {c + ' dB':>9} {'CRF':>3} {'bytes':>8}" for c in codecs)]
    for entry in report["videos"]:
        for row in entry["regen"]:
            line = (f"{Path(entry['video']).name[:26]:<26} {row['ratio']:>4}x {row['psnr']:>8.2f} {row['bytes']:>8} "
                    f"{row['bpp']:>7.4f}")
            for c in codecs:
                m = next(m for m in entry["matched"][c] if m["ratio"] == row["ratio"])
                line += (f" | {m['psnr']:>9.2f} {m['crf']:>3} {m['bytes']:>8}" if m["crf"] is not None
                         else f" | {'-':>9} {'-':>3} {'too few':>8}")
            lines.append(line)
    if len(report["videos"]) > 1:
        for ratio, cell in report["aggregate"]["ratios"].items():
            r = cell["regen"]
            line = f"{'mean of ' + str(r['videos']) + ' videos':<26} {ratio:>4}x {r['psnr']:>8.2f} {r['bytes']:>8.0f} " \
                   f"{r['bpp']:>7.4f}"
            for c in codecs:
                m = cell[c]
                line += f" | {m['psnr']:>9.2f} {'':>3} {m['bytes']:>8.0f}" if m else f" | {'-':>9} {'':>3} {'-':>8}"
                if m and m["videos"] != r["videos"]:
                    line += f" (of {m['videos']})"
            lines.append(line)
    counted = report["protocol"]["bytes"]
    lines += [f"bytes: regen = {counted['regen']}", f"       codecs = {counted['codecs']}",
              "codec setting: " + "; ".join(f"{c} {v['encoder']} " + " ".join(f"{k}={o}" for k, o in v["options"].items())
                                           + ", the smallest CRF whose bytes <= regen's" for c, v in
                                           report["codecs"].items())]
    for name, why in report.get("missing_codecs", {}).items():
        lines.append(f"not compared: {name} ({why})")
    return lines
