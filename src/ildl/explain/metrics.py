"""How good is a heat map? Numbers that compare explainers without looking at them.

- **faithfulness** (Petsiuk et al. 2018): does the map rank pixels by how much the model needs
  them? ``deletion_curve`` removes the hottest pixels first (the probability should drop fast),
  ``insertion_curve`` puts them back first (it should rise fast); ``auc`` sums up a curve.
  "Removed" means replaced by a baseline: black, or ``blurred(image)``, the same photo without
  its details (a few sharp pixels on black are an image no photo looks like).
- **localisation**: does the map fall on the object? ``pointing_game`` (Zhang et al. 2016) looks
  at the map's maximum, ``energy_in_mask`` (Wang et al. 2020, Score-CAM) at all its positive heat.
- **sanity** (Adebayo et al. 2018): does the map depend on what the model learned?
  ``sanity_correlation`` compares the maps of the trained model and of the same architecture
  with random weights (``ildl.explain.randomize``); a map that hardly changes explains the
  image, not the model.
- ``random_heatmap``: uniform noise, the floor every method must beat.

Shapes: an image is ``(H, W, C)``, a heat map ``(H, W)``, a mask ``(H, W)`` bool; ``predict`` is
any function ``images (N, H, W, C) -> probabilities (N, K)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError

Predict = Callable[[np.ndarray], np.ndarray]


# --- faithfulness: deletion and insertion ------------------------------------------------------


def pixel_order(heatmap: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices ``(H * W,)`` from the most to the least heat.

    Pixels of equal heat (a superpixel of LIME, the zeros of Grad-CAM) come in a random order
    fixed by ``seed``, not in reading order, which would favour maps whose ties happen to lie on
    the object's rows.

    >>> pixel_order(np.array([[0.1, 0.9], [0.5, 0.0]]))
    array([1, 2, 0, 3])
    """
    flat = np.asarray(heatmap, dtype=np.float64).ravel()
    shuffled = np.random.default_rng(seed).permutation(flat.size)
    return shuffled[np.argsort(-flat[shuffled], kind="stable")]


def deletion_curve(predict: Predict, image: np.ndarray, heatmap: np.ndarray, target: int,
                   steps: int = 32, baseline: float | np.ndarray = 0.0,
                   seed: int = 0, batch_size: int = 32) -> np.ndarray:
    """``p_target`` as the hottest pixels are replaced by ``baseline``: ``(steps + 1,)`` values.

    Point ``k`` replaces the first ``round(k H W / steps)`` pixels of ``pixel_order(heatmap)``
    (all channels) by the baseline, so point 0 is the image and point ``steps`` the baseline.
    Default baseline: 0, a black image, as in Petsiuk et al.; ``blurred(image)`` removes the
    details but leaves an image like a photo. A faithful map makes the curve fall fast: a low
    ``auc``. ``steps + 1`` evaluations, made ``batch_size`` images at a time (memory stays
    bounded whatever ``steps``).

    >>> curve = deletion_curve(classifier.predict, image, heatmap, target=2)
    >>> blurry = deletion_curve(classifier.predict, image, heatmap, 2, baseline=blurred(image))
    """
    start = _image(image)
    end = _like(baseline, start, "baseline")
    return _replacement_curve(predict, start, end, heatmap, target, steps, seed, batch_size)


def insertion_curve(predict: Predict, image: np.ndarray, heatmap: np.ndarray, target: int,
                    steps: int = 32, canvas: float | np.ndarray = 0.0,
                    seed: int = 0, batch_size: int = 32) -> np.ndarray:
    """``p_target`` as the hottest pixels are copied onto ``canvas``: ``(steps + 1,)`` values.

    Point ``k`` shows the first ``round(k H W / steps)`` pixels of ``pixel_order(heatmap)`` and
    the canvas elsewhere, so point 0 is the canvas and point ``steps`` the image. Default canvas:
    0, a black image. Petsiuk et al. start from a blurred copy of the photo instead
    (``canvas=blurred(image)``), since a few pixels on black can look like a new object; but a
    blur keeps a light object's blob, which a model may recognise before any pixel is back. A
    faithful map makes the curve rise fast: a high ``auc``. ``steps + 1`` evaluations,
    ``batch_size`` images at a time.

    >>> curve = insertion_curve(classifier.predict, image, heatmap, target=2)
    """
    end = _image(image)
    start = _like(canvas, end, "canvas")
    return _replacement_curve(predict, start, end, heatmap, target, steps, seed, batch_size)


