"""Write files atomically: readers see the old file or the complete new one, never a partial one.

The content goes to a temporary file in the same folder, which is flushed to disk and then renamed
over the target (``os.replace`` is atomic on one file system). Used for model files, checkpoints,
downloads and the gallery's outputs.

A temporary is named ``.tmp-XXXXXXXX-<name of the target>``. A write that fails or is interrupted
(Ctrl-C) removes its own; a process killed outright (SIGKILL, the out-of-memory killer, a power
cut) cannot. So a write also removes the temporaries in its folder that nobody has written to for
``STALE_AFTER_SECONDS`` (a live write keeps its temporary's modification time fresh, a killed one
leaves it frozen); it looks at most once per ``STALE_AFTER_SECONDS`` per folder, so writing many
files into one folder does not list it again and again.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from typing import BinaryIO

_REPLACE_ATTEMPTS, _REPLACE_WAIT_SECONDS = 11, 0.1  # see _replace
STALE_AFTER_SECONDS = 600
_PREFIX = ".tmp-"
# mkstemp puts 8 characters of [a-z0-9_] between the prefix and the suffix "-<target name>".
_TEMPORARY_NAME = re.compile(re.escape(_PREFIX) + r"[a-z0-9_]{8}-.+")
_last_sweep: dict[str, float] = {}  # folder -> when this process last cleaned it


def _default_mode() -> int:
    # mkstemp creates files readable by their owner only; give the final file the permissions a
    # plain open() would have (0666 minus the umask).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _replace(temporary: str, path: str) -> None:
    """``os.replace``, tried again for up to a second when refused: on Windows, a file that
    another program holds open (a virus scanner, a search indexer, an image viewer) cannot be
    replaced until that program lets go of it. The last refusal is raised."""
    for _ in range(_REPLACE_ATTEMPTS - 1):
        try:
            os.replace(temporary, path)
            return
        except PermissionError:
            time.sleep(_REPLACE_WAIT_SECONDS)
    os.replace(temporary, path)


def remove_stale_temporaries(folder: str) -> list[str]:
    """Delete the temporaries of killed writes in ``folder`` (untouched for
    ``STALE_AFTER_SECONDS``); returns their paths."""
    removed = []
    oldest_live = time.time() - STALE_AFTER_SECONDS
    try:
        entries = list(os.scandir(folder))
    except OSError:  # the folder is unreadable: nothing to clean there
        return removed
    for entry in entries:
        if not _TEMPORARY_NAME.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and \
                    entry.stat(follow_symlinks=False).st_mtime < oldest_live:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:  # removed meanwhile by another process, or not ours to remove
            continue
    return removed


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary binary file, then move it to ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if time.time() - _last_sweep.get(folder, -math.inf) > STALE_AFTER_SECONDS:
        remove_stale_temporaries(folder)
        _last_sweep[folder] = time.time()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=_PREFIX, suffix="-" +
                                         os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _default_mode())
        _replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_bytes_atomically(path: str | os.PathLike, content: bytes) -> None:
    write_atomically(path, lambda file: file.write(content))
