#!/usr/bin/env python3
"""Fetch the public training videos of the bundled models, file by file, with SHA-256 checks.

    python scripts/fetch_training_data.py DEST [--only NAME ...]

Every file comes from a Debian (bookworm) package, fetched with `apt-get download` and
unpacked with `dpkg-deb -x` (run `apt-get update` once first on a fresh machine). Only
the files listed here are taken, and each must match its SHA-256: this list is exactly
what the bundled models were trained and evaluated on. Sources and licences: each
package's `copyright` file. Needs apt-get and dpkg-deb (Debian or Ubuntu).
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


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(dest: Path, names: list[str]) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {n: FILES[n] for n in names}
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
    parser.add_argument("--only", nargs="+", choices=sorted(FILES), help="fetch only these files")
    args = parser.parse_args()
    sys.exit(fetch(args.dest, args.only or sorted(FILES)))


if __name__ == "__main__":
    main()
