"""Tests for the toy datasets and train_test_split in ildl.data.toy."""

import itertools

import numpy as np
import pytest

from ildl.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)
from ildl.errors import ArgumentError


def assert_bitwise_equal(actual: np.ndarray, expected: np.ndarray, settings=None) -> None:
    """Same dtype, shape and bits (so 0.0 vs -0.0 or a last-digit rounding would fail)."""
    where = f" with {settings}" if settings else ""
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}{where}"
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}{where}"
    actual_bits = np.ascontiguousarray(actual).view(np.uint8)
    expected_bits = np.ascontiguousarray(expected).view(np.uint8)
    mismatches = np.flatnonzero(actual_bits != expected_bits)
    assert mismatches.size == 0, f"{mismatches.size} bytes differ{where}"


def assert_same_dataset(ours: tuple, theirs: tuple, settings=None) -> None:
    x, y = ours
    x_expected, y_expected = theirs
    assert x.dtype == np.float64
    assert y.dtype == np.int64
    assert_bitwise_equal(x, x_expected.astype(np.float64, copy=False), settings)
    assert_bitwise_equal(y, y_expected.astype(np.int64, copy=False), settings)


# --------------------------------------------------------------------------------------
# make_moons and make_circles: bit-for-bit equal to scikit-learn
# --------------------------------------------------------------------------------------

N_SAMPLES_CASES = [1, 2, 7, 100, 101, (3, 5), (0, 4), (6, 0)]
NOISE_CASES = [None, 0.0, 0.2]
SEEDS = [0, 1, 100]


def all_settings(**extra_choices):
    """Every combination of noise, seed and shuffle (plus extra choices), as kwargs dicts."""
    choices = dict(noise=NOISE_CASES, random_state=SEEDS, shuffle=[True, False], **extra_choices)
    names = list(choices)
    combinations = itertools.product(*choices.values())
    return [dict(zip(names, values, strict=True)) for values in combinations]


# One test per n_samples, looping over the other settings, keeps the test count (and the
# run time) small; the failure message names the settings that failed.
@pytest.mark.parametrize("n_samples", N_SAMPLES_CASES)
def test_make_moons_equals_sklearn(n_samples):
    datasets = pytest.importorskip("sklearn.datasets")
    for kwargs in all_settings():
        ours = make_moons(n_samples, **kwargs)
        theirs = datasets.make_moons(n_samples, **kwargs)
        assert_same_dataset(ours, theirs, settings=kwargs)


@pytest.mark.parametrize("n_samples", N_SAMPLES_CASES)
def test_make_circles_equals_sklearn(n_samples):
    datasets = pytest.importorskip("sklearn.datasets")
    for kwargs in all_settings(factor=[0.8, 0.3, 0.0]):
        ours = make_circles(n_samples, **kwargs)
        theirs = datasets.make_circles(n_samples, **kwargs)
        assert_same_dataset(ours, theirs, settings=kwargs)


def test_collection_examples_equal_sklearn():
    # The exact calls used in the notebooks of the collection.
    datasets = pytest.importorskip("sklearn.datasets")
    assert_same_dataset(
        make_moons(1000, noise=0.2, random_state=100),
        datasets.make_moons(1000, noise=0.2, random_state=100),
    )
    for seed in (0, 42):
        assert_same_dataset(
            make_circles(1000, factor=0.3, noise=0.10, random_state=seed),
            datasets.make_circles(1000, factor=0.3, noise=0.10, random_state=seed),
        )


def test_random_state_object_continues_the_same_stream_as_sklearn():
    datasets = pytest.importorskip("sklearn.datasets")
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    # Several calls in a row: each must consume exactly as many numbers as scikit-learn.
    for _ in range(3):
        assert_same_dataset(
            make_moons(21, noise=0.1, random_state=ours),
            datasets.make_moons(21, noise=0.1, random_state=theirs),
        )
        assert_same_dataset(
            make_circles(21, noise=0.1, random_state=ours),
            datasets.make_circles(21, noise=0.1, random_state=theirs),
        )


