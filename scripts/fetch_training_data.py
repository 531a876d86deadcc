#!/usr/bin/env python3
"""Fetch the public training videos of the bundled models, file by file, with SHA-256 checks.

    python scripts/fetch_training_data.py DEST [--only NAME ...]

Every file comes from a Debian (bookworm) package, fetched with `apt-get download` and
unpacked with `dpkg-deb -x` (run `apt-get update` once first on a fresh machine). Only
the files listed here are taken, and each must match its SHA-256: this list is exactly
what the bundled models were trained and evaluated on. `--images` also fetches still
photos (into DEST/images/, same checks) that the bundled models were *not* trained on:
more scenes for image batches (`regen train --image-ratio`) in future runs. Sources and
licences: each package's `copyright` file. Needs apt-get and dpkg-deb (Debian or Ubuntu).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# file name -> (Debian package, path inside the package, SHA-256)
FILES = {
    "vtest.avi": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/vtest.avi",
                  "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"),
    "Megamind.avi": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/Megamind.avi",
                     "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5"),
    "tree.avi": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/tree.avi",
                 "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc"),
    "motion.mov": ("node-opencv", "usr/share/doc/node-opencv/examples/files/motion.mov",
                   "56310ef94122124bd798f2fdbb4f3786ec399ca1793faaf6ebc099ed75212ca8"),
    "realshort.mp4": ("python3-imageio", "usr/lib/python3/dist-packages/imageio/resources/images/realshort.mp4",
                      "a8b35c2c2130453b9ea1172ad4af68ac027bc2483ef0545769684722127bfe18"),
    "movie-hello.mp4": ("forensics-samples-files", "usr/share/forensics-samples/original-files/movie2/movie-hello.mp4",
                        "68162af4e15b20fb61261e55de79e989f53d6295f6226b4bda1905b8c40e9676"),
    "balle-jbart.mp4": ("python3-mecavideo", "usr/share/pymecavideo/data/video/balle-jbart.mp4",
                        "85a4c1934e97e4175582c3f2e233982a4a98ad41ad3415d1f3aa5c0fda04e3dc"),
    "Force_constante.avi": ("python3-mecavideo", "usr/share/pymecavideo/data/video/Force_constante.avi",
                            "b122890388c6550820132ac3dd972610ec68747b721b6877ca03b7c9eae95356"),
    "Principe_inertie.avi": ("python3-mecavideo", "usr/share/pymecavideo/data/video/Principe_inertie.avi",
                             "96383b2f3824fea827031ccd713b5319564bd0ccb73014e4f830d87ec2c8ed73"),
    "retroMars2018.avi": ("python3-mecavideo", "usr/share/pymecavideo/data/video/retroMars2018.avi",
                          "4e1e4ddc6865976bba0912e5150ddcdbed840cf3975597a5bc466daff932e107"),
    "Effet_force_magnetique.ogv": ("python3-mecavideo", "usr/share/pymecavideo/data/video/Effet_force_magnetique.ogv",
                                   "14fd069df7ff3ba4ac743973dcd7bf07f3b6de27686dce500e51dd469271709e"),
    "balle1-vp9.avi": ("python3-mecavideo", "usr/share/pymecavideo/data/video/balle1-vp9.avi",
                       "7d1e3de70031f8cdae5bb9727b0d1023b3126c89b5dec1c622175bb27610f35a"),
    "wannaworktogether.mp4": ("openboard-common", "usr/share/openboard/library/videos/wannaworktogether.mp4",
                              "0659d8c895e01fd01490dc55d2ff9117fb8f3f19b3e1b8198856d8c0e3d612fb"),
}

# Still photos (natural scenes, textures, people) from OpenCV's sample data.
IMAGES = {
    "images/butterfly.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/butterfly.jpg",
                   "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8"),
    "images/orange.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/orange.jpg",
                   "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079"),
    "images/apple.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/apple.jpg",
                   "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd"),
    "images/aero1.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/aero1.jpg",
                   "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef"),
    "images/aero3.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/aero3.jpg",
                   "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4"),
    "images/squirrel_cls.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg",
                   "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b"),
    "images/messi5.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/messi5.jpg",
                   "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"),
    "images/building.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/building.jpg",
                   "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07"),
    "images/fruits.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/fruits.jpg",
                   "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1"),
    "images/board.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/board.jpg",
                   "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f"),
    "images/basketball1.png": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/basketball1.png",
                   "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6"),
    "images/baboon.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/baboon.jpg",
                   "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f"),
    "images/leuvenA.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/leuvenA.jpg",
                   "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f"),
    "images/aloeL.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/aloeL.jpg",
                   "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee"),
    "images/rubberwhale1.png": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/rubberwhale1.png",
                   "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796"),
    "images/chicky_512.png": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/chicky_512.png",
                   "4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e"),
    "images/graf1.png": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/graf1.png",
                   "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5"),
    "images/home.jpg": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/home.jpg",
                   "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2"),
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(dest: Path, names: list[str]) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {n: {**FILES, **IMAGES}[n] for n in names}
    missing = {n: v for n, v in wanted.items() if not ((dest / n).exists() and sha256(dest / n) == v[2])}
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for package in sorted({v[0] for v in missing.values()}):
            print(f"downloading {package}", file=sys.stderr)
            subprocess.run(["apt-get", "download", package], cwd=tmp, check=True)
            deb = next(Path(tmp).glob(f"{package}_*.deb"))
            root = Path(tmp) / package
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            for name, (pkg, inner, digest) in missing.items():
                if pkg != package:
                    continue
                source = root / inner
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.exists():
                    shutil.copyfile(source, target)
                elif source.with_name(source.name + ".gz").exists():   # Debian may gzip files under /usr/share/doc
                    with gzip.open(source.with_name(source.name + ".gz")) as f, open(target, "wb") as out:
                        shutil.copyfileobj(f, out)
                else:
                    print(f"error: {inner} not found in {package}", file=sys.stderr)
                    failures += 1
                    continue
                if sha256(target) != digest:
                    print(f"error: {name} does not match its SHA-256 (the package changed?)", file=sys.stderr)
                    target.unlink()
                    failures += 1
    for name in wanted:
        ok = (dest / name).exists() and sha256(dest / name) == wanted[name][2]
        print(f"{'ok     ' if ok else 'MISSING'} {name}")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--only", nargs="+", choices=sorted({**FILES, **IMAGES}), help="fetch only these files")
    parser.add_argument("--images", action="store_true", help="also fetch the still photos (DEST/images/)")
    args = parser.parse_args()
    sys.exit(fetch(args.dest, args.only or sorted(FILES) + (sorted(IMAGES) if args.images else [])))


if __name__ == "__main__":
    main()
