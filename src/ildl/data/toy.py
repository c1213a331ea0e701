"""Small 2-D datasets to train, plot and debug classifiers on.

Every generator returns ``(x, y)`` with

* ``x``: float64 array of shape ``(n_samples, 2)`` (``make_blobs`` may have more columns),
* ``y``: int64 array of shape ``(n_samples,)`` holding class labels ``0 .. n_classes - 1``.

``make_moons`` and ``make_circles`` give bit-for-bit the same points as scikit-learn's
functions with the same arguments and seed, so examples written for scikit-learn can be
reproduced here without it. ``train_test_split`` also gives scikit-learn's split.

The randomness comes from a ``np.random.RandomState`` (not the newer ``np.random.Generator``)
because that is what scikit-learn uses, and matching it draw for draw is what makes the
outputs identical.

Example:
    >>> from ildl.data import make_moons, train_test_split
    >>> x, y = make_moons(200, noise=0.1, random_state=0)
    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
    >>> x_train.shape, x_test.shape
    ((150, 2), (50, 2))
"""

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError
from ..validation import is_number

__all__ = [
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "train_test_split",
]

RandomStateLike = int | np.random.RandomState | None

# Spiral arms start a little away from the centre: if every arm started at radius 0,
# the first point of each class would be the very same point with different labels.
_SPIRAL_INNER_RADIUS = 0.1

# make_blobs draws its random centres inside this box (in every dimension).
_BLOB_CENTER_LOW, _BLOB_CENTER_HIGH = -10.0, 10.0


# --------------------------------------------------------------------------------------
# Argument checks shared by the generators.
# Each raises an error that says what was wrong, what was expected and how to fix it.
# --------------------------------------------------------------------------------------


def _is_integer(value: object) -> bool:
    # bool is a subclass of int, but make_moons(True) is surely a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_random_state(random_state: RandomStateLike, caller: str) -> np.random.RandomState:
    """Turn ``None``, a seed or a RandomState into the RandomState to draw from."""
    if random_state is None:
        # Same object as the functions np.random.normal, np.random.shuffle, ... use,
        # so np.random.seed(...) makes random_state=None reproducible (as in scikit-learn).
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        # Used as is (not copied): successive calls continue the same random stream.
        return random_state
    if _is_integer(random_state):
        return np.random.RandomState(int(random_state))
    raise ArgumentError(
        f"{caller}: random_state must be None, an int seed or a np.random.RandomState, "
        f"got {random_state!r} of type {type(random_state).__name__}. "
        "Pass for example random_state=0 to get the same data on every run."
    )


def _check_positive_int(value: object, name: str, caller: str) -> int:
    if not _is_integer(value):
        raise ArgumentError(
            f"{caller}: {name} must be an int, got {value!r} of type {type(value).__name__}. "
            f"Pass a whole number such as {name}=100."
        )
    if value < 1:
        raise ArgumentError(
            f"{caller}: {name} must be at least 1, got {value}. Pass a positive number."
        )
    return int(value)


def _check_non_negative(value: object, name: str, caller: str) -> float:
    if not _is_real(value):
        raise ArgumentError(
            f"{caller}: {name} must be a number, got {value!r} of type "
            f"{type(value).__name__}. Pass for example {name}=0.1."
        )
    if not is_number(value) or value < 0:  # NaN, inf and ints beyond float's range
        raise ArgumentError(
            f"{caller}: {name} must be a finite number >= 0, got {value}. "
            f"Use {name}=0 for none at all, or a small positive value such as 0.1."
        )
    return float(value)


def _check_noise_or_none(noise: object, caller: str) -> float | None:
    if noise is None:
        return None
    return _check_non_negative(noise, "noise", caller)


