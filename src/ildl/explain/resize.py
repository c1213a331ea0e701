"""Bilinear resizing of heat maps and masks: a coarse map (a convolution's 7x7 grid, a RISE mask)
becomes a map over the image's pixels."""

from __future__ import annotations

import numpy as np


def resize_bilinear(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize the last two axes of ``values`` ``(..., h, w)`` to ``size = (H, W)``.

    Output pixel ``i`` reads the input at ``(i + 1/2) h / H - 1/2`` (pixel centres aligned, the
    position clamped to the image), mixing its two neighbours linearly along each axis: the
    convention of ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``.

    >>> resize_bilinear(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]])
    """
    values = np.asarray(values, dtype=np.float64)
    for axis, length in ((-2, size[0]), (-1, size[1])):
        below, above, fraction = _neighbours(values.shape[axis], int(length))
        shape = [1] * values.ndim
        shape[axis] = len(fraction)  # broadcast the weights along this axis only
        fraction = fraction.reshape(shape)
        values = np.take(values, below, axis=axis) * (1 - fraction) \
            + np.take(values, above, axis=axis) * fraction
    return values


def _neighbours(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``target`` output positions: the input index below, above, and the weight of
    the one above."""
    position = np.clip((np.arange(target) + 0.5) * source / target - 0.5, 0, source - 1)
    below = np.floor(position).astype(int)
    return below, np.minimum(below + 1, source - 1), position - below
