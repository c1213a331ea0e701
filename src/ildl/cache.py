"""Where ildl keeps what it downloads or trains once and reuses: ``$ILDL_CACHE`` or
``~/.cache/ildl``, one sub-folder per use (``mnist``, ``gallery``, ``explain``).

The same folder on every platform (on Windows ``%USERPROFILE%\\.cache\\ildl``), rather than each
system's own convention, so that one sentence of documentation holds everywhere."""

from __future__ import annotations

import os


def cache_dir(name: str) -> str:
    """The cache folder for ``name``: ``$ILDL_CACHE/<name>``, by default
    ``~/.cache/ildl/<name>`` (not created here)."""
    root = os.environ.get("ILDL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ildl")
    return os.path.join(root, name)
