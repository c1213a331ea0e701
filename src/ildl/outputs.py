"""Output folders of the commands (``--out``): checked before any work, created when needed, and
earlier results never replaced unless the user asks (``--overwrite``).

A command that works for minutes must not fail at the end because ``--out`` names a file, nor
write over what an earlier run (or the user) left there. So it checks first, and writes last::

    >>> check_out_folder("runs/val", "pr_curves.png needs a folder")     # before any work
    >>> check_new_files(["runs/val/pr_curves.png"], overwrite=False, out="runs/val")
    >>> make_out_folder("runs/val")                                      # when writing starts

``ildl detect`` (train, val, predict, export) and ``ildl explain image`` use them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .errors import ArgumentError, OverwriteError


def is_path(value) -> bool:
    """Whether ``value`` can name a file or folder: a non-empty string without a NUL byte."""
    return isinstance(value, str) and value != "" and "\0" not in value


def check_out_folder(out, needs: str) -> None:
    """Refuse an ``--out`` that cannot be an output folder, before any work: not a path, or an
    existing file. ``needs`` says what the folder is for, in the message ("the run needs a
    folder for best.pt and last.pt")."""
    if not is_path(out):
        raise ArgumentError(f"--out {out!r} is not valid: it must be a path")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OverwriteError(f"--out {out!r} is a file; {needs}: choose another --out")


def make_out_folder(out: str, folder: str | None = None) -> None:
    """Create the folder ``--out`` names (or ``folder``, the one its file goes in) with its
    parents; what the system refuses (a file on the way, no permission, a read-only disk, a
    name too long) raises ``ArgumentError`` naming ``--out``."""
    folder = out if folder is None else folder
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        where = "the folder" if folder == out else f"its folder {folder!r}"
        raise ArgumentError(f"--out {out!r}: cannot create {where} ({error.strerror}); choose "
                            "another --out") from None


def check_new_files(paths: Sequence[str], overwrite: bool, out: str,
                    inputs: Sequence[str] = ()) -> None:
    """Refuse to write ``paths`` where that would lose something: over one of the ``inputs``
    (never, whatever ``overwrite`` says), or over an existing file unless ``overwrite``."""
    inputs = {os.path.realpath(path) for path in inputs}
    for path in paths:
        if os.path.realpath(path) in inputs:
            raise OverwriteError(f"--out {out!r}: writing {path} would replace an input of "
                                 "the command; choose another --out")
    existing = [os.path.basename(path) for path in paths if os.path.lexists(path)]
    if existing and not overwrite:
        shown = ", ".join(existing[:4]) + (f" and {len(existing) - 4} more"
                                           if len(existing) > 4 else "")
        raise OverwriteError(f"--out {out!r} already holds {shown} from an earlier run; pass "
                             "--overwrite to replace them, or choose another --out")
