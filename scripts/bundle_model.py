#!/usr/bin/env python3
"""Bundle a trained model: bf16 weights, a model card (NAME.md) and its numbers (NAME.json).

    python scripts/bundle_model.py RUN_DIR NAME EVAL_JSON [--test JSON [--floor DB]] [--resolution JSON ...]
        [--history CARD_MD] [--earlier RUN_DIR ...] [--baseline-run DIR --baseline JSON [--baseline-regen JSON
        --baseline-regen-steps N]] [--temporal JSON] [--temperature T] [--note TEXT]

RUN_DIR is a `regen train --out` folder (model.safetensors, train-config.json, metrics.jsonl);
EVAL_JSON is the output of `regen eval --json` on clips held out of that training, the
validation clips that chose the checkpoint and settings. Optional: `--test`: `regen eval --json`
on test clips that decided nothing (the card's first figures, per clip; NAME.json's `test_psnr`),
with `--floor`, the mean PSNR the model is meant to reach there (a clip may be at most 3 dB under
it), which the card says is met or not; `--data-note`: the card's data line, in place of the default;
`--resolution`: `regen eval --crop S --json` outputs (training crop, 2x, 4x); `--baseline`:
`regen eval --json` of the MAGVIT-v2 baseline trained at equal budget (its run folder as
`--baseline-run`), on the same clips and settings as EVAL_JSON; `--temporal`: outputs of
`python -m benchmarks.bench temporal` (repeatable); `--earlier`: run folders of earlier stages (warm starts),
listed with their commands; `--history`: the card (NAME.md) of the bundled model this stage
started from, whose earlier stages and baseline comparison carry over when their run folders
are gone (its stages come first, then any `--earlier` runs; use instead of `--baseline*`); `--baseline-regen`: when the final stage trained longer than the
baseline, the eval JSON of the REGEN stage that had the baseline's budget; `--temperature`:
the sampling temperature files encoded with this model decode at by default (NAME.json's
`decode_temperature`; choose it on training clips; every EVAL/temporal JSON must have been
measured at it, which is checked). The card
records the exact training command, data, seed, steps, wall time, hardware and the measured
quality, so every number in it comes from files a run produced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
from pathlib import Path

import torch
from safetensors import safe_open

from regen_cli import load_model, save_model
from regen_cli.io.zoo import WEIGHTS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("eval_json", type=Path)
    parser.add_argument("--test", type=Path, help="`regen eval --json` on the test clips")
    parser.add_argument("--floor", type=float, help="the test mean PSNR this ratio is meant to reach")
    parser.add_argument("--data-note", help="the card's data line (default: the dev videos and stills)")
    parser.add_argument("--resolution", type=Path, action="append", default=[])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-run", type=Path)
    parser.add_argument("--baseline-regen", type=Path,
                        help="`regen eval --json` of the REGEN stage that had the baseline's budget (default: EVAL_JSON)")
    parser.add_argument("--baseline-regen-steps", type=int, help="that stage's steps")
    parser.add_argument("--earlier", type=Path, action="append", default=[],
                        help="run folders of earlier training stages, in order")
    parser.add_argument("--history", type=Path,
                        help="card of the bundled model this stage started from (its stages and baseline carry over)")
    parser.add_argument("--temporal", type=Path, action="append", default=[],
                        help="`python -m benchmarks.bench temporal` outputs (e.g. --factor 2 and --factor 4)")
    parser.add_argument("--hardware", default=f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU")
    parser.add_argument("--timing-note", default="on this machine's CPU")
    parser.add_argument("--note", default="")
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()
    config = json.loads((args.run / "train-config.json").read_text())
    rows = [json.loads(line) for line in (args.run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    vals = [r for r in rows if "val_psnr" in r]
    report = json.loads(args.eval_json.read_text())
    test = json.loads(args.test.read_text()) if args.test else None
    for path in [args.eval_json, *([args.test] if args.test else []), *args.resolution, *args.temporal]:
        measured = json.loads(path.read_text()).get("temperature", 1.0)   # older outputs: always 1
        if measured != args.temperature:
            raise SystemExit(f"{path} was measured at temperature {measured}, not {args.temperature}")
    model = load_model(args.run / "model.safetensors")
    state = args.run / "train-state.safetensors"
    if state.exists():
        with safe_open(str(state), framework="pt") as f:
            checkpoint_step = int(f.metadata()["step"])   # the step model.safetensors was saved at
    elif vals:   # a run folder copied without its (large) train state: every checkpoint is validated
        checkpoint_step = vals[-1]["step"]
    else:
        raise SystemExit(f"{args.run} has neither train-state.safetensors nor validation rows to date its model")
    target = WEIGHTS / f"{args.name}.safetensors"
    WEIGHTS.mkdir(exist_ok=True)
    if not _same_weights(model, target):   # safetensors' header order varies: keep identical files as they are
        save_model(model, target, dtype=torch.bfloat16)
    agg = report["aggregate"]
    summary = {"psnr": agg["psnr"], "ssim": agg["ssim"], "bpp": agg["bpp"], "ratio": model.ratio,
               "held_out": [Path(v["video"]).name for v in report["videos"]], "steps": checkpoint_step,
               "decode_temperature": args.temperature}
    if test:
        summary["test_psnr"] = test["aggregate"]["psnr"]
        summary["test_clips"] = [Path(v["video"]).name for v in test["videos"]]
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    earlier_lines, baseline_lines = history_from_card(args.history) if args.history else ([], [])
    if baseline:
        summary["baseline_psnr"] = baseline["aggregate"]["psnr"]
    elif baseline_lines:
        summary["baseline_psnr"] = json.loads(args.history.with_suffix(".json").read_text())["baseline_psnr"]
    (WEIGHTS / f"{args.name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [
        f"# {args.name}", "",
        f"{'REGEN' if model.config.architecture == 'regen' else 'MAGVIT-v2 baseline'} model, {model.ratio}x temporal compression "
        f"({sum(p.numel() for p in model.parameters()):,} parameters, stored in bf16: "
        f"{target.stat().st_size / 1e6:.1f} MB).", "",
        "## Training", "",
    ]
    lines += earlier_lines
    for number, earlier in enumerate(args.earlier, len(earlier_lines) + 1):
        ec = json.loads((earlier / "train-config.json").read_text())
        erows = [json.loads(x) for x in (earlier / "metrics.jsonl").read_text().splitlines()]
        elast = [r for r in erows if "loss" in r][-1]
        evals = [r for r in erows if "val_psnr" in r]
        lines += [f"- Stage {number} (earlier run, whose weights the next stage starts from): `{command(ec)}`; "
                  f"{elast['step']} steps, {elast['wall_s'] / 60:.0f} minutes in its last process"
                  + (f", last validation PSNR {evals[-1]['val_psnr']:.2f} dB" if evals else "") + "."]
    lines += [
        f"- {'Final stage' if args.earlier or earlier_lines else 'Command'}: `{command(config)}` (resumed runs continue the same schedule)",
        f"- Data: {args.data_note}" if args.data_note else
        "- Data: the public dev videos fetched by `scripts/fetch_training_data.py`"
        + (" and the still photos its `--images` adds, in the stages whose command has the stills' folder as `--data`"
           if any(Path(d).name == "stills" for d in config["data"]) else "")
        + ", minus the held-out clips below.",
        f"- Seed {config['seed']}, {checkpoint_step} steps, {steps[-1]['wall_s'] / 60:.0f} minutes of training wall time "
        f"in the last (resumed) process, on {args.hardware}.",
        "- Validation PSNR during training (held-out clips, 128 px centre crops, EMA weights): "
        + ", ".join(f"step {v['step']}: {v['val_psnr']:.2f} dB" for v in vals), "",
    ]
    if test:
        lines += test_section(test, model.ratio, args.temperature, args.floor)
    lines += [
        f"## Validation figures (`regen eval`, one sampling step, seed 0, temperature {args.temperature:g})", "",
        f"Validation clips (they chose checkpoints and settings), long side capped at {report['max_side']} px:", "",
        "| clip | frames | size | PSNR (dB) | SSIM | bits/pixel |", "|---|---|---|---|---|---|",
    ]
    for v in report["videos"]:
        lines.append(f"| {Path(v['video']).name} | {v['frames']} | {v['width']}x{v['height']} | {v['psnr']:.2f} | "
                     f"{v['ssim']:.3f} | {v['bpp']:.4f} |")
    lines += [f"| **mean** | | | **{agg['psnr']:.2f}** | **{agg['ssim']:.3f}** | {agg['bpp']:.4f} |", ""]
    lines += resolution_section(args.resolution, config["crop"], model.ratio, args.timing_note)
    if baseline:
        equal = json.loads(args.baseline_regen.read_text()) if args.baseline_regen else report
        lines += baseline_section(equal, baseline, args.baseline_run, args.baseline_regen_steps or steps[-1]["step"],
                                  args.baseline_regen is not None)
    lines += baseline_lines
    for number, path in enumerate(args.temporal):
        lines += temporal_section(json.loads(path.read_text()), heading=number == 0)
    if args.note:
        lines += ["## Notes", "", args.note, ""]
    (WEIGHTS / f"{args.name}.md").write_text("\n".join(lines))
    print(f"wrote {target} and its card")


def test_section(test: dict, ratio: int, temperature: float, floor: float | None) -> list[str]:
    """Per-clip test figures first: the clips decided nothing, so these are what to expect."""
    frames = f" --max-frames {test['max_frames']}" if test.get("max_frames") else ""
    lines = [f"## Test figures (`regen eval DATA/test/* --ratio {ratio} --max-side {test['max_side']}{frames}`, "
             f"one step, seed 0, temperature {temperature:g})", "",
             f"The {len(test['videos'])} test clips of docs/data.md (`scripts/fetch_training_data.py DATA --split test`): "
             "no training stage and no decision of this model used them.", "",
             "| clip | PSNR (dB) | SSIM | bits/pixel |", "|---|---|---|---|"]
    for v in test["videos"]:
        lines.append(f"| {Path(v['video']).name} | {v['psnr']:.2f} | {v['ssim']:.3f} | {v['bpp']:.3f} |")
    agg = test["aggregate"]
    lines += [f"| **mean** | **{agg['psnr']:.2f}** | **{agg['ssim']:.3f}** | **{agg['bpp']:.3f}** |", ""]
    if floor is not None:
        worst = min(v["psnr"] for v in test["videos"])
        met = agg["psnr"] >= floor and worst >= floor - 3
        lines += [f"The floor at {ratio}x is {floor:g} dB for the mean, with no clip more than 3 dB under it: the mean "
                  f"is {agg['psnr']:.2f} dB and the worst clip {worst:.2f} dB, so it is {'met' if met else 'not met'}.", ""]
    return lines


def history_from_card(card: Path) -> tuple[list[str], list[str]]:
    """The stage lines and the baseline section of an earlier card (scripts/bundle_model.py's own
    format): its stages as they were, its final stage as one more earlier stage with the steps,
    minutes and last validation PSNR that card recorded."""
    text = card.read_text().splitlines()
    stages = [line for line in text if line.startswith("- Stage ")]
    final = next(line for line in text if line.startswith(("- Final stage: ", "- Command: ")))
    seed = next(line for line in text if line.startswith("- Seed "))
    vals = next((line for line in text if line.startswith("- Validation PSNR")), "")
    cmd = re.search(r"`([^`]*)`", final).group(1)
    steps, minutes = re.match(r"- Seed \d+, (\d+) steps, (\d+) minutes", seed).groups()
    last_val = re.findall(r"([\d.]+) dB", vals)
    stages.append(f"- Stage {len(stages) + 1} (earlier run, whose weights the next stage starts from): `{cmd}`; "
                  f"{steps} steps, {minutes} minutes in its last process"
                  + (f", last validation PSNR {last_val[-1]} dB" if last_val else "") + ".")
    start = next((i for i, line in enumerate(text) if line.startswith("## Against the MAGVIT-v2 baseline")), None)
    if start is None:
        return stages, []
    end = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
    return stages, text[start:end]


def _same_weights(model, target: Path) -> bool:
    if not target.exists():
        return False
    stored = load_model(target)
    if stored.config != model.config:
        return False
    theirs = stored.state_dict()
    return all(torch.equal(v.to(torch.bfloat16).float(), theirs[k]) for k, v in model.state_dict().items())


def resolution_section(paths: list[Path], crop: int, ratio: int, timing_note: str) -> list[str]:
    if not paths:
        return []
    reports = sorted((json.loads(p.read_text()) for p in paths), key=lambda r: r["crop"])
    clips = [Path(v["video"]).name for v in reports[0]["videos"]]
    lines = ["## Resolution generalisation", "",
             f"Trained on {crop}x{crop} crops. Validation clips (long side capped at {reports[0]['max_side']} px), "
             "centre-cropped squares of each side; decode time per chunk of "
             f"{ratio + 1} frames {timing_note}.", "",
             "| crop | " + " | ".join(clips) + " | mean PSNR (dB) | s per chunk |",
             "|---" * (len(clips) + 3) + "|"]
    for r in reports:
        per_chunk = (ratio + 1) / r["aggregate"]["decode_fps"]
        lines.append(f"| {r['crop']}x{r['crop']} ({r['crop'] / crop:g}x) | "
                     + " | ".join(f"{v['psnr']:.2f}" for v in r["videos"])
                     + f" | **{r['aggregate']['psnr']:.2f}** | {per_chunk:.2f} |")
    return lines + [""]


PATH_FIELDS = {"data": "DATA", "val": "DATA", "out": "runs", "init": "runs", "cache_dir": "CACHE"}


def portable(path: str, placeholder: str) -> str:
    """A path as a card may print it: relative to this folder when inside it, else under a
    placeholder (no development machine's absolute path in a committed card)."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        return path
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return f"{placeholder}/{p.name}"


def command(config: dict) -> str:
    """The `regen train` command line that reproduces a run's train-config.json (portable paths)."""
    config = {k: ([portable(x, PATH_FIELDS[k]) for x in v] if isinstance(v, list) else portable(v, PATH_FIELDS[k]))
              if k in PATH_FIELDS and v else v for k, v in config.items()}
    data_flags = " ".join(f"--data {d}" for d in config["data"]) + " " + " ".join(f"--val {v}" for v in config["val"])
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in sorted(config.items())
                     if k not in ("data", "val") and not isinstance(v, bool) and v != "")
    bools = " ".join(f"--{'' if v else 'no-'}{k.replace('_', '-')}" for k, v in sorted(config.items()) if isinstance(v, bool))
    return f"regen train {data_flags} {flags} {bools}"


