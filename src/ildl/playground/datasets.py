"""The points a configuration asks for: ildl.data's toy sets, two regression surfaces, or a CSV.

Each built-in dataset is one function call, kept as ``DatasetCall`` (the function's module, name
and arguments). The session makes the call; the exported script writes the same call out as
text. So page and script cannot drift apart: there is one place that says what "spiral with
noise 0.1" means.
"""

from __future__ import annotations

import importlib
import math
from typing import NamedTuple

import numpy as np

from .config import Config

GAUSS_RADIUS = 1.2  # gauss: the class centres sit on a circle of this radius
GAUSS_SPREAD = 0.3  # gauss: the clusters' standard deviation at noise 0
BUMP_WIDTH = 0.35  # bumps: the standard deviation of each Gaussian bump


class DatasetCall(NamedTuple):
    module: str  # "ildl.data" or this module
    function: str  # e.g. "make_spirals"
    arguments: dict  # keyword arguments after the number of points

    def run(self, points: int) -> tuple[np.ndarray, np.ndarray]:
        function = getattr(importlib.import_module(self.module), self.function)
        return function(points, **self.arguments)


def dataset_call(config: Config) -> DatasetCall:
    """The call that draws ``config``'s built-in dataset (not for the uploaded CSV)."""
    seed, noise = config.data_seed, config.noise
    data = "ildl.data"
    calls = {
        "circle": DatasetCall(data, "make_circles", {"noise": noise, "factor": 0.5,
                                                     "random_state": seed}),
        "xor": DatasetCall(data, "make_xor", {"noise": noise, "random_state": seed}),
        "gauss": DatasetCall(data, "make_blobs", {
            "centers": gauss_centers(config.classes if config.problem == "multiclass" else 2),
            "cluster_std": round(GAUSS_SPREAD + noise, 10), "random_state": seed}),
        "spiral": DatasetCall(data, "make_spirals", {
            "n_classes": config.classes if config.problem == "multiclass" else 2,
            "noise": noise, "random_state": seed}),
        "moons": DatasetCall(data, "make_moons", {"noise": noise, "random_state": seed}),
        "plane": DatasetCall(__name__, "make_plane", {"noise": noise, "random_state": seed}),
        "bumps": DatasetCall(__name__, "make_bumps", {"noise": noise, "random_state": seed}),
    }
    return calls[config.dataset]


def gauss_centers(classes: int) -> list[list[float]]:
    """``classes`` centres evenly spaced on a circle, the first at 45 degrees (rounded, so that
    the exported script writes exactly the numbers used)."""
    angles = [math.pi / 4 + 2 * math.pi * k / classes for k in range(classes)]
    return [[round(GAUSS_RADIUS * math.cos(a), 6), round(GAUSS_RADIUS * math.sin(a), 6)]
            for a in angles]


def held_out_fraction(config: Config) -> float:
    """``train_test_split``'s ``test_size`` for the configuration's train ratio (rounded so that
    0.3 is written 0.3, not 0.30000000000000004)."""
    return round(1 - config.train_ratio, 10)


# -- the regression surfaces (ildl.data holds classification sets only) ----------------------------

def make_plane(n_samples: int, *, noise: float = 0.0, random_state: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2 with the target ``(x1 + x2) / 2`` plus N(0, noise^2) noise.

    Returns x float64 ``(n_samples, 2)`` and y float64 ``(n_samples,)``.
    """
    rng = np.random.RandomState(random_state)
    x = rng.uniform(-1, 1, size=(n_samples, 2))
    y = (x[:, 0] + x[:, 1]) / 2 + rng.normal(scale=noise, size=n_samples)
    return x, y


def make_bumps(n_samples: int, *, noise: float = 0.0, random_state: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2 with the target a positive Gaussian bump at (0.5, 0.5) and a
    negative one at (-0.5, -0.5), ``exp(-|x - c|^2 / (2 w^2))`` each, plus N(0, noise^2) noise.

    Returns x float64 ``(n_samples, 2)`` and y float64 ``(n_samples,)``.
    """
    rng = np.random.RandomState(random_state)
    x = rng.uniform(-1, 1, size=(n_samples, 2))
    y = _bump(x, (0.5, 0.5)) - _bump(x, (-0.5, -0.5))
    return x, y + rng.normal(scale=noise, size=n_samples)


def _bump(x: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    return np.exp(-((x - np.asarray(centre)) ** 2).sum(axis=1) / (2 * BUMP_WIDTH**2))
