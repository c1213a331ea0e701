"""The input features the network may see: the two coordinates and five functions of them.

A network with only ``x1, x2`` must bend its boundary out of many units; given ``x1^2`` and
``x2^2`` a single unit draws a circle. Each feature is kept twice, as a function of the points
``x`` of shape ``(N, 2)`` and as the NumPy text the exported Python code writes; a test checks
that both give the same numbers, so the page and the script train on the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Feature(NamedTuple):
    label: str  # as the page shows it
    code: str  # the NumPy expression on x (N, 2), as the exported script writes it
    function: Callable[[np.ndarray], np.ndarray]  # x (N, 2) -> (N,)


FEATURES: dict[str, Feature] = {
    "x1": Feature("x₁", "x[:, 0]", lambda x: x[:, 0]),
    "x2": Feature("x₂", "x[:, 1]", lambda x: x[:, 1]),
    "x1x1": Feature("x₁²", "x[:, 0] ** 2", lambda x: x[:, 0] ** 2),
    "x2x2": Feature("x₂²", "x[:, 1] ** 2", lambda x: x[:, 1] ** 2),
    "x1x2": Feature("x₁x₂", "x[:, 0] * x[:, 1]", lambda x: x[:, 0] * x[:, 1]),
    "sinx1": Feature("sin x₁", "np.sin(x[:, 0])", lambda x: np.sin(x[:, 0])),
    "sinx2": Feature("sin x₂", "np.sin(x[:, 1])", lambda x: np.sin(x[:, 1])),
}


def compute_features(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The network's inputs ``(N, len(names))`` for points ``x`` of shape ``(N, 2)``."""
    return np.column_stack([FEATURES[name].function(x) for name in names])


def features_code(names: tuple[str, ...]) -> str:
    """``compute_features`` as the exported script writes it:
    ``np.column_stack([x[:, 0], ...])``."""
    return "np.column_stack([" + ", ".join(FEATURES[name].code for name in names) + "])"