def test_random_state_none_uses_numpy_global_state_like_sklearn():
    datasets = pytest.importorskip("sklearn.datasets")
    saved_state = np.random.get_state()
    try:
        np.random.seed(3)
        ours = make_moons(30, noise=0.1)
        np.random.seed(3)
        theirs = datasets.make_moons(30, noise=0.1)
    finally:
        np.random.set_state(saved_state)
    assert_same_dataset(ours, theirs)


def test_moons_and_circles_shapes_without_sklearn():
    x, y = make_moons(11, shuffle=False)
    assert x.shape == (11, 2) and y.shape == (11,)
    assert y.tolist() == [0] * 5 + [1] * 6  # odd count: the extra point is in class 1
    x, y = make_circles((4, 6), factor=0.5, random_state=0)
    radii = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radii[y == 0], 1.0)
    np.testing.assert_allclose(radii[y == 1], 0.5)
    assert np.bincount(y).tolist() == [4, 6]


# --------------------------------------------------------------------------------------
# train_test_split: same split as scikit-learn
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("test_size", [0.25, 0.1, 0.33, 0.5, 0.9, 1, 10, 102])
def test_train_test_split_equals_sklearn(test_size):
    model_selection = pytest.importorskip("sklearn.model_selection")
    n = 103
    x = np.arange(2 * n, dtype=np.float64).reshape(n, 2)
    y = np.arange(n) % 3
    ids = np.arange(n)
    for seed, shuffle in itertools.product(SEEDS, [True, False]):
        kwargs = dict(test_size=test_size, shuffle=shuffle, random_state=seed)
        ours = train_test_split(x, y, ids, **kwargs)
        theirs = model_selection.train_test_split(x, y, ids, **kwargs)
        assert len(ours) == len(theirs) == 6
        for part, expected in zip(ours, theirs, strict=True):
            assert_bitwise_equal(part, expected, kwargs)


def test_train_test_split_keeps_rows_together_and_covers_everything():
    x = np.arange(40).reshape(20, 2)
    y = 10 * np.arange(20)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=1)
    assert x_train.shape == (14, 2) and x_test.shape == (6, 2)
    assert y_train.shape == (14,) and y_test.shape == (6,)
    # Row i of x is (2i, 2i+1) and goes with label 10i.
    np.testing.assert_array_equal(x_train[:, 0] * 5, y_train)
    np.testing.assert_array_equal(x_test[:, 0] * 5, y_test)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == y.tolist()


def test_train_test_split_accepts_lists_and_is_deterministic():
    first = train_test_split(list(range(8)), test_size=2, random_state=5)
    second = train_test_split(list(range(8)), test_size=2, random_state=5)
    assert [len(part) for part in first] == [6, 2]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_test_split_without_shuffle_takes_the_last_rows_for_test():
    train, test = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
    assert train.tolist() == list(range(7))
    assert test.tolist() == [7, 8, 9]


# --------------------------------------------------------------------------------------
# make_spirals, make_xor, make_blobs: our own definitions
# --------------------------------------------------------------------------------------


def assert_balanced_classes(y: np.ndarray, n_classes: int) -> None:
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("n_samples", [1, 7, 100, 101])
@pytest.mark.parametrize("n_classes", [1, 2, 3, 5])
def test_make_spirals_shapes_dtypes_and_balance(n_samples, n_classes):
    x, y = make_spirals(n_samples, n_classes=n_classes, random_state=0)
    assert x.shape == (n_samples, 2) and x.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype == np.int64
    assert y.min() >= 0 and y.max() < n_classes
    assert_balanced_classes(y, n_classes)


