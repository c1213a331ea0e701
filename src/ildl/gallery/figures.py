"""The figures of the gallery, each a small function registered with its caption and code.

Each area registers its figures when its module is imported, so the order of the imports below
is the order of ``ildl gallery --list`` and of the index page: decision boundaries and
overfitting, then the single plots, detection and explanations, and the loss surfaces last.
"""

from __future__ import annotations

# isort: off
from . import figures_boundaries  # noqa: F401
from . import figures_misc  # noqa: F401
from . import figures_detection  # noqa: F401
from . import figures_explain  # noqa: F401
from . import figures_surfaces  # noqa: F401
# isort: on
