"""The figures of the gallery, each a small function registered with its caption and code."""

from __future__ import annotations

# Each area registers its figures on import.
from . import (  # noqa: F401
    figures_boundaries,
    figures_detection,
    figures_explain,
    figures_misc,
    figures_surfaces,
)
