"""Optional packages (lime, shap, OpenCV, onnx, ...): imported only by the functions that use
them, so ``import ildl.explain`` or ``import ildl.detect`` works without them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError


def require(module: str, purpose: str, extra: str) -> ModuleType:
    """Import ``module``, or fail saying what needed it and which extra of ildl installs it.

    >>> lime_image = require("lime.lime_image", "method='lime'", extra="explain")
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"{purpose} needs {module!r}, which cannot be imported ({error}); "
            f'install it with: pip install "ildl[{extra}]"') from error