def test_make_spirals_geometry_without_noise():
    x, y = make_spirals(200, n_classes=2, turns=1.0, noise=0.0, random_state=0)
    radii = np.hypot(x[:, 0], x[:, 1])
    # Each arm goes from radius 0.1 to radius 1.
    for label in (0, 1):
        assert radii[y == label].min() == pytest.approx(0.1)
        assert radii[y == label].max() == pytest.approx(1.0)
    # With two arms, arm 1 is arm 0 turned by half a turn: the point (a, b) maps to (-a, -b).
    arm_0 = x[y == 0][np.argsort(radii[y == 0])]
    arm_1 = x[y == 1][np.argsort(radii[y == 1])]
    np.testing.assert_allclose(arm_1, -arm_0, atol=1e-12)


def test_make_xor_labels_follow_the_sign_rule_and_are_balanced():
    x, y = make_xor(203, random_state=0)
    assert x.shape == (203, 2) and x.dtype == np.float64
    assert y.shape == (203,) and y.dtype == np.int64
    assert np.all(np.abs(x) <= 1.0)
    np.testing.assert_array_equal(y, (x[:, 0] > 0) != (x[:, 1] > 0))
    assert_balanced_classes(y, 2)
    # Every quadrant holds a quarter of the points (up to one).
    quadrant = 2 * (x[:, 0] > 0) + (x[:, 1] > 0)
    assert_balanced_classes(quadrant, 4)


def test_make_xor_noise_moves_points_but_keeps_labels():
    x_clean, y_clean = make_xor(100, noise=0.0, random_state=0)
    x_noisy, y_noisy = make_xor(100, noise=0.3, random_state=0)
    assert_balanced_classes(y_noisy, 2)
    assert not np.allclose(np.sort(x_clean, axis=0), np.sort(x_noisy, axis=0))
    # With noise, some points cross an axis, so the sign rule no longer holds everywhere.
    assert np.any(y_noisy != ((x_noisy[:, 0] > 0) != (x_noisy[:, 1] > 0)))


@pytest.mark.parametrize("n_features", [1, 2, 5])
def test_make_blobs_shapes_dtypes_and_balance(n_features):
    x, y = make_blobs(100, centers=3, n_features=n_features, random_state=0)
    assert x.shape == (100, n_features) and x.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.int64
    assert_balanced_classes(y, 3)


def test_make_blobs_given_centers_and_stds():
    centers = [[0.0, 0.0], [10.0, 10.0]]
    x, y = make_blobs(2000, centers=centers, cluster_std=[0.5, 2.0], random_state=0)
    for label, (center, std) in enumerate([(centers[0], 0.5), (centers[1], 2.0)]):
        cluster = x[y == label]
        np.testing.assert_allclose(cluster.mean(axis=0), center, atol=0.2)
        np.testing.assert_allclose(cluster.std(axis=0), std, rtol=0.1)


def test_make_blobs_equals_sklearn():
    datasets = pytest.importorskip("sklearn.datasets")
    for kwargs in [
        dict(n_samples=100, random_state=0),
        dict(n_samples=101, centers=4, cluster_std=[1, 2, 0.5, 3], n_features=3, random_state=1),
        dict(n_samples=7, centers=[[0, 0], [1, 1]], cluster_std=0.5, random_state=2),
    ]:
        assert_same_dataset(make_blobs(**kwargs), datasets.make_blobs(**kwargs))


# --------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------

GENERATORS = [make_moons, make_circles, make_spirals, make_xor, make_blobs]