def _replacement_curve(predict: Predict, start: np.ndarray, end: np.ndarray,
                       heatmap: np.ndarray, target: int, steps: int, seed: int,
                       batch_size: int) -> np.ndarray:
    """``p_target`` of ``steps + 1`` images going from ``start`` to ``end``, the hottest pixels
    switching first; the images are made and evaluated ``batch_size`` at a time."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    size = np.broadcast_shapes(np.shape(start), np.shape(end))[:2]  # one of them is the image
    _check_map(heatmap, size, "heatmap")
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ArgumentError(f"{name} must be a positive integer (steps: points on the curve "
                                f"after the first; batch_size: images evaluated at once), got "
                                f"{value!r}")
    pixels = heatmap.size
    place = np.empty(pixels, dtype=np.int64)  # place[i]: when pixel i switches
    place[pixel_order(heatmap, seed)] = np.arange(pixels)
    switched = np.round(np.arange(steps + 1) * pixels / steps)  # pixels switched at each point
    scores = []
    for first in range(0, steps + 1, batch_size):
        counts = switched[first:first + batch_size]
        masks = (place[None, :] < counts[:, None]).reshape(len(counts), *size, 1)
        scores.append(np.asarray(predict(np.where(masks, end, start)))[:, target])
    return np.concatenate(scores)


# The blurred baseline: a Gaussian whose standard deviation is this share of the image's shorter
# side (11.2 px on a 224-px image). Measured on EfficientNet-Lite0 and the shipped photos: at
# 5 px (close to the 11x11 kernel of sigma 5 in Petsiuk et al.'s code) the cat and the espresso
# keep 0.29 and 0.13 of their probability; at 11 px every photo's top class falls below 0.01,
# as on black, while the colours and the layout of the scene stay: the class is gone, the photo
# is still a photo.
BLUR_SHARE = 0.05
# The Gaussian is cut at this many standard deviations (as scipy.ndimage.gaussian_filter).
BLUR_TRUNCATE = 4.0


def blurred(image: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """The image through a Gaussian blur of standard deviation ``sigma`` pixels (default:
    ``BLUR_SHARE`` of the shorter side), edges reflected (``c b a | a b c``): the baseline "the
    same photo without its details". Shapes: ``(H, W, C)`` in and out.

    Rows, then columns, each by one matrix product per channel: ``B_H @ image[..., c] @ B_W.T``
    (``gaussian_matrix``).

    >>> blurred(image).shape == image.shape
    True
    """
    image = _image(image)
    height, width = image.shape[:2]
    sigma = BLUR_SHARE * min(height, width) if sigma is None else sigma
    if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.number) or sigma <= 0:
        raise ArgumentError(f"sigma is the blur's standard deviation in pixels and must be a "
                            f"number > 0, got {sigma!r}")
    channels_first = np.moveaxis(image, -1, 0)  # (C, H, W): a stack of matrices
    smooth = gaussian_matrix(height, sigma) @ channels_first @ gaussian_matrix(width, sigma).T
    return np.moveaxis(smooth, 0, -1)


def gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """The ``(size, size)`` matrix that blurs a column of ``size`` pixels: row ``i`` holds the
    weights ``exp(-k^2 / (2 sigma^2))``, ``|k| <= BLUR_TRUNCATE sigma``, normalised to sum to 1,
    of the pixels ``i + k``; a pixel beyond an edge is its mirror image (``-1 -> 0``,
    ``size -> size - 1``), as often as the kernel is wide.

    >>> gaussian_matrix(3, 1.0).sum(axis=1)
    array([1., 1., 1.])
    """
    radius = int(BLUR_TRUNCATE * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-offsets ** 2 / (2 * sigma ** 2))
    weights /= weights.sum()
    # mirror into 0..size-1: the reflected signal repeats every 2 * size pixels
    columns = (np.arange(size)[:, None] + offsets[None, :]) % (2 * size)
    columns = np.where(columns < size, columns, 2 * size - 1 - columns)
    matrix = np.zeros((size, size))
    np.add.at(matrix, (np.repeat(np.arange(size), len(offsets)), columns.ravel()),
              np.tile(weights, size))
    return matrix


def auc(curve: np.ndarray) -> float:
    """Area under a curve sampled at equal steps over [0, 1], by the trapezoid rule:
    ``(sum_k c_k - (c_0 + c_n) / 2) / n`` for ``n + 1`` points, the curve's mean value.

    >>> auc(np.array([1.0, 0.5, 0.0]))
    0.5
    """
    curve = np.asarray(curve, dtype=np.float64)
    if curve.ndim != 1 or len(curve) < 2:
        raise ArgumentError(f"auc needs a curve of at least 2 points (n + 1,), got shape "
                            f"{curve.shape}")
    return float((curve.sum() - (curve[0] + curve[-1]) / 2) / (len(curve) - 1))


# --- localisation: pointing game and energy in the mask ----------------------------------------


def pointing_game(heatmap: np.ndarray, mask: np.ndarray, tolerance: int = 0) -> float:
    """Does the map's maximum fall on the object? 1.0 for a hit, 0.0 for a miss.

    A hit is a maximum within ``tolerance`` pixels (Euclidean distance) of the mask, as Zhang et
    al. allow 15 pixels on 224-pixel images. When several pixels share the maximum (a flat map,
    a LIME superpixel), the score is the share of them that hit: the expected hit of a maximum
    picked at random.

    >>> pointing_game(np.array([[0.0, 1.0], [0.2, 0.0]]), np.array([[0, 1], [0, 0]], bool))
    1.0
    """
    heatmap = np.asarray(heatmap, dtype=np.float64)
    mask = _mask(mask, heatmap.shape)
    if not isinstance(tolerance, int | np.integer) or tolerance < 0:
        raise ArgumentError(f"tolerance must be a number of pixels >= 0, got {tolerance!r}")
    peaks = heatmap == heatmap.max()
    return float(dilated(mask, tolerance)[peaks].mean())


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """The mask grown by ``radius`` pixels: every pixel within Euclidean distance ``radius`` of
    a pixel of the mask. Shapes: ``(H, W)`` bool in and out.

    >>> int(dilated(np.eye(3, dtype=bool), 1).sum())
    7
    """
    height, width = mask.shape
    padded = np.pad(mask, radius)
    grown = np.zeros_like(mask)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                grown |= padded[radius + dy:radius + dy + height, radius + dx:radius + dx + width]
    return grown


def energy_in_mask(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """The share of the map's positive heat that lies on the object:
    ``sum_{mask} max(H, 0) / sum max(H, 0)``, in [0, 1]. Negative heat (evidence against the
    class) is left out, as Score-CAM's energy-based pointing game does; a map without positive
    heat points at nothing and scores 0.

    >>> energy_in_mask(np.array([[3.0, 1.0], [-5.0, 0.0]]), np.array([[1, 0], [1, 0]], bool))
    0.75
    """
    positive = np.maximum(np.asarray(heatmap, dtype=np.float64), 0)
    mask = _mask(mask, positive.shape)
    total = positive.sum()
    return float(positive[mask].sum() / total) if total > 0 else 0.0


# --- sanity: rank correlation with the map of a randomised model -------------------------------


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of the flattened ``values``; equal values share the mean of their ranks.

    >>> average_ranks(np.array([10, 30, 20, 30]))
    array([1. , 3.5, 2. , 3.5])
    """
    distinct, group, counts = np.unique(np.ravel(values), return_inverse=True,
                                        return_counts=True)
    last_rank = np.cumsum(counts)  # the highest rank of each group of equal values
    return (last_rank - (counts - 1) / 2)[group.ravel()]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation: the Pearson correlation of ``average_ranks(a)`` and
    ``average_ranks(b)``, in [-1, 1]; NaN when either is constant (no ranking to compare).

    >>> spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 40, 30]))
    0.8
    """
    if np.shape(a) != np.shape(b):
        raise ArgumentError(f"spearman compares two arrays of the same shape, got {np.shape(a)} "
                            f"and {np.shape(b)}")
    rank_a = average_ranks(a) - (np.size(a) + 1) / 2  # the mean rank is (n + 1) / 2
    rank_b = average_ranks(b) - (np.size(b) + 1) / 2
    scale = np.sqrt((rank_a ** 2).sum() * (rank_b ** 2).sum())
    return float(rank_a @ rank_b / scale) if scale > 0 else float("nan")


def sanity_correlation(heatmap: np.ndarray, randomized_heatmap: np.ndarray) -> float:
    """Spearman correlation of ``|heatmap|`` and ``|randomized_heatmap|``, the map of the same
    image by the model with re-initialised weights (Adebayo et al.'s model randomisation test,
    on absolute values: a sign flip alone does not count as a change). Near 0: the map depends
    on what the model learned (passes); near 1: it would look the same for an untrained model.

    >>> sanity_correlation(explain(model, image).heatmap,
    ...                    explain(randomized_copy(model), image).heatmap)
    """
    return spearman(np.abs(heatmap), np.abs(randomized_heatmap))


def random_heatmap(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Uniform noise in [0, 1) of shape ``size = (H, W)``, the same for the same ``seed``: the
    floor of every metric (it knows nothing of the image or the model).

    >>> random_heatmap((32, 32), seed=3).shape
    (32, 32)
    """
    return np.random.default_rng(seed).random(size)


# --- checks ------------------------------------------------------------------------------------


def _image(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3:
        raise ArgumentError(f"expected one image of shape (height, width, channels), got shape "
                            f"{image.shape}; add a channel axis to a grayscale image: "
                            f"image[..., None]")
    return image


def _like(values, image: np.ndarray, name: str) -> np.ndarray:
    """A number or an image shaped like ``image``, as an array that broadcasts against it."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 0 and values.shape != image.shape:
        raise ArgumentError(f"the {name} must be a number or an image of the image's shape "
                            f"{image.shape}, but has shape {values.shape}")
    return values


def _check_map(values: np.ndarray, size: tuple, name: str) -> None:
    if np.shape(values) != tuple(size):
        raise ArgumentError(f"the {name} has shape {np.shape(values)} but the image is "
                            f"{size[0]}x{size[1]}; pass one value per pixel, shape {tuple(size)}")


def _mask(mask, size: tuple) -> np.ndarray:
    mask = np.asarray(mask)
    _check_map(mask, size, "mask")
    if mask.dtype != bool:
        raise ArgumentError(f"the mask must be boolean (True on the object), got dtype "
                            f"{mask.dtype}; pass mask.astype(bool) or mask > 0")
    return mask