def baseline_section(report: dict, base: dict, base_run: Path | None, regen_steps: int, earlier: bool) -> list[str]:
    lines = ["## Against the MAGVIT-v2 baseline at equal budget", ""]
    if earlier:
        lines += ["The equal-budget comparison is with the REGEN model as it was at the end of the stage "
                  "that had the same budget as the baseline (stage 1 above), not with the longer-trained "
                  "weights bundled here.", ""]
    if base_run is not None:
        bconf = json.loads((base_run / "train-config.json").read_text())
        bsteps = [json.loads(x) for x in (base_run / "metrics.jsonl").read_text().splitlines()]
        bsteps = [r for r in bsteps if "loss" in r]
        lines += [f"Same encoder size and initialisation, same data, seed and wall-time limit "
                  f"({bconf.get('time_limit', 0):g} minutes, one CPU thread each, run side by side); "
                  f"REGEN made {regen_steps} steps, the baseline {bsteps[-1]['step']} "
                  "(its decoder produces every frame of a chunk, REGEN's a random subset of target frames).", ""]
    lines += ["| clip | REGEN PSNR | MAGVIT-v2 PSNR | REGEN SSIM | MAGVIT-v2 SSIM |", "|---|---|---|---|---|"]
    for a, b in zip(report["videos"], base["videos"]):
        lines.append(f"| {Path(a['video']).name} | {a['psnr']:.2f} | {b['psnr']:.2f} | {a['ssim']:.3f} | {b['ssim']:.3f} |")
    ra, ba = report["aggregate"], base["aggregate"]
    lines += [f"| **mean** | **{ra['psnr']:.2f}** | **{ba['psnr']:.2f}** | {ra['ssim']:.3f} | {ba['ssim']:.3f} |", "",
              f"Margin: {ra['psnr'] - ba['psnr']:+.2f} dB PSNR, {ra['ssim'] - ba['ssim']:+.3f} SSIM.", ""]
    return lines


