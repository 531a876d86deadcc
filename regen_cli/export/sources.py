"""The videos an export reads: files, folders (searched recursively) and list files.

A list file is a text file (`.txt`) with one path per line; blank lines and lines starting
with `#` are skipped, and relative paths are relative to the list file's folder. Folders
contribute the files with a video extension; a file named on the command line or in a list
is taken whatever its extension (a file that is not a video becomes a failed record).
The result is sorted and free of duplicates, so every run and every rank sees the same
numbered list. The video extensions are the video reader's (`io.video.VIDEO_EXTS`), as in training.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidArgument, NotFound
from ..io.video import VIDEO_EXTS

LIST_EXTS = frozenset({".txt"})


def _videos_under(folder: Path) -> list[Path]:
    return [f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTS
            and not any(part.startswith(".") for part in f.relative_to(folder).parts)]


def _listed(list_file: Path) -> list[Path]:
    found = []
    for line in list_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        path = Path(line).expanduser()
        path = path if path.is_absolute() else list_file.parent / path
        found += _videos_under(path) if path.is_dir() else [path]   # a missing one fails as a record
    return found


def list_sources(paths: list[Path]) -> list[Path]:
    """The videos under `paths` (video files, folders, `.txt` lists), sorted, without duplicates.

    A missing path given directly is an error; a missing path inside a list file is kept
    (it becomes a failed record of the export)."""
    if not paths:
        raise InvalidArgument("no inputs given")
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += _videos_under(p)
        elif p.is_file():
            found += _listed(p) if p.suffix.lower() in LIST_EXTS else [p]
        else:
            raise NotFound(f"input not found: {p}")
    unique = {}
    for f in found:
        unique.setdefault(str(f.resolve()) if f.exists() else str(f.absolute()), f)
    result = sorted(unique.values(), key=str)
    if not result:
        raise InvalidArgument(f"no videos found in {', '.join(map(str, paths))}")
    return result
