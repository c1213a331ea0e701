"""ildl.nn.threads: the batch split covers every row once and changes no number; small products
run on one BLAS thread and leave the setting as it was; every layer that splits its batch gives
exactly (bit for bit) what it gives in one piece, forward and backward, in float32 and float64;
a dense network's products run on BLAS's threads, a convolutional network's on ildl's."""

import multiprocessing
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from ildl import nn
from ildl.nn import threads


@pytest.fixture
def split_everything(monkeypatch):
    """Split even the tiniest pass, over two threads (as on the project's 2-core machine)."""
    monkeypatch.setattr(threads, "MIN_SPLIT_VALUES", 0)
    with threadpool_limits(limits=2, user_api="blas"):
        yield


@pytest.mark.parametrize("rows, parts", [(1, 2), (2, 2), (7, 2), (64, 2), (10, 3), (5, 8)])
def test_batch_parts_cover_every_row_once_in_nearly_equal_slices(rows, parts):
    slices = threads.batch_parts(rows, parts)
    covered = [row for part in slices for row in range(rows)[part]]
    assert covered == list(range(rows))
    lengths = [part.stop - part.start for part in slices]
    assert min(lengths) >= 1 and max(lengths) - min(lengths) <= 1


def test_split_batch_runs_the_parts_on_several_threads(split_everything):
    seen = {}

    def record(rows):
        seen[rows.start, rows.stop] = threading.get_ident()

    threads.split_batch(record, 12, 12)
    assert sorted(seen) == [(0, 3), (3, 6), (6, 9), (9, 12)]  # two parts per thread
    assert len(set(seen.values())) <= 2


def test_split_batch_stays_on_this_thread_for_small_passes_or_one_blas_thread(monkeypatch):
    calls = []
    threads.split_batch(lambda rows: calls.append((rows, threading.get_ident())), 10, 10)
    monkeypatch.setattr(threads, "MIN_SPLIT_VALUES", 0)
    with threadpool_limits(limits=1, user_api="blas"):
        threads.split_batch(lambda rows: calls.append((rows, threading.get_ident())), 10, 10)
    assert calls == [(slice(0, 10), threading.get_ident())] * 2


def test_split_batch_passes_on_a_part_s_error_and_restores_the_blas_threads(split_everything):
    def fail_on_the_second_half(rows):
        if rows.start > 0:
            raise ValueError("second half")

    with pytest.raises(ValueError, match="second half"):
        threads.split_batch(fail_on_the_second_half, 10, 10)
    assert threads.blas_threads() == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, k, n", [(3, 2, 4), (900, 50, 50), (300, 200, 100), (9, 5000, 100),
                                     (900, 1, 25), (64, 784, 512), (784, 64, 512),
                                     (288, 12544, 64)])  # the MLP's and the CNN's products
def test_matmul_equals_the_product_and_restores_the_blas_threads(m, k, n, dtype, rng):
    """Small products (one BLAS thread) and large ones (split by rows), transposed operands as
    the backward passes use them: the same bits as NumPy's own product."""
    a, b = rng.normal(size=(k, m)).astype(dtype).T, rng.normal(size=(k, n)).astype(dtype)
    with threadpool_limits(limits=1, user_api="blas"):
        expected = a @ b
    with threadpool_limits(limits=2, user_api="blas"):
        np.testing.assert_array_equal(threads.matmul(a, b), expected)
        out = np.empty((m, n), dtype=dtype)
        assert threads.matmul(a, b, out=out) is out
        np.testing.assert_array_equal(out, expected)
        assert threads.blas_threads() == 2


class _CountBlasSwitches:
    """Stands in for ``threads.one_blas_thread``: counts the products kept on one BLAS thread."""
    entered = 0

    def __enter__(self):
        type(self).entered += 1

    def __exit__(self, *exc):
        return None


def test_inside_products_on_blas_threads_large_products_go_to_blas_and_passes_stay_here(
        split_everything, monkeypatch, rng):
    monkeypatch.setattr(threads, "one_blas_thread", _CountBlasSwitches)
    _CountBlasSwitches.entered = 0
    large = rng.normal(size=(64, 784)).astype("float32"), rng.normal(size=(784, 512)).astype(
        "float32")  # 25.7 M multiply-adds: over SMALL_PRODUCT, under SPLIT_PRODUCT
    small = rng.normal(size=(900, 50)), rng.normal(size=(50, 50))  # 2.25 M: under SMALL_PRODUCT
    callers = []
    with threads.products_on_blas_threads():
        np.testing.assert_array_equal(threads.matmul(*large), np.matmul(*large))
        assert _CountBlasSwitches.entered == 0  # BLAS ran it on its own threads
        threads.matmul(*small)
        assert _CountBlasSwitches.entered == 1
        threads.split_batch(lambda rows: callers.append((rows, threading.get_ident())), 10, 10)
        with threads.products_on_blas_threads(False):  # and the default comes back inside
            threads.matmul(*large)
            assert _CountBlasSwitches.entered == 2
    threads.matmul(*large)
    assert _CountBlasSwitches.entered == 3
    assert callers == [(slice(0, 10), threading.get_ident())]


@pytest.mark.parametrize("layers, on_blas", [
    ([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(2)], True),
    ([nn.Conv2D(2, 3, input_shape=(5, 5, 1)), nn.Flatten(), nn.Dense(2)], False),
    ([nn.MaxPooling2D(input_shape=(4, 4, 1)), nn.Flatten(), nn.Dense(2)], False)])
