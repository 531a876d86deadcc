"""Developer script: cut the small real test clips in tests/data from the dev videos.

Run from the repository root with the shared dev videos beside it:
    python tests/data/make_clips.py ../shared/data/videos
Short clips are cut by copying the first packets (no re-encoding, so container and codec
stay those of the source); the long clip is re-encoded small. Tests never need the source.
"""

import sys
from pathlib import Path

import av

OUT = Path(__file__).parent
CUTS = {  # source file -> (output name, packets to keep)
    "tree.avi": ("tree-cinepak.avi", 12),
    "vtest.avi": ("vtest-msmpeg4.avi", 6),
    "Megamind.avi": ("megamind-mpeg4.avi", 8),
    "motion.mov": ("motion-h264.mov", 12),
    "balle1-vp9.avi": ("balle-vp9.avi", 12),
    "Effet_force_magnetique.ogv": ("magnet-theora.ogv", 34),
}


def cut(src: Path, dst: Path, packets: int) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
        stream = inp.streams.video[0]
        ostream = out.add_stream_from_template(stream, opaque=True)
        kept = 0
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = ostream
            out.mux(packet)
            kept += 1
            if kept == packets:
                break


def long_clip(src: Path, dst: Path, frames: int) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=inp.streams.video[0].average_rate)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.options = {"crf": "32", "preset": "veryslow"}
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            out.mux(stream.encode(frame.reformat(width=48, height=32, format="yuv420p")))
        out.mux(stream.encode(None))


if __name__ == "__main__":
    videos = Path(sys.argv[1])
    for name, (out_name, packets) in CUTS.items():
        cut(videos / name, OUT / out_name, packets)
    long_clip(videos / "wannaworktogether.mp4", OUT / "long-1200.mp4", 1200)
