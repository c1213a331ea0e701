"""Checks on what an explainer is given: one image, a class it can explain, a model whose outputs
are probabilities. Each error says what came, what was expected and how to fix it."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from ..validation import as_array

# float32 softmax rows sum to 1 within ~1e-6; anything further off is not a probability vector.
_SUM_TOLERANCE = 1e-4


def check_image(image, expected_shape: tuple) -> np.ndarray:
    """One image ``(H, W, C)`` as float64, matching ``expected_shape`` (entries None: any size).

    >>> check_image(np.zeros((28, 28, 1)), (28, 28, 1)).shape
    (28, 28, 1)
    """
    image = as_array(image, "image", np.dtype(np.float64))
    if image.ndim == 4 and len(image) == 1:
        raise ArgumentError(f"explain takes one image (H, W, C) but got a batch of shape "
                            f"{image.shape}; pass image[0]")
    if image.ndim != 3:
        fix = "add the channel axis: image[..., None]" if image.ndim == 2 else \
            "pass one image, channels last"
        raise ArgumentError(f"explain takes one image of shape (height, width, channels) but got "
                            f"shape {image.shape}; {fix}")
    _check_channels(image, expected_shape[2])
    _check_size(image, expected_shape[:2])
    return image


def _check_channels(image: np.ndarray, channels: int | None) -> None:
    if channels is None or image.shape[2] == channels:
        return
    if channels == 1:
        fix = "convert it to grayscale, e.g. image.mean(axis=-1, keepdims=True)"
    elif image.shape[2] == 1:
        fix = f"repeat its channel: np.repeat(image, {channels}, axis=-1)"
    else:
        fix = f"give it the {channels} channels the model was trained on"
    raise ArgumentError(f"the model expects images with {channels} channel(s) but the image has "
                        f"{image.shape[2]} (shape {image.shape}, channels last); {fix}")


def _check_size(image: np.ndarray, size: tuple) -> None:
    if all(expected in (None, actual) for expected, actual in zip(size, image.shape)):
        return
    height, width = size
    raise ArgumentError(
        f"the model expects {height}x{width} images but the image is "
        f"{image.shape[0]}x{image.shape[1]} (shape {image.shape}); resize it to "
        f"{height}x{width} (e.g. PIL.Image.resize) or use a model made for that size")


def check_probabilities(outputs, rows: int, where: str) -> np.ndarray:
    """Model outputs as float64 ``(rows, K)`` rows of probabilities (>= 0, summing to 1).

    >>> check_probabilities([[0.2, 0.8]], rows=1, where="the predict function 'f'")
    array([[0.2, 0.8]])
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 2 or len(outputs) != rows:
        raise ArgumentError(f"{where} returned shape {outputs.shape} for {rows} image(s); it must "
                            f"return probabilities of shape ({rows}, classes)")
    bad = ~_probability_rows(outputs)
    if bad.any():
        row = int(np.argmax(bad))
        raise ArgumentError(
            f"{where} does not return probabilities: row {row} is {_shorten(outputs[row])} "
            f"(sum {outputs[row].sum():.6g}), but every row must be >= 0 and sum to 1. The "
            f"explainers compare class probabilities: end the model with a softmax, e.g. "
            f"torch.nn.Sequential(module, torch.nn.Softmax(dim=1)), nn.Dense(K, "
            f"activation='softmax'), or return softmax(logits) from the function")
    return outputs


def _probability_rows(outputs: np.ndarray) -> np.ndarray:
    """Which rows of ``(N, K)`` outputs are probabilities: finite, >= 0, summing to 1."""
    return np.isfinite(outputs).all(axis=1) & (outputs.min(axis=1) >= 0) \
        & (np.abs(outputs.sum(axis=1) - 1) <= _SUM_TOLERANCE)


def is_probability_rows(outputs) -> bool:
    """True when model outputs ``(N, K)`` are rows of probabilities (not logits).

    >>> is_probability_rows([[0.2, 0.8]]), is_probability_rows([[2.0, -1.0]])
    (True, False)
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs.ndim == 2 and bool(_probability_rows(outputs).all())


def _shorten(row: np.ndarray) -> str:
    shown = np.array2string(row[:6], precision=4, separator=", ")
    return shown[:-1] + ", ...]" if len(row) > 6 else shown


def check_target(target, probabilities: np.ndarray) -> int:
    """The class to explain: ``target``, or the most probable class when it is None.

    >>> check_target(None, np.array([0.1, 0.7, 0.2]))
    1
    """
    classes = len(probabilities)
    if target is None:
        return int(np.argmax(probabilities))
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise ArgumentError(f"target must be a class index (an int) or None but got {target!r}")
    if not 0 <= target < classes:
        raise ArgumentError(f"target class {target} is out of range: the model gives probabilities "
                            f"for {classes} classes (0 to {classes - 1}); pass one of them, or "
                            f"target=None for the most probable class")
    return int(target)
