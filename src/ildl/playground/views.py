"""What the page draws of a model: the output over a grid of the plane, and each neuron's map.

Everything is sent as bytes (base64 in the JSON), one byte per value, so a frame of a 100x100
boundary and a few dozen neuron maps is some 30 kB and the page can redraw it 20 times a second:

* boundary: the output on ``GRID x GRID`` points, row 0 at the top (largest x2). Classification
  sends each class's probability (``p * 255``; channels-last: pixel 0 class 0, pixel 0 class 1,
  ...); regression the output scaled so that the targets' range ``[low, high]`` maps to 0..255.
* neurons: all seven features (used or not, in ``FEATURES``' order) and every Dense unit on
  every ``NEURON_STRIDE``-th grid point, ``(value / scale + 1) * 127.5`` with ``scale`` the
  unit's largest absolute value there (sent), so 127.5 is zero, 0 is ``-scale`` and 255 is
  ``+scale``; maps are unit by unit, layer by layer.
"""

from __future__ import annotations

import base64

import numpy as np

from .. import nn
from .features import FEATURES, compute_features

GRID = 100
NEURON_STRIDE = 4  # neuron maps: every 4th grid point, 25 x 25
MARGIN = 0.1  # the plane shown reaches 10% beyond the data on each side
DECIMALS = 4  # weights and points are sent rounded, for the eye and the hover text


def plane_domain(x: np.ndarray) -> list[float]:
    """``[x1_min, x1_max, x2_min, x2_max]``: a square around the points ``x`` (N, 2), so circles
    look round, with a margin."""
    low, high = x.min(axis=0), x.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2, 1e-6) * (1 + MARGIN)
    return [float(centre[0] - half), float(centre[0] + half),
            float(centre[1] - half), float(centre[1] + half)]


def grid_points(domain: list[float], size: int = GRID) -> np.ndarray:
    """The centres of a ``size x size`` grid of pixels over ``domain``, shape ``(size**2, 2)``,
    row by row from the top (largest x2) and left to right (smallest x1) in each row."""
    x1_min, x1_max, x2_min, x2_max = domain
    step1, step2 = (x1_max - x1_min) / size, (x2_max - x2_min) / size
    x1 = x1_min + step1 * (np.arange(size) + 0.5)
    x2 = x2_max - step2 * (np.arange(size) + 0.5)
    columns, rows = np.meshgrid(x1, x2)
    return np.column_stack([columns.ravel(), rows.ravel()])


def render(model: nn.Sequential, features: tuple[str, ...], domain: list[float],
           problem: str, target_range: tuple[float, float]) -> dict:
    """The boundary and the neuron maps of ``model`` over ``domain`` (see the module's text)."""
    points = grid_points(domain)
    outputs = model.predict(compute_features(points, features), batch_size=len(points))
    dense = [layer for layer in model.layers if isinstance(layer, nn.Dense)]
    # predict ran the whole grid as one batch, so each layer holds its outputs on all of it;
    # every feature is drawn, the unused ones too (the page greys them out)
    maps = [compute_features(points, tuple(FEATURES))] + [layer.outputs for layer in dense]
    coarse = [_every_stride(values) for values in maps]
    scales = np.concatenate([np.abs(values).max(axis=0) for values in coarse])
    scales = np.where(np.isfinite(scales) & (scales > 0), scales, 1.0)
    neuron_bytes = np.concatenate([values.T.ravel() for values in coarse]).reshape(
        len(scales), -1) / scales[:, None]
    return {
        "boundary": _boundary(outputs, problem, target_range),
        "neurons": {"size": GRID // NEURON_STRIDE,
                    "data": _encode((neuron_bytes + 1) * 127.5),
                    "scales": _rounded(scales)},
    }


def weights_of(model: nn.Sequential) -> list[dict]:
    """Each Dense layer's kernel ``(inputs, units)`` and bias ``(units,)`` as rounded lists."""
    return [{"kernel": _rounded(layer.params["kernel"]), "bias": _rounded(layer.params["bias"])}
            for layer in model.layers if isinstance(layer, nn.Dense)]


def points_of(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """``[[x1, x2, label or target], ...]`` for the page's scatter plot."""
    return _rounded(np.column_stack([x, y.reshape(len(x))]))


def _boundary(outputs: np.ndarray, problem: str, target_range: tuple[float, float]) -> dict:
    if problem == "regression":
        low, high = target_range
        scaled = (outputs - low) / max(high - low, 1e-12)
        return {"size": GRID, "channels": 1, "range": [low, high], "data": _encode(scaled * 255)}
    return {"size": GRID, "channels": outputs.shape[1], "data": _encode(outputs * 255)}


def _every_stride(values: np.ndarray) -> np.ndarray:
    """Grid values ``(GRID**2, units)`` -> the coarse grid's ``(coarse**2, units)``."""
    middle = NEURON_STRIDE // 2
    grid = values.reshape(GRID, GRID, -1)[middle::NEURON_STRIDE, middle::NEURON_STRIDE]
    return grid.reshape(-1, values.shape[1])


def _encode(values: np.ndarray) -> str:
    """Values meant for 0..255 as base64 bytes (NaN and overflow clipped, never wrapped)."""
    clipped = np.clip(np.nan_to_num(values, nan=127.5), 0, 255)
    return base64.b64encode(np.rint(clipped).astype(np.uint8).tobytes()).decode("ascii")


def _rounded(values: np.ndarray) -> list:
    return np.round(np.nan_to_num(np.asarray(values, dtype=np.float64)), DECIMALS).tolist()
