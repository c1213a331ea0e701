"""The figures of the gallery, each a small function registered with its caption and code."""

from __future__ import annotations

# Each area registers its figures on import.
from . import figures_boundaries, figures_detection, figures_misc, figures_surfaces  # noqa: F401
