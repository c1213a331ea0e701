"""Optional packages (lime, shap, scikit-image, OpenCV): imported only by the methods that use
them, so ``import ildl.explain`` works without them."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module``, or fail saying which method needed it and how to install it.

    >>> lime_image = require("lime.lime_image", "method='lime'")
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{purpose} needs {module!r}, which cannot be imported ({error}); "
                          f'install the optional packages with: pip install "ildl[explain]"'
                          ) from error