def test_sequential_runs_dense_networks_on_blas_threads(layers, on_blas, rng, monkeypatch):
    """Every way through the model (fit, predict, model(x), compute_gradients, input_gradient)
    runs a dense network's products in the same mode, so they round alike."""
    seen = []
    dense = layers[-1]
    original_call, original_backward = dense.call, dense.call_backward

    def record_call(inputs, training):
        seen.append(threads._products_on_blas.get())
        return original_call(inputs, training)

    def record_backward(grad, need_input_grad=True):
        seen.append(threads._products_on_blas.get())
        return original_backward(grad, need_input_grad)

    monkeypatch.setattr(dense, "call", record_call)
    monkeypatch.setattr(dense, "call_backward", record_backward)
    model = nn.Sequential(layers, seed=0)
    model.compile(nn.optimizers.Adam(), "sparse_categorical_crossentropy")
    x = rng.random((6, *layers[0].input_shape)).astype("float32")
    y = np.arange(6) % 2
    model.fit(x, y, batch_size=3, verbose=0)
    model.predict(x)
    model(x)
    model.compute_gradients(x, y)
    model.input_gradient(x, np.ones((6, 2)))
    assert seen == [on_blas] * 10  # fit: 2 batches x (call, backward); 1 + 1 + 2 + 2
    assert threads._products_on_blas.get() is False  # and not after


def test_the_modes_end_with_an_error_inside_a_pass(rng, monkeypatch):
    """A layer failing in the middle of a training step leaves neither BLAS's threads nor
    kept arrays switched on."""
    from ildl.nn.layers import base

    model = nn.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(2)],
                          seed=0)
    model.compile(nn.optimizers.SGD(0.1), "mse")
    seen = []

    def fail(inputs, training):
        seen.append((threads._products_on_blas.get(), base.reusing_arrays()))
        raise FloatingPointError("a layer failed")

    monkeypatch.setattr(model.layers[1], "call", fail)
    with pytest.raises(FloatingPointError, match="a layer failed"):
        model.train_on_batch(rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
    assert seen == [(True, True)]  # both were on inside the pass
    assert threads._products_on_blas.get() is False
    assert base.reusing_arrays() is False


def _split_in_a_forked_child(queue):
    threads.MIN_SPLIT_VALUES = 0
    with threadpool_limits(limits=2, user_api="blas"):
        values = np.arange(10.0)
        doubled = np.empty_like(values)
        threads.split_batch(lambda rows: np.multiply(values[rows], 2, out=doubled[rows]), 10, 10)
    queue.put(doubled.tolist())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_child_makes_its_own_threads(split_everything):
    threads.split_batch(lambda rows: None, 10, 10)  # the parent's pool exists now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_split_in_a_forked_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == [2.0 * v for v in range(10)]


def _image_model(dtype):
    return nn.Sequential([
        nn.Conv2D(6, 3, padding="same", activation="relu", input_shape=(12, 12, 2)),
        nn.MaxPooling2D(2, padding="same"),
        nn.Conv2D(5, (2, 3), strides=(2, 1), activation="relu"),
        nn.AveragePooling2D(2, strides=1, padding="same"),
        nn.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu"),
        nn.MaxPooling2D(2, strides=1),  # overlapping windows
        nn.Flatten(),
        nn.Dense(7, activation="relu"),
        nn.Dense(3, activation="softmax"),
    ], seed=3, dtype=dtype)


def _one_step(dtype, images, labels):
    """Outputs, input gradient, parameter gradients and weights after one Adam step."""
    model = _image_model(dtype)
    model.compile(nn.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy")
    outputs = model(images, training=True)
    input_gradient = model.input_gradient(images, np.eye(3)[labels])
    model.train_on_batch(images, labels)
    return [outputs, input_gradient, *model.gradients, *model.get_weights()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_give_the_same_numbers_split_or_in_one_piece(dtype, rng, monkeypatch):
    images = rng.normal(size=(5, 12, 12, 2)).astype(dtype)
    images[0, :2, :2] = 0.5  # ties in the max-pooling windows: the first maximum must win
    labels = rng.integers(0, 3, size=5)
    with threadpool_limits(limits=1, user_api="blas"):
        whole = _one_step(dtype, images, labels)
    monkeypatch.setattr(threads, "MIN_SPLIT_VALUES", 0)
    with threadpool_limits(limits=2, user_api="blas"):
        split = _one_step(dtype, images, labels)
    for expected, got in zip(whole, split, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_split_layers_equal_the_plain_formulas(rng, split_everything):
    """Conv2D's split im2col-and-product against ``convolution.conv2d`` (one product over the
    whole batch), max pooling against the maximum over each window, ReLU against max(x, 0)."""
    from ildl.nn.convolution import conv2d

    images = rng.normal(size=(5, 11, 10, 3)).astype("float32")
    conv = nn.Conv2D(4, (3, 2), strides=(2, 1), padding="same")
    conv.build(images.shape[1:], rng, np.float32)
    conv.params["bias"][...] = rng.normal(size=4)
    np.testing.assert_array_equal(
        conv.call(images, training=True),
        conv2d(images, conv.params["kernel"], conv.params["bias"], (2, 1), "same"))
    pool = nn.MaxPooling2D(3, strides=2, padding="same")
    pool.build(images.shape[1:], rng, np.float32)
    windows = pool._geometry_for(images.shape[1:3]).window_view(images, pad_value=-np.inf)
    np.testing.assert_array_equal(pool.call(images, training=True), windows.max(axis=(3, 4)))
    np.testing.assert_array_equal(nn.activations.relu(images), np.maximum(images, 0))