def temporal_section(bench: dict, heading: bool = True) -> list[str]:
    factor = bench["clips"][0]["interpolation"].get("factor", 2)
    kept = "every other frame" if factor == 2 else f"from every {factor}th frame"
    blend = "average" if factor == 2 else "blend"
    lines = ["## Interpolation and extrapolation (`python -m benchmarks.bench temporal`)", ""] if heading else []
    lines += [f"x{factor} interpolation {'of ' if factor == 2 else ''}{kept}, PSNR (dB) of the rebuilt frames against the dropped originals"
              + ("" if factor == 2 else " (baselines blend the two neighbours by time distance)") + ":", "",
              f"| clip | size | interpolated | decode-then-{blend} | lossless {blend} |", "|---|---|---|---|---|"]
    for c in bench["clips"]:
        i = c["interpolation"]
        lines.append(f"| {Path(c['video']).name} | {c['size']} | {i['interpolated']:.2f} | "
                     f"{i['decode_then_average']:.2f} | {i['lossless_average']:.2f} |")
    m = bench["mean"]["interpolation"]
    lines += [f"| **mean** | | **{m['interpolated']:.2f}** | {m['decode_then_average']:.2f} | "
              f"{m['lossless_average']:.2f} |", ""]
    names = {"forward": "Forward (context ends with a full chunk)", "backward": "Backward",
             "forward_partial_last_chunk": "Forward from a video whose last chunk is partial (prediction starts from "
                                           "its own last k+1 source frames, as `regen extrapolate clip.mp4` does; "
                                           "only the clips where the context did not end on a whole chunk)",
             "forward_partial_last_chunk_rgl": "Forward from an .rgl whose last chunk is partial (re-encoded decoded "
                                               "frames; the same clips)"}
    for direction, e in bench["mean"]["extrapolation"].items():
        n = len(e["predicted"])
        lines += [f"{names[direction]}: extrapolation of {n} held-out frames, mean PSNR (dB) over the clips "
                  "by distance from the video:", "",
                  "| | " + " | ".join(str(d + 1) for d in range(n)) + " |", "|---" * (n + 1) + "|",
                  "| predicted | " + " | ".join(f"{x:.2f}" for x in e["predicted"]) + " |",
                  "| copy nearest decoded | " + " | ".join(f"{x:.2f}" for x in e["copy_nearest_decoded"]) + " |", ""]
    return lines


if __name__ == "__main__":
    main()
