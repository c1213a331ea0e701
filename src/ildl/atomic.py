"""Write files atomically: readers see the old file or the complete new one, never a partial one.

The content goes to a temporary file in the same folder, which is flushed to disk and then renamed
over the target (``os.replace`` is atomic on one file system). Used for model files, checkpoints,
downloads and the gallery's outputs.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from typing import BinaryIO

_REPLACE_ATTEMPTS, _REPLACE_WAIT_SECONDS = 11, 0.1  # see _replace


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


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary binary file, then move it to ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" +
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
