"""The PyTorch and Keras models that the speed benchmarks race against ildl start where ildl's model
starts: with its initial weights copied in they compute ildl's outputs, and one training step
moves their weights as ildl's step moves its own (Keras' Adam where it is the same arithmetic)."""

import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ildl import nn
from ildl.demos.mnist import build_cnn
from ildl.demos.moons import build_model, make_torch_twin, moons_data

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import cnn_mnist  # noqa: E402  (a script folder, not a package)
import common  # noqa: E402
import conv_winograd  # noqa: E402
import mlp_mnist  # noqa: E402
import moons  # noqa: E402

BATCH = 16


@dataclass
class Network:
    """One benchmark network in the three frameworks, and a batch for it."""

    build_ildl: Callable
    build_torch: Callable
    build_keras: Callable
    batch: Callable  # () -> (x, y) in ildl's (and Keras') layout
    torch_layout: Callable  # ildl's input batch -> the torch model's
    loss: str  # ildl's loss
    outputs_logits: bool  # the PyTorch and Keras models end before the softmax


def digits_batch(shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.random((BATCH, *shape), dtype=np.float32), rng.integers(0, 10, BATCH)


def moons_batch() -> tuple[np.ndarray, np.ndarray]:
    data = moons_data()
    return data.x_train[:BATCH], data.y_train[:BATCH]


NETWORKS = {
    "mlp": Network(mlp_mnist.build_ildl, mlp_mnist.build_torch, mlp_mnist.build_keras,
                   lambda: digits_batch((784,)), lambda x: x,
                   "sparse_categorical_crossentropy", outputs_logits=True),
    "cnn": Network(build_cnn, cnn_mnist.build_torch, cnn_mnist.build_keras,
                   lambda: digits_batch((28, 28, 1)), lambda x: x.transpose(0, 3, 1, 2).copy(),
                   "sparse_categorical_crossentropy", outputs_logits=True),
    "moons": Network(build_model, make_torch_twin, moons.build_keras, moons_batch,
                     lambda x: x, "binary_crossentropy", outputs_logits=False),
}


@pytest.fixture(scope="module")
def keras():
    if importlib.util.find_spec("keras") is None:
        pytest.skip(f"keras is not installed: {common.KERAS_INSTALL}")
    return common.import_keras()


def softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def torch_outputs(network: Network, twin, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        outputs = twin(torch.from_numpy(network.torch_layout(x))).numpy()
    return softmax(outputs) if network.outputs_logits else outputs


def keras_outputs(network: Network, twin, x: np.ndarray, keras) -> np.ndarray:
    outputs = keras.ops.convert_to_numpy(twin(x)).astype(np.float32)
    return softmax(outputs) if network.outputs_logits else outputs


def torch_weights(network: Network, model: nn.Sequential) -> list[np.ndarray]:
    """ildl's weights in the torch model's layout (copied by the function under test in the
    forward test, so a wrong layout fails there first)."""
    return [parameter.detach().numpy().copy()
            for parameter in network.build_torch(model).parameters()]


def assert_same_step(before: list, after: list, expected_before: list,
                     expected_after: list) -> None:
    """The weights moved as the expected ones did: the steps agree to float32 rounding of the
    gradients, and they are steps (large against that tolerance)."""
    for start, end, expected_start, expected_end in zip(before, after, expected_before,
                                                        expected_after):
        np.testing.assert_allclose(start, expected_start, rtol=0, atol=1e-7)
        step, expected_step = end - start, expected_end - expected_start
        size = np.abs(expected_step).max()
        assert size > 1e-3
        np.testing.assert_allclose(step, expected_step, rtol=1e-3, atol=1e-4 * size)


@pytest.mark.parametrize("name", NETWORKS)
def test_torch_model_computes_ildls_outputs(name):
    pytest.importorskip("torch")
    network = NETWORKS[name]
    model = network.build_ildl(0)
    x, _ = network.batch()
    np.testing.assert_allclose(torch_outputs(network, network.build_torch(model), x),
                               model.predict(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NETWORKS)
def test_keras_model_computes_ildls_outputs(name, keras):
    network = NETWORKS[name]
    model = network.build_ildl(0)
    x, _ = network.batch()
    np.testing.assert_allclose(keras_outputs(network, network.build_keras(model), x, keras),
                               model.predict(x), rtol=1e-5, atol=1e-6)


def ildl_sgd_step(network: Network,
                  learning_rate: float) -> tuple[nn.Sequential, nn.Sequential]:
    """A fresh ildl model, and the same model after one gradient-descent step on the batch."""
    model = network.build_ildl(0)
    stepped = network.build_ildl(0)
    stepped.compile(nn.optimizers.SGD(learning_rate=learning_rate), network.loss)
    stepped.train_on_batch(*network.batch())
    return model, stepped


@pytest.mark.parametrize("name", NETWORKS)
def test_one_gradient_descent_step_of_torch_moves_the_weights_as_ildls(name):
    torch = pytest.importorskip("torch")
    network = NETWORKS[name]
    model, stepped = ildl_sgd_step(network, learning_rate=0.5)
    twin = network.build_torch(model)
    before = [parameter.detach().numpy().copy() for parameter in twin.parameters()]
    x, y = network.batch()
    outputs = twin(torch.from_numpy(network.torch_layout(x)))
    if network.outputs_logits:
        loss = torch.nn.functional.cross_entropy(outputs, torch.from_numpy(y))
    else:
        loss = torch.nn.functional.binary_cross_entropy(
            outputs, torch.from_numpy(y.astype(np.float32)).reshape(-1, 1))
    loss.backward()
    torch.optim.SGD(twin.parameters(), lr=0.5).step()
    after = [parameter.detach().numpy() for parameter in twin.parameters()]
    assert_same_step(before, after, torch_weights(network, model),
                     torch_weights(network, stepped))


@pytest.mark.parametrize("name", NETWORKS)
def test_one_gradient_descent_step_of_keras_moves_the_weights_as_ildls(name, keras):
    network = NETWORKS[name]
    model, stepped = ildl_sgd_step(network, learning_rate=0.5)
    twin = network.build_keras(model)
    before = [weight.copy() for weight in twin.get_weights()]
    twin.compile(keras.optimizers.SGD(learning_rate=0.5),
                 keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                 if network.outputs_logits else keras.losses.BinaryCrossentropy())
    x, y = network.batch()
    twin.train_on_batch(x, y if network.outputs_logits else y.astype(np.float32))
    assert_same_step(before, twin.get_weights(), model.get_weights(), stepped.get_weights())


def assert_same_adam_step(after: list, expected_after: list, learning_rate: float) -> None:
    """Adam's first step moves each weight by lr g / (|g| + eps): about lr, except where the
    gradient is near zero (|g| ~ eps) and float32 rounding of g changes the step much. So: every
    weight within lr / 10 of the expected, all but 1 in 10 000 within lr / 1000 (an epsilon of
    1e-7 instead of 1e-8 moves thousands of the MLP's weights further)."""
    differences = np.concatenate([np.abs(end - expected).ravel()
                                  for end, expected in zip(after, expected_after)])
    assert differences.max() < learning_rate / 10
    assert np.mean(differences > learning_rate / 1000) < 1e-4


def test_the_benchmarks_adam_step_is_the_same_in_torch_and_ildl():
    """common.train_torch and common.train_ildl: one batch that is the whole set is one step."""
    pytest.importorskip("torch")
    network = NETWORKS["mlp"]
    x, y = network.batch()
    model, stepped = network.build_ildl(0), network.build_ildl(0)
    common.train_ildl(stepped, x, y, x, y, 1, BATCH, 1e-2)
    twin = network.build_torch(model)
    common.train_torch(twin, x, y, 1, BATCH, 1e-2, seed=0)
    assert_same_adam_step([parameter.detach().numpy() for parameter in twin.parameters()],
                          torch_weights(network, stepped), 1e-2)


def test_keras_adam_step_is_ildls_with_epsilon_before_the_bias_correction(keras):
    """common.train_keras's step t divides by sqrt(v) + eps, before the correction
    sqrt(1 - b2^t): ildl's step with eps / sqrt(1 - b2^t) (after it) is the same arithmetic."""
    network = NETWORKS["mlp"]
    x, y = network.batch()
    model, stepped = network.build_ildl(0), network.build_ildl(0)
    stepped.compile(nn.optimizers.Adam(learning_rate=1e-2,
                                       epsilon=common.ADAM_EPSILON / math.sqrt(1 - 0.999)),
                    network.loss)
    stepped.train_on_batch(x, y)
    twin = network.build_keras(model)
    common.train_keras(twin, x, y, x, y, 1, BATCH, 1e-2, seed=0)
    assert_same_adam_step(twin.get_weights(), stepped.get_weights(), 1e-2)


def test_the_moons_step_written_by_hand_trains_as_ildl_does():
    """benchmarks/moons.py's floor row does the arithmetic of ildl's step, so its time is a
    fair floor: after 20 full-batch steps its weights are ildl's (float32 rounding apart)."""
    data = moons_data()
    model = build_model(0)
    kernels, biases, _ = moons.train_by_hand(model, data, 20)
    model.compile(nn.optimizers.SGD(learning_rate=moons.LEARNING_RATE), "binary_crossentropy")
    model.fit(data.x_train, data.y_train, batch_size=len(data.x_train), epochs=20,
              shuffle=False, verbose=0)
    for layer, kernel, bias in zip(model.layers, kernels, biases):
        np.testing.assert_allclose(kernel, layer.params["kernel"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(bias, layer.params["bias"], rtol=1e-4, atol=1e-6)
    assert not np.allclose(kernels[0], build_model(0).layers[0].params["kernel"])  # it trained


def test_the_winograd_benchmark_computes_the_convolution():
    """benchmarks/conv_winograd.py times a Winograd F(2x2, 3x3) convolution against im2col; it
    must compute the same convolution (ildl.nn.convolution.conv2d) for its timing to count."""
    from ildl.nn.convolution import conv2d

    rng = np.random.default_rng(0)
    shape = (conv_winograd.BATCH, conv_winograd.SIZE, conv_winograd.SIZE, conv_winograd.CHANNELS)
    images = rng.standard_normal(shape, dtype=np.float32)
    kernel = rng.standard_normal((3, 3, conv_winograd.CHANNELS, conv_winograd.FILTERS),
                                 dtype=np.float32)
    transformed_kernel = np.einsum("ia,abcf,jb->ijcf", conv_winograd.KERNEL_TRANSFORM, kernel,
                                   conv_winograd.KERNEL_TRANSFORM)
    transformed = conv_winograd.transform_inputs(conv_winograd.input_tiles(images))
    products = np.einsum("ijtc,ijcf->ijtf", transformed, transformed_kernel)
    expected = conv2d(images, kernel, padding="same")
    np.testing.assert_allclose(conv_winograd.transform_outputs(products), expected,
                               rtol=1e-4, atol=1e-3)


def test_the_cnn_floor_times_every_product_of_a_training_step():
    """benchmarks/cnn_mnist.py's floor row: the step's products, counted by hand for the CNN
    (conv 3x3x1 -> 32 on 28x28, conv 3x3x32 -> 64 on 14x14, dense 3136 -> 128 -> 10): forward,
    kernel gradient (bias row included) and input gradient (none for the first layer)."""
    n = 8
    conv1, conv2 = n * 28 * 28, n * 14 * 14  # output pixels: the rows of im2col's matrices
    assert cnn_mnist.step_products(build_cnn(), n) == [
        ((conv1, 10), (10, 32), False), ((10, conv1), (conv1, 32), True),
        ((conv2, 289), (289, 64), False), ((289, conv2), (conv2, 64), True),
        ((conv2, 64), (64, 288), False),
        ((n, 3136), (3136, 128), False), ((3136, n), (n, 128), True),
        ((n, 128), (128, 3136), False),
        ((n, 128), (128, 10), False), ((128, n), (n, 10), True), ((n, 10), (10, 128), False)]