def _split_outer_inner(n_samples: int | tuple[int, int], caller: str) -> tuple[int, int]:
    """Number of points on the outer and on the inner shape (moons, circles).

    An int is split in two halves, the extra point of an odd count going to the inner
    shape; a pair ``(n_outer, n_inner)`` is used as given.
    """
    if isinstance(n_samples, tuple):
        if len(n_samples) != 2:
            raise ArgumentError(
                f"{caller}: a tuple n_samples must have two elements (n_outer, n_inner), "
                f"got {len(n_samples)} elements: {n_samples!r}. Pass e.g. n_samples=(50, 50)."
            )
        n_outer, n_inner = n_samples
        for name, count in (("n_outer", n_outer), ("n_inner", n_inner)):
            if not _is_integer(count) or count < 0:
                raise ArgumentError(
                    f"{caller}: in n_samples=(n_outer, n_inner), {name} must be an int >= 0, "
                    f"got {count!r}. Pass e.g. n_samples=(50, 50)."
                )
        return int(n_outer), int(n_inner)
    n_total = _check_positive_int(n_samples, "n_samples", caller)
    n_outer = n_total // 2
    return n_outer, n_total - n_outer


def _even_counts(n_samples: int, n_groups: int) -> list[int]:
    """Split n_samples into n_groups counts that differ by at most one (first ones larger)."""
    base, remainder = divmod(n_samples, n_groups)
    return [base + 1 if group < remainder else base for group in range(n_groups)]


# --------------------------------------------------------------------------------------
# Steps shared by the generators.
# --------------------------------------------------------------------------------------


