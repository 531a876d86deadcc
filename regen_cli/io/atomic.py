"""Atomic output files: write to a hidden temporary file beside the target, rename when done.

An interrupted run (an exception, Ctrl-C, even SIGKILL) never leaves a partial file under
the target name; at most a hidden `.NAME.*.tmp` file is left behind after SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
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


@contextlib.contextmanager
def atomic_output(path: Path, overwrite: bool) -> Iterator[Path]:
    """Yields a temporary path; renames it to `path` if the block succeeds, deletes it otherwise."""
    check_output(path, overwrite)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
