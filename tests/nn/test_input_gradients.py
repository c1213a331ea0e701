"""Gradients with respect to inputs and activations (``Sequential.input_gradient`` and
``Sequential.activations_and_gradient``, the API the explainers use): against PyTorch autograd on
a twin built from the same weights, and against central differences in float64."""

import numpy as np
import pytest
from conv_reference import TORCH_ACTIVATIONS, nchw, nhwc, torch_kernel, torch_pad
from nn_reference import central_difference

from ildl import nn

INPUT_SHAPE = (7, 6, 2)
CLASSES = 5


def small_cnn(activation="relu", seed=3):
    """Conv2D -> MaxPooling2D -> Conv2D("same") -> Dropout -> Flatten -> Dense(softmax)."""
    return nn.Sequential([
        nn.Conv2D(4, 3, activation=activation, input_shape=INPUT_SHAPE),
        nn.MaxPooling2D(2),
        nn.Conv2D(3, 3, padding="same", activation="tanh"),
        nn.Dropout(0.5),
        nn.Flatten(),
        nn.Dense(CLASSES, activation="softmax"),
    ], seed=seed, dtype="float64")


def torch_twin_outputs(torch, model, x):
    """Every layer's output of the same network computed by PyTorch from the ildl weights (NCHW
    images, dropout off as at inference); the first tensor is the input leaf."""
    first, _, second, _, _, dense = model.layers
    x_t = nchw(torch, x, requires_grad=True)
    conv1 = TORCH_ACTIVATIONS[first.activation.name](torch, torch.nn.functional.conv2d(
        x_t, torch_kernel(torch, first.params["kernel"]), torch.tensor(first.params["bias"])))
    pooled = torch.nn.functional.max_pool2d(conv1, 2)
    padded = torch_pad(torch, pooled, pooled.shape[2:], (3, 3), (1, 1), "same")
    conv2 = torch.tanh(torch.nn.functional.conv2d(
        padded, torch_kernel(torch, second.params["kernel"]), torch.tensor(second.params["bias"])))
    flat = conv2.permute(0, 2, 3, 1).flatten(1)  # ildl flattens NHWC
    logits = flat @ torch.tensor(dense.params["kernel"]) + torch.tensor(dense.params["bias"])
    outputs = [x_t, conv1, pooled, conv2, conv2, flat, torch.softmax(logits, dim=1)]
    for tensor in outputs[1:]:
        tensor.retain_grad()
    return outputs


def as_numpy(tensor):
    """NCHW maps -> NHWC arrays; flat tensors unchanged."""
    return nhwc(tensor) if tensor.ndim == 4 else tensor.detach().numpy()


def test_input_gradient_equals_autograd(rng, torch):
    model = small_cnn()
    x = rng.normal(size=(3, *INPUT_SHAPE))
    upstream = rng.normal(size=(3, CLASSES))
    ours = model.input_gradient(x, upstream)
    outputs = torch_twin_outputs(torch, model, x)
    np.testing.assert_allclose(model.predict(x), as_numpy(outputs[-1]), rtol=1e-12, atol=1e-14)
    (outputs[-1] * torch.tensor(upstream)).sum().backward()
    assert ours.shape == x.shape
    np.testing.assert_allclose(ours, nhwc(outputs[0].grad), rtol=1e-10, atol=1e-14)


def test_activations_and_gradient_of_every_layer_equal_autograd(rng, torch):
    """Each layer (by object and by name): its outputs and d sum(p * R) / d outputs."""
    model = small_cnn()
    x = rng.normal(size=(2, *INPUT_SHAPE))
    upstream = rng.normal(size=(2, CLASSES))
    outputs = torch_twin_outputs(torch, model, x)
    (outputs[-1] * torch.tensor(upstream)).sum().backward()
    for index, layer in enumerate(model.layers):
        for which in (layer, layer.name):
            activations, grad = model.activations_and_gradient(x, which, upstream)
            expected = outputs[index + 1]
            assert activations.shape == grad.shape == (2, *layer.output_shape)
            np.testing.assert_allclose(activations, as_numpy(expected), rtol=1e-12, atol=1e-14,
                                       err_msg=f"activations of {layer.name}")
            if layer is not model.layers[-1]:  # the output's gradient is `upstream` itself
                np.testing.assert_allclose(grad, as_numpy(expected.grad), rtol=1e-10,
                                           atol=1e-14, err_msg=f"gradient at {layer.name}")
    np.testing.assert_array_equal(grad, upstream)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_input_gradient_equals_finite_differences(activation, rng):
    """d sum(model(x) * R) / dx by central differences (relu: random inputs stay off its kink)."""
    model = small_cnn(activation)
    x = rng.normal(size=(2, *INPUT_SHAPE))
    upstream = rng.normal(size=(2, CLASSES))
    analytic = model.input_gradient(x, upstream)
    numeric = central_difference(lambda: float(np.sum(model.predict(x) * upstream)), x)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_one_hot_output_gradient_is_the_gradient_of_one_probability(rng):
    """Rows are independent: a one-hot row per image gives each image's d p_c / dx."""
    model = small_cnn("gelu")
    x = rng.normal(size=(2, *INPUT_SHAPE))
    classes = [1, 4]
    together = model.input_gradient(x, np.eye(CLASSES)[classes])
    for row, label in enumerate(classes):
        alone = x[row:row + 1].copy()

        def probability(alone=alone, label=label):
            return float(model.predict(alone)[0, label])

        numeric = central_difference(probability, alone)
        np.testing.assert_allclose(together[row:row + 1], numeric, rtol=1e-6, atol=1e-9)


def test_gradients_run_in_inference_mode_and_leave_training_unchanged(rng):
    """Dropout is off (two calls agree) and a model that computed input gradients trains exactly
    like one that did not."""
    x = rng.normal(size=(6, *INPUT_SHAPE))
    y = rng.integers(0, CLASSES, size=6)
    used, fresh = small_cnn(seed=8), small_cnn(seed=8)
    for model in (used, fresh):
        model.compile("adam", "sparse_categorical_crossentropy")
    first = used.input_gradient(x, np.ones((6, CLASSES)) / CLASSES)
    np.testing.assert_array_equal(first, used.input_gradient(x, np.ones((6, CLASSES)) / CLASSES))
    used.activations_and_gradient(x, "conv2d", np.eye(CLASSES)[y])
    for _ in range(2):
        assert used.train_on_batch(x, y) == fresh.train_on_batch(x, y)
    for a, b in zip(used.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_float32_model_gives_float32_gradients(rng):
    model = nn.Sequential([nn.Conv2D(2, 3, input_shape=(5, 5, 1)), nn.Flatten(),
                           nn.Dense(3, activation="softmax")], seed=0)
    grad = model.input_gradient(rng.normal(size=(2, 5, 5, 1)), np.eye(3)[[0, 2]])
    assert grad.dtype == np.float32 and grad.shape == (2, 5, 5, 1)


def test_bad_arguments_get_clear_errors(rng):
    model = small_cnn()
    x = rng.normal(size=(2, *INPUT_SHAPE))
    with pytest.raises(ValueError, match=r"output_gradient must have the shape of the model's "
                                         r"output \(2, 5\) but has shape \(2, 4\)"):
        model.input_gradient(x, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"'conv9' is not a layer of model 'sequential'.*"
                                         r"'conv2d', 'maxpooling2d'"):
        model.activations_and_gradient(x, "conv9", np.ones((2, CLASSES)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(N, 7, 6, 2\)"):
        model.input_gradient(x[..., :1], np.ones((2, CLASSES)))