@pytest.mark.parametrize("generator", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(generator):
    extra = {"noise": 0.1} if generator in (make_moons, make_circles, make_xor) else {}
    x_a, y_a = generator(50, random_state=4, **extra)
    x_b, y_b = generator(50, random_state=4, **extra)
    x_c, _ = generator(50, random_state=5, **extra)
    np.testing.assert_array_equal(x_a, x_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert not np.array_equal(x_a, x_c)


# --------------------------------------------------------------------------------------
# Errors: clear messages for wrong arguments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: make_moons(-5), ValueError, "n_samples must be at least 1, got -5"),
        (lambda: make_moons(0), ValueError, "at least 1"),
        (lambda: make_moons(10.5), TypeError, "n_samples must be an int"),
        (lambda: make_moons(True), TypeError, "n_samples must be an int"),
        (lambda: make_moons((1, 2, 3)), ValueError, "two elements"),
        (lambda: make_circles((5, -1)), ValueError, "n_inner must be an int >= 0"),
        (lambda: make_moons(10, noise=-0.1), ValueError, "noise must be a finite number >= 0"),
        (lambda: make_moons(10, noise=float("nan")), ValueError, "noise must be"),
        (lambda: make_circles(10, factor=1.0), ValueError, r"factor must be a number in \[0, 1\)"),
        (lambda: make_circles(10, factor=-0.2), ValueError, "factor"),
        (lambda: make_moons(10, random_state="0"), TypeError, "random_state must be"),
        (
            lambda: make_moons(10, random_state=np.random.default_rng(0)),
            TypeError,
            "np.random.RandomState",
        ),
        (lambda: make_spirals(-1), ValueError, "n_samples must be at least 1"),
        (lambda: make_spirals(10, n_classes=0), ValueError, "n_classes must be at least 1"),
        (lambda: make_spirals(10, turns=-1), ValueError, "turns must be"),
        (lambda: make_xor(10, noise=-1), ValueError, "noise must be"),
        (lambda: make_blobs(10, centers=0), ValueError, "centers must be at least 1"),
        (lambda: make_blobs(10, centers=[1, 2, 3]), ValueError, r"shape \(n_centers"),
        (lambda: make_blobs(10, cluster_std=[1.0, 2.0]), ValueError, "one value per centre"),
        (lambda: make_blobs(10, cluster_std=-1.0), ValueError, ">= 0"),
        (lambda: make_blobs(10, n_features=0), ValueError, "n_features must be at least 1"),
    ],
)
def test_generators_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(test_size=0.0), ValueError, "strictly between 0 and 1, got 0.0"),
        (dict(test_size=1.0), ValueError, "strictly between 0 and 1"),
        (dict(test_size=-0.2), ValueError, "strictly between 0 and 1"),
        (dict(test_size=10), ValueError, "between 1 and n_samples - 1 = 9, got 10"),
        (dict(test_size=0), ValueError, "between 1 and n_samples - 1"),
        (dict(test_size="0.2"), TypeError, "test_size must be a float"),
        (dict(test_size=True), TypeError, "test_size must be a float"),
    ],
)
def test_train_test_split_rejects_bad_test_size(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_test_split(np.arange(10), **kwargs)


def test_train_test_split_rejects_arrays_of_different_lengths():
    with pytest.raises(ValueError, match=r"same length.*got lengths \[100, 99\]"):
        train_test_split(np.zeros((100, 2)), np.zeros(99))


def test_train_test_split_rejects_no_arrays_scalars_and_empty_arrays():
    with pytest.raises(ValueError, match="no arrays given"):
        train_test_split()
    with pytest.raises(ValueError, match="single value"):
        train_test_split(np.float64(3.0))
    with pytest.raises(ValueError, match="empty"):
        train_test_split(np.zeros((0, 2)), np.zeros(0))


def test_train_test_split_rejects_an_empty_training_set():
    # 0.9 of 2 samples rounds up to 2 test samples, leaving none for training.
    with pytest.raises(ValueError, match="training set would be empty"):
        train_test_split(np.arange(2), test_size=0.9)


@pytest.mark.parametrize("make, arguments, message", [
    (make_moons, {"noise": 10**400}, "noise must be a finite number >= 0"),
    (make_blobs, {"cluster_std": 10**400}, "cluster_std must be a number or one number per"),
    (make_blobs, {"cluster_std": "wide"}, "cluster_std must be a number or one number per"),
])
def test_numbers_beyond_float_or_not_numbers_are_refused_by_name(make, arguments, message):
    """An int beyond float's range (10**400) or text once escaped as OverflowError/ValueError."""
    with pytest.raises(ArgumentError, match=message):
        make(100, **arguments)
