"""Atomic output files: write to a hidden temporary file beside the target, rename when done.

An interrupted run (an exception, Ctrl-C, even SIGKILL) never leaves a partial file under
the target name. Only SIGKILL (or a power cut) can leave the hidden temporary file,
`.NAME.regen-HOST-PID-RANDOM.tmp`; the next run that writes into the same folder removes
such files when they are stale: written on this host by a process that no longer runs,
or older than a day (a writer on another host sharing the folder may still be alive).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Iterator

from ..errors import InvalidArgument, NotFound, OutputError, OutputExists


def check_output(path: Path, overwrite: bool) -> None:
    """Refuses an output that exists (unless `overwrite`), is a folder, or has no folder."""
    if path.exists() and not overwrite:
        raise OutputExists(path)
    if path.is_dir():
        raise InvalidArgument(f"{path} is a directory; give an output file name")
    if not path.parent.exists():
        raise NotFound(f"output folder {path.parent} does not exist")


def default_file_mode() -> int:
    """The permissions `open(path, "w")` would give a new file (0o666 minus the umask);
    temporary files are created 0o600 and get these before the rename."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


STALE_AFTER_S = 24 * 3600
_TEMP = re.compile(r"\..+\.regen-(?P<host>[A-Za-z0-9_-]*)-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:64]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Removes regen's own left-over temporary files in `folder` (see the module docstring);
    returns them. Other files are never touched, and errors are ignored."""
    removed = []
    host, now = _host(), time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
            if old or (match["host"] == host and not _running(int(match["pid"]))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_output(path: Path, overwrite: bool) -> Iterator[Path]:
    """Yields a temporary path; renames it to `path` if the block succeeds, deletes it otherwise."""
    check_output(path, overwrite)
    remove_stale_temporaries(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.regen-{_host()}-{os.getpid()}-",
                                        suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot create a file in {path.parent}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise OutputError(f"disk full while writing {path}; free some space and run again") from None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.EDQUOT):
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