def _two_shapes(
    x_outer: np.ndarray, y_outer: np.ndarray, x_inner: np.ndarray, y_inner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stack the coordinates of an outer (label 0) and inner (label 1) shape."""
    points = np.column_stack(
        [np.concatenate([x_outer, x_inner]), np.concatenate([y_outer, y_inner])]
    )
    labels = np.concatenate(
        [np.zeros(len(x_outer), dtype=np.int64), np.ones(len(x_inner), dtype=np.int64)]
    )
    return points.astype(np.float64, copy=False), labels


def _shuffle_together(
    x: np.ndarray, y: np.ndarray, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the same random permutation to the rows of x and to y."""
    order = rng.permutation(len(y))
    return x[order], y[order]


def _add_gaussian_noise(x: np.ndarray, noise: float, rng: np.random.RandomState) -> np.ndarray:
    """Add independent N(0, noise^2) noise to every coordinate."""
    return x + rng.normal(scale=noise, size=x.shape)


# --------------------------------------------------------------------------------------
# Public generators.
# --------------------------------------------------------------------------------------


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: the classic "not linearly separable" dataset.

    Class 0 is the upper half of the unit circle; class 1 is a lower half circle shifted
    by (1, 0.5), so its tip pokes into the first one. A straight line cannot separate
    them, a small neural network can. Points are equally spaced along each half circle;
    ``noise`` adds Gaussian jitter. The output equals scikit-learn's ``make_moons``
    bit for bit for the same arguments.

    Args:
        n_samples: total number of points (class 0 gets ``n_samples // 2``, class 1 the
            rest), or a pair ``(n_outer, n_inner)`` giving the size of each class.
        shuffle: shuffle the points; otherwise all class-0 points come first.
        noise: standard deviation of the Gaussian noise added to each coordinate
            (``None`` or 0: points lie exactly on the half circles).
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state.

    Returns:
        x: float64 array of shape (n_samples, 2), the points.
        y: int64 array of shape (n_samples,), the labels 0 or 1.

    Example:
        >>> x, y = make_moons(6, shuffle=False)
        >>> x.shape, y.tolist()
        ((6, 2), [0, 0, 0, 1, 1, 1])
    """
    caller = "make_moons"
    n_outer, n_inner = _split_outer_inner(n_samples, caller)
    noise = _check_noise_or_none(noise, caller)
    rng = _check_random_state(random_state, caller)

    # The exact way of computing each coordinate (e.g. "1 - sin(a) - 0.5" and not
    # "0.5 - sin(a)") matters: floating point rounding must match scikit-learn's.
    outer_angles = np.linspace(0, np.pi, n_outer)
    inner_angles = np.linspace(0, np.pi, n_inner)
    x, y = _two_shapes(
        np.cos(outer_angles),
        np.sin(outer_angles),
        1 - np.cos(inner_angles),
        1 - np.sin(inner_angles) - 0.5,
    )
    # Shuffle first, then noise: this order of random draws is scikit-learn's.
    if shuffle:
        x, y = _shuffle_together(x, y, rng)
    if noise is not None:
        x = _add_gaussian_noise(x, noise, rng)
    return x, y


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomStateLike = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one: separable only by a curved boundary.

    Class 0 lies on the unit circle, class 1 on a concentric circle of radius ``factor``.
    Points are equally spaced in angle; ``noise`` adds Gaussian jitter. The output equals
    scikit-learn's ``make_circles`` bit for bit for the same arguments.

    Args:
        n_samples: total number of points (outer circle gets ``n_samples // 2``, inner
            circle the rest), or a pair ``(n_outer, n_inner)``.
        shuffle: shuffle the points; otherwise all class-0 points come first.
        noise: standard deviation of the Gaussian noise added to each coordinate
            (``None``: points lie exactly on the circles).
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state.
        factor: radius of the inner circle relative to the outer one, in [0, 1).

    Returns:
        x: float64 array of shape (n_samples, 2), the points.
        y: int64 array of shape (n_samples,), 0 for the outer and 1 for the inner circle.

    Example:
        >>> x, y = make_circles(8, factor=0.5, random_state=0)
        >>> bool(np.allclose(np.hypot(x[y == 1, 0], x[y == 1, 1]), 0.5))
        True
    """
    caller = "make_circles"
    n_outer, n_inner = _split_outer_inner(n_samples, caller)
    noise = _check_noise_or_none(noise, caller)
    if not _is_real(factor) or not 0 <= factor < 1:
        raise ArgumentError(
            f"{caller}: factor must be a number in [0, 1), got {factor!r}. It is the inner "
            "radius divided by the outer one; pass e.g. factor=0.5."
        )
    rng = _check_random_state(random_state, caller)

    # endpoint=False: angle 2*pi is the same point as angle 0, so leave it out.
    outer_angles = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    inner_angles = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    x, y = _two_shapes(
        np.cos(outer_angles),
        np.sin(outer_angles),
        np.cos(inner_angles) * factor,
        np.sin(inner_angles) * factor,
    )
    if shuffle:
        x, y = _shuffle_together(x, y, rng)
    if noise is not None:
        x = _add_gaussian_noise(x, noise, rng)
    return x, y


def make_spirals(
    n_samples: int = 100,
    *,
    n_classes: int = 2,
    turns: float = 1.0,
    noise: float = 0.05,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: a hard dataset for small networks.

    Arm ``k`` is the curve, for t going from 0 to 1 in equal steps,

        radius = 0.1 + 0.9 * t
        angle  = 2 * pi * (turns * t + k / n_classes)
        point  = radius * (cos(angle), sin(angle))

    so all arms have the same shape, rotated by a fraction ``k / n_classes`` of a full
    turn. Gaussian noise of standard deviation ``noise`` is then added to each coordinate
    and the points are shuffled. More ``turns`` or more ``noise`` make the task harder.

    Args:
        n_samples: total number of points, shared between the classes as evenly as
            possible (class sizes differ by at most one).
        n_classes: number of spiral arms (= classes), at least 1.
        turns: how many full turns each arm makes, >= 0.
        noise: standard deviation of the Gaussian noise on each coordinate, >= 0.
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state.

    Returns:
        x: float64 array of shape (n_samples, 2), inside the disc of radius ~1 + noise.
        y: int64 array of shape (n_samples,), labels 0 .. n_classes - 1.

    Example:
        >>> x, y = make_spirals(300, n_classes=3, random_state=0)
        >>> x.shape, np.bincount(y).tolist()
        ((300, 2), [100, 100, 100])
    """
    caller = "make_spirals"
    n_samples = _check_positive_int(n_samples, "n_samples", caller)
    n_classes = _check_positive_int(n_classes, "n_classes", caller)
    turns = _check_non_negative(turns, "turns", caller)
    noise = _check_non_negative(noise, "noise", caller)
    rng = _check_random_state(random_state, caller)

    arms, labels = [], []
    for label, count in enumerate(_even_counts(n_samples, n_classes)):
        t = np.linspace(0.0, 1.0, count)
        radius = _SPIRAL_INNER_RADIUS + (1.0 - _SPIRAL_INNER_RADIUS) * t
        angle = 2 * np.pi * (turns * t + label / n_classes)
        arms.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        labels.append(np.full(count, label, dtype=np.int64))
    x, y = np.concatenate(arms), np.concatenate(labels)

    x = _add_gaussian_noise(x, noise, rng)
    return _shuffle_together(x, y, rng)


def make_xor(
    n_samples: int = 100,
    *,
    noise: float = 0.0,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the label says whether the two coordinates have different signs.

    Points are drawn uniformly in the square [-1, 1] x [-1, 1], the same number (up to
    one) in each quadrant. The label is ``(x0 > 0) XOR (x1 > 0)``: 0 in the top-right and
    bottom-left quadrants, 1 in the other two. It is the textbook example of a problem
    that no single linear neuron can solve but one hidden layer can. The labels are set
    *before* the Gaussian ``noise`` is added, so noise blurs the boundary near the axes.

    Args:
        n_samples: total number of points; the two classes differ in size by at most one.
        noise: standard deviation of the Gaussian noise on each coordinate, >= 0.
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state.

    Returns:
        x: float64 array of shape (n_samples, 2).
        y: int64 array of shape (n_samples,), labels 0 or 1.

    Example:
        >>> x, y = make_xor(8, random_state=0)
        >>> bool(np.all(y == ((x[:, 0] > 0) != (x[:, 1] > 0))))
        True
    """
    caller = "make_xor"
    n_samples = _check_positive_int(n_samples, "n_samples", caller)
    noise = _check_non_negative(noise, "noise", caller)
    rng = _check_random_state(random_state, caller)

    # Quadrants listed so that the labels alternate 0, 1, 0, 1: when n_samples is not a
    # multiple of 4, the extra points go to the first quadrants and the classes stay even.
    quadrant_signs = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
    quadrant_labels = [0, 1, 0, 1]
    counts = _even_counts(n_samples, len(quadrant_signs))

    signs = np.repeat(np.array(quadrant_signs), counts, axis=0)
    y = np.repeat(np.array(quadrant_labels, dtype=np.int64), counts)
    # Distance from each axis, uniform in [0, 1); the sign then picks the quadrant.
    x = signs * rng.uniform(0.0, 1.0, size=(n_samples, 2))

    if noise > 0:
        x = _add_gaussian_noise(x, noise, rng)
    return _shuffle_together(x, y, rng)


def _blob_centers(
    centers: int | Sequence[Sequence[float]] | np.ndarray,
    n_features: int,
    rng: np.random.RandomState,
    caller: str,
) -> np.ndarray:
    """The (n_centers, n_features) array of cluster centres: given, or drawn at random."""
    if _is_integer(centers):
        n_centers = _check_positive_int(centers, "centers", caller)
        return rng.uniform(_BLOB_CENTER_LOW, _BLOB_CENTER_HIGH, size=(n_centers, n_features))
    center_array = np.asarray(centers, dtype=np.float64)
    if center_array.ndim != 2 or len(center_array) == 0 or center_array.shape[1] == 0:
        raise ArgumentError(
            f"{caller}: centers must be an int (how many random centres) or an array of "
            f"shape (n_centers, n_features), got an array of shape {center_array.shape}. "
            "Pass e.g. centers=3 or centers=[[0, 0], [5, 5]]."
        )
    return center_array


def _blob_stds(cluster_std: float | Sequence[float], n_centers: int, caller: str) -> np.ndarray:
    """One standard deviation per cluster (a single number is used for all clusters)."""
    try:
        stds = np.asarray(cluster_std, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # text, ragged lists, ints beyond float
        raise ArgumentError(f"{caller}: cluster_std must be a number or one number per centre, "
                            f"got {cluster_std!r}. Pass e.g. cluster_std=1.0.") from None
    if stds.ndim == 0:
        stds = np.full(n_centers, float(stds))
    if stds.shape != (n_centers,):
        raise ArgumentError(
            f"{caller}: cluster_std must be a number or have one value per centre "
            f"({n_centers}), got shape {stds.shape}. Pass e.g. cluster_std=1.0."
        )
    if not np.all(stds >= 0) or not np.all(np.isfinite(stds)):
        raise ArgumentError(
            f"{caller}: cluster_std must be finite and >= 0, got {cluster_std!r}. "
            "Pass e.g. cluster_std=1.0."
        )
    return stds


def make_blobs(
    n_samples: int = 100,
    *,
    centers: int | Sequence[Sequence[float]] | np.ndarray = 3,
    cluster_std: float | Sequence[float] = 1.0,
    n_features: int = 2,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters, one per class: the easy case to check a classifier works at all.

    Cluster ``k`` has its points drawn from a normal distribution centred on
    ``centers[k]`` with standard deviation ``cluster_std[k]`` in every direction. When
    ``centers`` is an int, that many centres are drawn uniformly in the box
    [-10, 10]^n_features. Points are then shuffled. (This recipe happens to draw the
    same random numbers in the same order as scikit-learn's ``make_blobs``, so for the
    same arguments and seed the two give the same data.)

    Args:
        n_samples: total number of points, shared between the clusters as evenly as
            possible (cluster sizes differ by at most one).
        centers: number of clusters, or an array of shape (n_centers, n_features) with
            their centres (then ``n_features`` is taken from it and the argument ignored).
        cluster_std: standard deviation of every cluster, or one value per cluster.
        n_features: number of coordinates per point when the centres are random.
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state.

    Returns:
        x: float64 array of shape (n_samples, n_features).
        y: int64 array of shape (n_samples,), the index of each point's cluster.

    Example:
        >>> x, y = make_blobs(90, centers=[[0, 0], [4, 4], [8, 0]], random_state=0)
        >>> x.shape, np.bincount(y).tolist()
        ((90, 2), [30, 30, 30])
    """
    caller = "make_blobs"
    n_samples = _check_positive_int(n_samples, "n_samples", caller)
    n_features = _check_positive_int(n_features, "n_features", caller)
    rng = _check_random_state(random_state, caller)
    center_array = _blob_centers(centers, n_features, rng, caller)
    stds = _blob_stds(cluster_std, len(center_array), caller)

    clusters, labels = [], []
    counts = _even_counts(n_samples, len(center_array))
    for label, (center, std, count) in enumerate(zip(center_array, stds, counts, strict=True)):
        clusters.append(rng.normal(loc=center, scale=std, size=(count, len(center))))
        labels.append(np.full(count, label, dtype=np.int64))
    x, y = np.concatenate(clusters), np.concatenate(labels)
    return _shuffle_together(x, y, rng)


# --------------------------------------------------------------------------------------
# Splitting a dataset.
# --------------------------------------------------------------------------------------


def _as_arrays(arrays: tuple[object, ...]) -> list[np.ndarray]:
    """Convert the inputs to arrays and check they all have the same number of rows."""
    if not arrays:
        raise ArgumentError(
            "train_test_split: no arrays given. Pass the data to split, "
            "e.g. train_test_split(x, y)."
        )
    converted = [np.asarray(array) for array in arrays]
    for position, array in enumerate(converted):
        if array.ndim == 0:
            raise ArgumentError(
                f"train_test_split: array number {position} is a single value, not a "
                "sequence of samples. Pass arrays whose first axis indexes the samples."
            )
    lengths = [len(array) for array in converted]
    if len(set(lengths)) > 1:
        raise ArgumentError(
            f"train_test_split: all arrays must have the same length (number of samples), "
            f"got lengths {lengths}. Check that x and y come from the same dataset."
        )
    if lengths[0] == 0:
        raise ArgumentError(
            "train_test_split: the arrays are empty (0 samples), there is nothing to split. "
            "Check that the data was loaded."
        )
    return converted


def _n_train_n_test(n_samples: int, test_size: float | int) -> tuple[int, int]:
    """How many samples go to the training and to the test set."""
    if _is_integer(test_size):
        # An int is a number of samples.
        if not 1 <= test_size < n_samples:
            raise ArgumentError(
                f"train_test_split: an int test_size is a number of test samples and must "
                f"be between 1 and n_samples - 1 = {n_samples - 1}, got {test_size}. "
                "Pass a smaller int, or a fraction such as test_size=0.25."
            )
        n_test = int(test_size)
    elif _is_real(test_size):
        # A float is a fraction of the samples, rounded up (as scikit-learn does).
        if not 0 < test_size < 1:
            raise ArgumentError(
                f"train_test_split: a float test_size is the fraction of samples used for "
                f"testing and must be strictly between 0 and 1, got {test_size}. "
                "Pass e.g. test_size=0.25, or an int number of samples."
            )
        n_test = math.ceil(test_size * n_samples)
    else:
        raise ArgumentError(
            f"train_test_split: test_size must be a float in (0, 1) or an int, got "
            f"{test_size!r} of type {type(test_size).__name__}. Pass e.g. test_size=0.25."
        )
    n_train = n_samples - n_test
    if n_train < 1:
        raise ArgumentError(
            f"train_test_split: with {n_samples} samples and test_size={test_size}, "
            f"the training set would be empty ({n_test} test samples). "
            "Use a smaller test_size or more samples."
        )
    return n_train, n_test


def train_test_split(
    *arrays: object,
    test_size: float | int = 0.25,
    shuffle: bool = True,
    random_state: RandomStateLike = None,
) -> list[np.ndarray]:
    """Split arrays into a training part and a held-out test part, the same rows for all.

    A model is judged on data it did not train on, so some samples are set aside.
    The same random rows are taken from every array, which keeps each ``x`` row with its
    ``y`` label. For an int ``random_state`` the split is the one scikit-learn's
    ``train_test_split`` gives (without ``stratify``).

    Args:
        *arrays: arrays (or lists) with the same length along their first axis, usually
            ``x`` of shape (n, ...) and ``y`` of shape (n,). Converted with ``np.asarray``.
        test_size: fraction of the samples in the test set, in (0, 1), rounded up;
            or an int number of test samples, in [1, n - 1].
        shuffle: pick the test rows at random; if False the last rows are the test set.
        random_state: seed (int), ``np.random.RandomState``, or ``None`` for NumPy's
            global random state. Unused when ``shuffle=False``.

    Returns:
        A list ``[a_train, a_test, b_train, b_test, ...]``: for each input array, its
        training rows then its test rows. With one array of n rows and test_size t,
        shapes are (n - ceil(t * n), ...) and (ceil(t * n), ...).

    Example:
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3)
        >>> x_train.shape, x_test.shape, y_test.shape
        ((7, 2), (3, 2), (3,))
    """
    converted = _as_arrays(arrays)
    n_samples = len(converted[0])
    n_train, n_test = _n_train_n_test(n_samples, test_size)

    if shuffle:
        rng = _check_random_state(random_state, "train_test_split")
        # Test rows first, then training rows: the same order as scikit-learn's ShuffleSplit.
        permutation = rng.permutation(n_samples)
        test_rows = permutation[:n_test]
        train_rows = permutation[n_test : n_test + n_train]
    else:
        train_rows = np.arange(n_train)
        test_rows = np.arange(n_train, n_train + n_test)

    parts = []
    for array in converted:
        parts.extend([array[train_rows], array[test_rows]])
    return parts
