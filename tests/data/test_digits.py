"""make_digits, the synthetic MNIST stand-in: shapes, balance, seeds, errors, and that the images
really show their digit (a small ildl model learns them well above chance)."""

import time

import numpy as np
import pytest

from ildl import nn
from ildl.data import make_digits


@pytest.fixture(scope="module")
def digits():
    return make_digits(400, random_state=3)


def test_shapes_dtypes_and_range(digits):
    x, y = digits
    assert x.shape == (400, 28, 28) and x.dtype == np.uint8
    assert y.shape == (400,) and y.dtype == np.uint8
    assert set(np.unique(y)) == set(range(10))
    # white strokes on a black background, like MNIST
    assert x.max() == 255 and np.median(x) == 0
    assert np.all(x[:, 0, :] < 128) and np.all(x[:, :, 0] < 128)  # no digit cut at the border
    assert all(image.sum() > 0 for image in x)  # every image shows something


@pytest.mark.parametrize("n", [1, 7, 10, 25, 400])
def test_classes_are_balanced(n):
    _, y = make_digits(n, random_state=0)
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1


def test_labels_are_shuffled(digits):
    _, y = digits
    assert not np.array_equal(y, np.arange(400) % 10)


def test_same_seed_same_images_other_seed_other_images():
    a_x, a_y = make_digits(30, random_state=11)
    b_x, b_y = make_digits(30, random_state=11)
    np.testing.assert_array_equal(a_x, b_x)
    np.testing.assert_array_equal(a_y, b_y)
    c_x, c_y = make_digits(30, random_state=12)
    assert not np.array_equal(a_x, c_x)
    # even where two seeds draw the same label, the renderings differ (size, shear, position...)
    same = np.flatnonzero(a_y == c_y)
    assert len(same) == 0 or not any(np.array_equal(a_x[i], c_x[i]) for i in same)


def test_images_of_one_class_vary(digits):
    x, y = digits
    sevens = x[y == 7].astype(float)
    assert len({image.tobytes() for image in x[y == 7]}) == len(sevens)
    assert sevens.std(axis=0).mean() > 10  # not one template with noise


@pytest.mark.parametrize("n", [0, -5, 2.5, "100", None])
def test_bad_n_samples(n):
    with pytest.raises(ValueError) as error:
        make_digits(n)
    assert "n_samples must be a positive integer" in str(error.value)
    assert repr(n) in str(error.value)


def test_numpy_integer_n_samples():
    x, y = make_digits(np.int64(20), random_state=0)
    assert x.shape == (20, 28, 28)


def test_a_softmax_regression_learns_them_well_above_chance():
    """Learnability, not a number from ildl: a linear softmax model (nn.Dense) trained for a
    second reaches far above the 10% of chance on unseen digits."""
    x, y = make_digits(1200, random_state=5)
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    model = nn.Sequential([nn.Dense(10, activation="softmax", input_shape=(784,))], seed=0)
    model.compile(nn.optimizers.Adam(learning_rate=3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x[:1000], y[:1000], epochs=15, batch_size=32, verbose=0)
    assert time.perf_counter() - start < 10
    assert model.evaluate(x[1000:], y[1000:])["accuracy"] >= 0.5


def test_a_tiny_cnn_learns_them_well_above_chance():
    x, y = make_digits(1200, random_state=6)
    x = x[..., None].astype(np.float32) / 255
    model = nn.Sequential([
        nn.Conv2D(8, 3, strides=2, activation="relu", input_shape=(28, 28, 1)),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dense(10, activation="softmax"),
    ], seed=0)
    model.compile(nn.optimizers.Adam(learning_rate=3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=6, batch_size=32, verbose=0)
    assert model.evaluate(x[1000:], y[1000:])["accuracy"] >= 0.5
