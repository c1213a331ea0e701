"""Image layers (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape,
BatchNormalization): every gradient against central differences (own helper and nn.gradcheck) over
random configurations, forward and backward against PyTorch twins, clear errors for wrong shapes,
and a small CNN end to end (model gradcheck, save/load/resume, a PyTorch twin trained with Adam)."""

import numpy as np
import pytest
from conv_reference import (
    TORCH_ACTIVATIONS,
    image_pads,
    keras_kernel,
    nchw,
    nhwc,
    tf_output_length,
    torch_kernel,
    torch_pad,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nn_reference import ACTIVATION_FORMULAS, build, central_difference, randomize_params

from ildl import nn
from ildl.nn import regularizers

GRADIENT_SETTINGS = settings(max_examples=15, deadline=None, database=None)
# The ``torch`` fixture is only the module (no state to reset between examples).
TWIN_SETTINGS = settings(max_examples=25, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])
SMOOTH_ACTIVATIONS = ["linear", "tanh", "sigmoid", "gelu"]  # central differences need no kinks


def check_layer_gradients(layer, x, rng, training=True):
    """Own central differences of L = sum(y * R) + penalty w.r.t. x and every parameter."""
    projection = rng.normal(size=(len(x), *layer.output_shape))

    def scalar():
        return float(np.sum(layer.forward(x, training=training) * projection)) \
            + layer.regularization_loss()

    scalar()
    grad_x = layer.backward(projection)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    assert grad_x.shape == x.shape
    np.testing.assert_allclose(grad_x, central_difference(scalar, x), rtol=1e-6, atol=1e-8,
                               err_msg="input gradient")
    for name, param in layer.params.items():
        np.testing.assert_allclose(analytic[name], central_difference(scalar, param),
                                   rtol=1e-6, atol=1e-8, err_msg=f"gradient of {name}")


def message_of(error_info):
    return str(error_info.value)


@st.composite
def conv_configs(draw, max_extra=4):
    """A Conv2D configuration that fits its input: strides > 1 or dilation > 1, never both."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if draw(st.booleans()):
        strides, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), (1, 1)
    else:
        strides, dilation = (1, 1), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    hw = []
    for axis in range(2):
        smallest = (kernel[axis] - 1) * dilation[axis] + 1 if padding == "valid" else 1
        hw.append(smallest + draw(st.integers(0, max_extra)))  # odd and even sizes
    return {"kernel": kernel, "strides": strides, "dilation": dilation, "padding": padding,
            "hw": tuple(hw), "n": draw(st.integers(1, 2)), "channels": draw(st.integers(1, 3)),
            "filters": draw(st.integers(1, 3)), "use_bias": draw(st.booleans()),
            "seed": draw(st.integers(0, 2**32 - 1))}


@st.composite
def pool_configs(draw, max_extra=4):
    pool = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.sampled_from(["valid", "same"]))
    hw = tuple((pool[axis] if padding == "valid" else 1) + draw(st.integers(0, max_extra))
               for axis in range(2))
    return {"pool": pool, "strides": strides, "padding": padding, "hw": hw,
            "n": draw(st.integers(1, 2)), "channels": draw(st.integers(1, 3)),
            "seed": draw(st.integers(0, 2**32 - 1))}


def make_conv(config, activation=None, regularizer=None):
    layer = nn.Conv2D(config["filters"], config["kernel"], strides=config["strides"],
                      padding=config["padding"], dilation_rate=config["dilation"],
                      activation=activation, use_bias=config["use_bias"],
                      kernel_regularizer=regularizer,
                      bias_regularizer=regularizer if config["use_bias"] else None)
    build(layer, (*config["hw"], config["channels"]))
    return layer


# --------------------------------------------------------------------------------------
# Gradients against central differences
# --------------------------------------------------------------------------------------

@GRADIENT_SETTINGS
@given(config=conv_configs(), activation=st.sampled_from(SMOOTH_ACTIVATIONS),
       regularized=st.booleans())
def test_conv2d_gradients(config, activation, regularized):
    rng = np.random.default_rng(config["seed"])
    layer = make_conv(config, activation, regularizers.L2(0.1) if regularized else None)
    randomize_params(layer, rng)
    x = rng.normal(size=(config["n"], *config["hw"], config["channels"]))
    out_hw = tuple(tf_output_length(config["hw"][a], config["kernel"][a], config["strides"][a],
                                    config["padding"], config["dilation"][a]) for a in (0, 1))
    assert layer.output_shape == (*out_hw, config["filters"])
    assert layer.forward(x).shape == (config["n"], *out_hw, config["filters"])
    check_layer_gradients(layer, x, rng)
    assert nn.gradcheck(layer, x) is True


def make_pool(cls, config):
    layer = cls(config["pool"], strides=config["strides"], padding=config["padding"])
    build(layer, (*config["hw"], config["channels"]))
    return layer


@GRADIENT_SETTINGS
@given(config=pool_configs(), kind=st.sampled_from(["max", "average"]))
def test_pooling_gradients(config, kind):
    rng = np.random.default_rng(config["seed"])
    layer = make_pool(nn.MaxPooling2D if kind == "max" else nn.AveragePooling2D, config)
    # distinct values: no ties, and no two within the finite-difference step of each other
    size = config["n"] * config["hw"][0] * config["hw"][1] * config["channels"]
    x = rng.permutation(size).reshape(config["n"], *config["hw"], config["channels"]) * 0.01
    strides = config["strides"] or config["pool"]
    out_hw = tuple(tf_output_length(config["hw"][a], config["pool"][a], strides[a],
                                    config["padding"]) for a in (0, 1))
    assert layer.output_shape == (*out_hw, config["channels"])
    check_layer_gradients(layer, x, rng)
    assert nn.gradcheck(layer, x) is True


@GRADIENT_SETTINGS
@given(n=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5), c=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_global_average_pooling_flatten_reshape_gradients(n, h, w, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c))
    gap = nn.GlobalAveragePooling2D()
    build(gap, (h, w, c))
    np.testing.assert_allclose(gap.forward(x), x.sum(axis=(1, 2)) / (h * w), rtol=1e-12)
    flatten = nn.Flatten()
    build(flatten, (h, w, c))
    np.testing.assert_array_equal(flatten.forward(x), np.stack([image.ravel() for image in x]))
    reshape = nn.Reshape((c, -1))
    build(reshape, (h, w, c))
    assert reshape.output_shape == (c, h * w)
    np.testing.assert_array_equal(reshape.forward(x), x.reshape(n, c, h * w))
    for layer in (gap, flatten, reshape):
        check_layer_gradients(layer, x, rng)
        assert nn.gradcheck(layer, x) is True


@GRADIENT_SETTINGS
@given(shape=st.sampled_from([(4,), (3, 3, 2), (2, 5, 1), (1, 1, 3)]), n=st.integers(2, 4),
       training=st.booleans(), center=st.booleans(), scale=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batch_normalization_gradients(shape, n, training, center, scale, seed):
    rng = np.random.default_rng(seed)
    layer = nn.BatchNormalization(momentum=0.8, epsilon=1e-3, center=center, scale=scale)
    build(layer, shape)
    randomize_params(layer, rng)
    layer.state["moving_mean"][...] = rng.normal(size=shape[-1])
    layer.state["moving_variance"][...] = rng.uniform(0.5, 2.0, size=shape[-1])
    x = rng.normal(size=(n, *shape)) * 2 + 1
    check_layer_gradients(layer, x, rng, training=training)
    assert nn.gradcheck(layer, x, training=training) is True


# --------------------------------------------------------------------------------------
# PyTorch twins: forward and backward
# --------------------------------------------------------------------------------------

@TWIN_SETTINGS
@given(config=conv_configs(max_extra=5),
       activation=st.sampled_from(["linear", "relu", "tanh", "sigmoid"]),
       regularized=st.booleans())
def test_conv2d_equals_torch_forward_and_backward(config, activation, regularized, torch):
    rng = np.random.default_rng(config["seed"])
    l2 = 0.05 if regularized else 0.0
    layer = make_conv(config, activation, regularizers.L2(l2) if regularized else None)
    randomize_params(layer, rng)
    x = rng.normal(size=(config["n"], *config["hw"], config["channels"]))
    out = layer.forward(x, training=True)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    x_t = nchw(torch, x, requires_grad=True)
    weight = torch_kernel(torch, layer.params["kernel"], requires_grad=True)
    bias = torch.tensor(layer.params["bias"], requires_grad=True) if config["use_bias"] else None
    padded = torch_pad(torch, x_t, config["hw"], config["kernel"], config["strides"],
                       config["padding"], config["dilation"])
    logits = torch.nn.functional.conv2d(padded, weight, bias, stride=config["strides"],
                                        dilation=config["dilation"])
    out_t = TORCH_ACTIVATIONS[activation](torch, logits)
    loss = (out_t * nchw(torch, upstream)).sum() + l2 * (weight**2).sum()
    if bias is not None:
        loss = loss + l2 * (bias**2).sum()
    loss.backward()

    np.testing.assert_allclose(out, nhwc(out_t), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_x, nhwc(x_t.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["kernel"], keras_kernel(weight.grad), rtol=1e-10,
                               atol=1e-12)
    if bias is not None:
        np.testing.assert_allclose(layer.grads["bias"], bias.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert layer.regularization_loss() == pytest.approx(
        l2 * sum(float((p**2).sum()) for p in layer.params.values()), rel=1e-12, abs=0)


@TWIN_SETTINGS
@given(config=pool_configs(max_extra=5), ties=st.booleans())
def test_max_pooling_equals_torch(config, ties, torch):
    """Valid: F.max_pool2d; same: F.pad with -inf first. With ties (small integers) the gradient
    goes to the first maximum of each window in both."""
    rng = np.random.default_rng(config["seed"])
    layer = make_pool(nn.MaxPooling2D, config)
    shape = (config["n"], *config["hw"], config["channels"])
    x = rng.integers(-1, 2, size=shape).astype(float) if ties else rng.normal(size=shape)
    out = layer.forward(x, training=True)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    strides = config["strides"] or config["pool"]
    x_t = nchw(torch, x, requires_grad=True)
    padded = torch_pad(torch, x_t, config["hw"], config["pool"], strides, config["padding"],
                       value=-np.inf)
    out_t = torch.nn.functional.max_pool2d(padded, config["pool"], stride=strides)
    (out_t * nchw(torch, upstream)).sum().backward()
    np.testing.assert_array_equal(out, nhwc(out_t))
    np.testing.assert_allclose(grad_x, nhwc(x_t.grad), rtol=1e-12, atol=1e-12)


@TWIN_SETTINGS
@given(config=pool_configs(max_extra=5))
def test_average_pooling_equals_torch_and_hand_computation(config, torch):
    """Valid: F.avg_pool2d. Same: each window averages only its pixels inside the image (Keras
    and TensorFlow), computed here by a loop over windows."""
    rng = np.random.default_rng(config["seed"])
    layer = make_pool(nn.AveragePooling2D, config)
    x = rng.normal(size=(config["n"], *config["hw"], config["channels"]))
    out = layer.forward(x, training=True)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    strides = config["strides"] or config["pool"]
    if config["padding"] == "valid":
        x_t = nchw(torch, x, requires_grad=True)
        out_t = torch.nn.functional.avg_pool2d(x_t, config["pool"], stride=strides)
        (out_t * nchw(torch, upstream)).sum().backward()
        expected, expected_grad = nhwc(out_t), nhwc(x_t.grad)
    else:
        (top, _), (left, _) = image_pads(config["hw"], config["pool"], strides, "same")
        expected = np.zeros(out.shape)
        expected_grad = np.zeros(x.shape)
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                r0, c0 = i * strides[0] - top, j * strides[1] - left
                rows = slice(max(r0, 0), min(r0 + config["pool"][0], config["hw"][0]))
                cols = slice(max(c0, 0), min(c0 + config["pool"][1], config["hw"][1]))
                count = (rows.stop - rows.start) * (cols.stop - cols.start)
                expected[:, i, j, :] = x[:, rows, cols, :].sum(axis=(1, 2)) / count
                expected_grad[:, rows, cols, :] += upstream[:, i, j, None, None, :] / count
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, expected_grad, rtol=1e-12, atol=1e-12)


def test_average_pooling_same_by_hand():
    """3x3 image, 2x2 windows, stride 2, "same": the pad goes bottom/right and is not counted."""
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)   # 1 2 3 / 4 5 6 / 7 8 9
    layer = nn.AveragePooling2D(2, padding="same")
    build(layer, (3, 3, 1))
    np.testing.assert_allclose(layer.forward(x)[0, :, :, 0],
                               [[(1 + 2 + 4 + 5) / 4, (3 + 6) / 2], [(7 + 8) / 2, 9]],
                               rtol=1e-15)
    maximum = nn.MaxPooling2D(2, padding="same")
    build(maximum, (3, 3, 1))
    np.testing.assert_array_equal(maximum.forward(-x)[0, :, :, 0], [[-1, -3], [-7, -9]])


def test_global_average_pooling_equals_torch(rng, torch):
    x = rng.normal(size=(3, 5, 4, 6))
    layer = nn.GlobalAveragePooling2D()
    build(layer, x.shape[1:])
    x_t = nchw(torch, x, requires_grad=True)
    out_t = torch.nn.functional.adaptive_avg_pool2d(x_t, 1).flatten(1)
    upstream = rng.normal(size=(3, 6))
    (out_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(upstream), nhwc(x_t.grad), rtol=1e-12)


def own_moving_averages(batches, momentum):
    """Keras: moving = m * moving + (1 - m) * batch value, with the biased batch variance."""
    mean, variance = 0.0, 1.0
    for x in batches:
        axes = tuple(range(x.ndim - 1))
        mean = momentum * mean + (1 - momentum) * x.mean(axis=axes)
        variance = momentum * variance + (1 - momentum) * x.var(axis=axes)
    return mean, variance


@TWIN_SETTINGS
@given(image=st.booleans(), n=st.integers(2, 5), channels=st.integers(1, 4),
       momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]), epsilon=st.sampled_from([1e-3, 1e-5, 0.1]),
       steps=st.integers(1, 3), affine=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_batch_normalization_equals_torch(image, n, channels, momentum, epsilon, steps, affine,
                                          seed, torch):
    """Training: outputs, input and gamma/beta gradients equal torch BatchNorm in train mode; the
    moving mean equals torch's running_mean (torch momentum = 1 - Keras momentum); the moving
    variance follows Keras (biased batch variance). Inference equals torch eval mode once the
    running statistics are copied over."""
    rng = np.random.default_rng(seed)
    shape = (3, 2, channels) if image else (channels,)
    layer = nn.BatchNormalization(momentum=momentum, epsilon=epsilon, center=affine, scale=affine)
    build(layer, shape)
    randomize_params(layer, rng)
    make = torch.nn.BatchNorm2d if image else torch.nn.BatchNorm1d
    twin = make(channels, eps=epsilon, momentum=1 - momentum, affine=affine,
                dtype=torch.float64)
    if affine:
        with torch.no_grad():
            twin.weight.copy_(torch.tensor(layer.params["gamma"]))
            twin.bias.copy_(torch.tensor(layer.params["beta"]))

    def to_torch(array, requires_grad=False):
        return nchw(torch, array, requires_grad) if image else \
            torch.tensor(array, requires_grad=requires_grad)

    def to_numpy(tensor):
        return nhwc(tensor) if image else tensor.detach().numpy()

    batches = []
    for mode in ["train"] * steps + ["eval"]:
        training = mode == "train"
        x = rng.normal(size=(n, *shape)) * rng.uniform(0.5, 3) + rng.normal()
        batches += [x] if training else []
        twin.train(training)
        if affine:
            twin.weight.grad = twin.bias.grad = None
        x_t = to_torch(x, requires_grad=True)
        out_t = twin(x_t)
        out = layer.forward(x, training=training)
        upstream = rng.normal(size=out.shape)
        (out_t * to_torch(upstream)).sum().backward()
        grad_x = layer.backward(upstream)
        np.testing.assert_allclose(out, to_numpy(out_t), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(grad_x, to_numpy(x_t.grad), rtol=1e-10, atol=1e-10)
        if affine:
            np.testing.assert_allclose(layer.grads["gamma"], twin.weight.grad.numpy(),
                                       rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(layer.grads["beta"], twin.bias.grad.numpy(), rtol=1e-10,
                                       atol=1e-10)
        if training:
            mean, variance = own_moving_averages(batches, momentum)
            np.testing.assert_allclose(layer.state["moving_mean"], twin.running_mean.numpy(),
                                       rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(layer.state["moving_mean"], mean, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(layer.state["moving_variance"], variance, rtol=1e-10,
                                       atol=1e-12)
            # torch tracks the unbiased variance: its running_var is not ildl's (Keras') one
            assert not np.allclose(twin.running_var.numpy(), variance, rtol=1e-6, atol=0)
            with torch.no_grad():  # copy ildl's moving variance over for the eval step
                twin.running_var.copy_(torch.tensor(layer.state["moving_variance"]))


def test_batch_normalization_by_hand():
    """Two samples per channel: mean, biased variance, and one moving-average step."""
    layer = nn.BatchNormalization(momentum=0.9, epsilon=0.0)
    build(layer, (2,))
    x = np.array([[1.0, 10.0], [3.0, 14.0]])
    # channel 0: mean 2, var 1 -> [-1, 1]; channel 1: mean 12, var 4 -> [-1, 1]
    np.testing.assert_allclose(layer.forward(x, training=True), [[-1, -1], [1, 1]], rtol=1e-15)
    np.testing.assert_allclose(layer.state["moving_mean"], [0.2, 1.2], rtol=1e-15)
    np.testing.assert_allclose(layer.state["moving_variance"], [0.9 + 0.1, 0.9 + 0.4],
                               rtol=1e-15)
    # inference: (x - 0.2) / 1 and (x - 1.2) / sqrt(1.3)
    np.testing.assert_allclose(layer.forward(x, training=False),
                               [[0.8, 8.8 / np.sqrt(1.3)], [2.8, 12.8 / np.sqrt(1.3)]],
                               rtol=1e-14)
    assert layer.weight_names() == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert list(layer.params) == ["gamma", "beta"]


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 2.0])
def test_batch_normalization_refuses_bad_momentum(momentum):
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNormalization(momentum=momentum)


# --------------------------------------------------------------------------------------
# Shapes, weights and configs
# --------------------------------------------------------------------------------------

def test_conv2d_keras_weight_shapes_and_counts():
    layer = nn.Conv2D(8, (3, 2), input_shape=(10, 9, 3))
    build(layer, (10, 9, 3), dtype="float32")
    assert layer.params["kernel"].shape == (3, 2, 3, 8)
    assert layer.params["bias"].shape == (8,)
    assert layer.output_shape == (8, 8, 8)
    assert layer.count_params() == 3 * 2 * 3 * 8 + 8
    assert layer.params["kernel"].dtype == np.float32
    assert np.all(layer.params["bias"] == 0)  # Keras' default bias initializer: zeros
    x = np.random.default_rng(0).normal(size=(2, 10, 9, 3)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda: nn.Conv2D(4, (2, 3), strides=(1, 2), padding="same", dilation_rate=1,
                      activation="relu", use_bias=False, kernel_initializer="he_normal",
                      kernel_regularizer=regularizers.L2(0.01), name="c", input_shape=(7, 7, 2)),
    lambda: nn.Conv2D(3, 2, dilation_rate=(2, 1), bias_regularizer=regularizers.L1(0.1)),
    lambda: nn.MaxPooling2D((3, 2), strides=(1, 2), padding="same"),
    lambda: nn.AveragePooling2D(3, strides=1),
    lambda: nn.GlobalAveragePooling2D(),
    lambda: nn.Flatten(),
    lambda: nn.Reshape((-1, 2)),
    lambda: nn.BatchNormalization(momentum=0.5, epsilon=1e-5, center=False),
], ids=["conv", "conv_dilated", "maxpool", "avgpool", "gap", "flatten", "reshape", "batchnorm"])
def test_config_rebuilds_the_same_layer(make, rng):
    layer = make()
    rebuilt = type(layer)(**layer.get_config())
    for one in (layer, rebuilt):
        build(one, (7, 7, 2), seed=3)
    assert rebuilt.get_config() == layer.get_config()
    x = rng.normal(size=(3, 7, 7, 2))
    np.testing.assert_array_equal(rebuilt.forward(x, training=True),
                                  layer.forward(x, training=True))


def test_flatten_and_reshape_shapes():
    flatten = nn.Flatten()
    build(flatten, (3, 4, 5))
    assert flatten.output_shape == (60,)
    reshape = nn.Reshape((28, 28, 1))
    build(reshape, (784,))
    assert reshape.output_shape == (28, 28, 1)
    with pytest.raises(ValueError) as error:
        build(nn.Reshape((5, 5)), (24,))
    assert "(24,)" in message_of(error) and "(5, 5)" in message_of(error)
    with pytest.raises(ValueError, match="-1"):
        nn.Reshape((-1, -1))
    with pytest.raises(ValueError, match="target_shape"):
        nn.Reshape((0, 3))


# --------------------------------------------------------------------------------------
# Clear errors
# --------------------------------------------------------------------------------------

def test_three_dimensional_batch_into_a_lazily_built_model_suggests_a_channel_axis():
    model = nn.Sequential([nn.Conv2D(2, 3), nn.Flatten(), nn.Dense(1)])
    with pytest.raises(ValueError) as error:
        model.predict(np.zeros((4, 8, 8)))
    message = message_of(error)
    assert "(N, height, width, channels)" in message and "x[..., None]" in message
    assert "(N, 8, 8)" in message


def test_conv2d_built_on_flat_or_grey_inputs_says_what_it_expects():
    with pytest.raises(ValueError) as error:
        build(nn.Conv2D(2, 3), (8, 8))
    assert "(N, height, width, channels)" in message_of(error)
    assert "x[..., None]" in message_of(error)
    for layer in (nn.Conv2D(2, 3), nn.MaxPooling2D(), nn.GlobalAveragePooling2D()):
        with pytest.raises(ValueError) as error:
            build(layer, (64,))
        assert "(N, height, width, channels)" in message_of(error)
        assert "Reshape" in message_of(error)


def test_three_dimensional_batch_into_a_built_cnn_suggests_a_channel_axis():
    model = nn.Sequential([nn.Conv2D(2, 3, input_shape=(8, 8, 1)), nn.Flatten(), nn.Dense(1)])
    with pytest.raises(ValueError) as error:
        model.predict(np.zeros((4, 8, 8)))
    message = message_of(error)
    assert "(N, 8, 8, 1)" in message and "(4, 8, 8)" in message  # (passes today)
    assert "x[..., None]" in message  # (fails today)


def test_three_dimensional_batch_into_a_built_conv_layer_suggests_a_channel_axis():
    layer = nn.Conv2D(2, 3)
    build(layer, (8, 8, 1))
    with pytest.raises(ValueError) as error:
        layer.forward(np.zeros((4, 8, 8)))
    assert "(N, H, W, 1)" in message_of(error)  # (passes today)
    assert "x[..., None]" in message_of(error)  # (fails today)


@pytest.mark.parametrize("kernel, dilation, size", [(5, 1, 4), (3, 2, 4), ((1, 6), 1, 5)])
def test_kernel_larger_than_a_valid_input(kernel, dilation, size):
    with pytest.raises(ValueError) as error:
        nn.Sequential([nn.Conv2D(2, kernel, dilation_rate=dilation,
                                 input_shape=(size, size, 1))])
    message = message_of(error)
    assert f"{size}x{size}" in message and "padding='same'" in message
    # "same" padding always fits
    model = nn.Sequential([nn.Conv2D(2, kernel, dilation_rate=dilation, padding="same",
                                     input_shape=(size, size, 1))])
    assert model.output_shape == (size, size, 2)


def test_pooling_window_larger_than_a_valid_input():
    with pytest.raises(ValueError) as error:
        nn.Sequential([nn.MaxPooling2D(5, input_shape=(4, 4, 1))])
    assert "4x4" in message_of(error) and "(5, 5)" in message_of(error)
    with pytest.raises(ValueError, match="AveragePooling2D"):
        nn.Sequential([nn.AveragePooling2D((2, 6), input_shape=(4, 4, 1))])
    assert nn.Sequential([nn.MaxPooling2D(5, padding="same", input_shape=(4, 4, 1))]) \
        .output_shape == (1, 1, 1)


def test_channels_that_do_not_match_the_kernel(rng):
    layer = nn.Conv2D(2, 3)
    build(layer, (8, 8, 3))
    with pytest.raises(ValueError) as error:
        layer.forward(rng.normal(size=(2, 8, 8, 1)))
    message = message_of(error)
    assert "3 input channels" in message and "(2, 8, 8, 1)" in message
    model = nn.Sequential([nn.Conv2D(2, 3, input_shape=(8, 8, 3)), nn.Flatten(), nn.Dense(1)])
    model.compile("sgd", "mse")
    for call in (lambda: model.predict(rng.normal(size=(2, 8, 8, 1))),
                 lambda: model.fit(rng.normal(size=(2, 8, 8, 1)), np.zeros((2, 1)), verbose=0)):
        with pytest.raises(ValueError) as error:
            call()
        assert "(N, 8, 8, 3)" in message_of(error) and "(2, 8, 8, 1)" in message_of(error)


def test_dense_after_a_convolution_without_flatten():
    with pytest.raises(ValueError) as error:
        nn.Sequential([nn.Conv2D(2, 3, input_shape=(8, 8, 1)), nn.Dense(3)])
    assert "Flatten" in message_of(error) and "(N, 6, 6, 2)" in message_of(error)


@pytest.mark.parametrize("make", [
    lambda padding: nn.Conv2D(2, 3, padding=padding),
    lambda padding: nn.MaxPooling2D(2, padding=padding),
    lambda padding: nn.AveragePooling2D(2, padding=padding),
])
@pytest.mark.parametrize("padding", ["full", "causal", "Same ", "", None, 1])
def test_bad_padding_strings(make, padding):
    with pytest.raises(ValueError) as error:
        make(padding)
    assert "'valid' or 'same'" in message_of(error) and repr(padding) in message_of(error)


@pytest.mark.parametrize("kwargs, words", [
    ({"filters": 0, "kernel_size": 3}, ["filters"]),
    ({"filters": 2.5, "kernel_size": 3}, ["filters"]),
    ({"filters": 2, "kernel_size": 0}, ["kernel_size"]),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, ["kernel_size"]),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, ["strides"]),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": -1}, ["dilation_rate"]),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
     ["strides", "dilation_rate"]),
])
def test_bad_conv_arguments(kwargs, words):
    with pytest.raises(ValueError) as error:
        nn.Conv2D(**kwargs)
    assert all(word in message_of(error) for word in words)


def test_max_pooling_with_a_large_window(rng, torch):
    layer = nn.MaxPooling2D((12, 12))
    build(layer, (12, 24, 2))
    x = rng.normal(size=(2, 12, 24, 2))
    out = layer.forward(x, training=True)
    upstream = rng.normal(size=out.shape)
    x_t = nchw(torch, x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(x_t, (12, 12))
    (out_t * nchw(torch, upstream)).sum().backward()
    np.testing.assert_array_equal(out, nhwc(out_t))
    np.testing.assert_array_equal(layer.backward(upstream), nhwc(x_t.grad))


# --------------------------------------------------------------------------------------
# A small CNN end to end
# --------------------------------------------------------------------------------------

def small_cnn(seed=0, dtype="float64", optimizer=None):
    model = nn.Sequential([
        nn.Conv2D(4, 3, padding="same", activation="tanh", input_shape=(7, 6, 2),
                  kernel_regularizer=regularizers.L2(1e-2)),
        nn.BatchNormalization(momentum=0.9),
        nn.MaxPooling2D(2),
        nn.Dropout(0.3),
        nn.Conv2D(5, 2, activation="elu"),
        nn.GlobalAveragePooling2D(),
        nn.Dense(3, activation="softmax"),
    ], seed=seed, dtype=dtype)
    model.compile(optimizer or nn.optimizers.Adam(learning_rate=0.01),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def images(rng):
    return rng.normal(size=(12, 7, 6, 2)), rng.integers(0, 3, size=12)


def test_small_cnn_shapes_and_model_gradcheck(images):
    model = small_cnn()
    assert [layer.output_shape for layer in model.layers] == [
        (7, 6, 4), (7, 6, 4), (3, 3, 4), (3, 3, 4), (2, 2, 5), (5,), (3,)]
    assert nn.gradcheck(model, *images) is True


def test_small_cnn_model_gradients_equal_finite_differences_of_the_loss(images):
    """The same check with the own helper, on the loss a user sees (dropout replayed)."""
    model = small_cnn()
    x, y = model._prepare_xy(*images)
    state = model.rng.bit_generator.state

    def loss():
        model.rng.bit_generator.state = state
        return model.compute_gradients(x, y)

    loss()
    analytic = [grad.copy() for grad in model.gradients]
    for param, grad in zip(model.trainable_weights, analytic):
        np.testing.assert_allclose(grad, central_difference(loss, param), rtol=1e-6, atol=1e-8)


def test_small_cnn_save_load_and_resume(images, tmp_path):
    x, y = images
    a = small_cnn(seed=4)
    a.fit(x, y, epochs=2, batch_size=5, verbose=0)
    a.save(tmp_path / "cnn.ildl")
    b = nn.load_model(tmp_path / "cnn.ildl")
    np.testing.assert_array_equal(b.predict(x), a.predict(x))
    assert [type(layer).__name__ for layer in b.layers] == [
        "Conv2D", "BatchNormalization", "MaxPooling2D", "Dropout", "Conv2D",
        "GlobalAveragePooling2D", "Dense"]
    assert b.epochs_trained == 2 and b.dtype == np.float64
    for model in (a, b):
        model.fit(x, y, epochs=4, batch_size=5, verbose=0, initial_epoch=model.epochs_trained)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c = small_cnn(seed=4)
    c.fit(x, y, epochs=4, batch_size=5, verbose=0)
    for wa, wc in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(wa, wc)
    assert a.evaluate(x, y) == b.evaluate(x, y)


def test_small_cnn_learns_a_visible_pattern(rng):
    """A bright blob in the left or right half: the CNN separates them after a few epochs."""
    labels = rng.integers(0, 2, size=120)
    x = rng.normal(scale=0.3, size=(120, 7, 6, 2))
    for index, label in enumerate(labels):
        x[index, 2:5, (0 if label == 0 else 3):(3 if label == 0 else 6), :] += 2.0
    model = small_cnn(seed=1, dtype="float32")
    model.fit(x, labels, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, labels)["accuracy"] >= 0.95


def test_cnn_with_adam_equals_a_torch_twin(rng, torch):
    """Conv2D(relu) -> MaxPool -> Flatten -> Dense(softmax), 3 Adam steps via train_on_batch.

    ildl flattens NHWC; the twin permutes its NCHW maps to NHWC before flattening, so the Dense
    kernels are the same matrix."""
    model = nn.Sequential([
        nn.Conv2D(4, 3, padding="same", activation="relu", input_shape=(6, 5, 2)),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dense(3, activation="softmax"),
    ], seed=2, dtype="float64")
    model.compile(nn.optimizers.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
                  "sparse_categorical_crossentropy")
    kernel, bias, dense_kernel, dense_bias = model.get_weights()
    weight = torch_kernel(torch, kernel, requires_grad=True)
    conv_bias = torch.tensor(bias, requires_grad=True)
    linear_weight = torch.tensor(dense_kernel.T.copy(), requires_grad=True)
    linear_bias = torch.tensor(dense_bias, requires_grad=True)
    params = [weight, conv_bias, linear_weight, linear_bias]
    optimizer = torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.0)

    def twin_loss(x, y):
        padded = torch_pad(torch, nchw(torch, x), (6, 5), (3, 3), (1, 1), "same")
        maps = torch.relu(torch.nn.functional.conv2d(padded, weight, conv_bias))
        pooled = torch.nn.functional.max_pool2d(maps, 2)          # (N, 4, 3, 2)
        flat = pooled.permute(0, 2, 3, 1).flatten(1)              # NHWC order
        logits = flat @ linear_weight.T + linear_bias
        return torch.nn.functional.cross_entropy(logits, torch.tensor(y))

    for _ in range(3):
        x, y = rng.normal(size=(8, 6, 5, 2)), rng.integers(0, 3, size=8)
        optimizer.zero_grad()
        loss_t = twin_loss(x, y)
        loss_t.backward()
        optimizer.step()
        assert model.train_on_batch(x, y) == pytest.approx(loss_t.item(), rel=1e-10)
    ours = model.get_weights()
    theirs = [keras_kernel(weight), conv_bias.detach().numpy(),
              linear_weight.detach().numpy().T, linear_bias.detach().numpy()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    x = rng.normal(size=(5, 6, 5, 2))
    with torch.no_grad():
        padded = torch_pad(torch, nchw(torch, x), (6, 5), (3, 3), (1, 1), "same")
        maps = torch.relu(torch.nn.functional.conv2d(padded, weight, conv_bias))
        flat = torch.nn.functional.max_pool2d(maps, 2).permute(0, 2, 3, 1).flatten(1)
        probabilities = torch.softmax(flat @ linear_weight.T + linear_bias, dim=1)
    np.testing.assert_allclose(model.predict(x), probabilities.numpy(), rtol=1e-8, atol=1e-12)


def test_activation_formulas_apply_after_the_convolution(rng):
    """Conv2D(activation=f) == f(conv2d without activation), with the textbook formulas."""
    x = rng.normal(size=(2, 5, 5, 2))
    for name in ["relu", "tanh", "sigmoid", "elu"]:
        layer = nn.Conv2D(3, 2, activation=name)
        plain = nn.Conv2D(3, 2)
        build(layer, (5, 5, 2), seed=7)
        build(plain, (5, 5, 2), seed=7)
        np.testing.assert_allclose(layer.forward(x), ACTIVATION_FORMULAS[name](plain.forward(x)),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_equals_the_sum_over_kernel_taps_as_batch_sizes_change(rng, use_bias, padding):
    """The layer's one product (its bias the weight of a column of ones, its patch matrix kept
    from batch to batch) against the definition summed tap by tap, outputs and the gradients of
    kernel and bias, for batches of 4, 4 (the kept matrix reused), 2 and 4 images."""
    layer = nn.Conv2D(3, 3, padding=padding, use_bias=use_bias)
    build(layer, (6, 5, 2))
    randomize_params(layer, rng)
    kernel = layer.params["kernel"]
    bias = layer.params["bias"] if use_bias else np.zeros(3)
    for batch in (4, 4, 2, 4):
        x = rng.normal(size=(batch, 6, 5, 2))
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))) if padding == "same" else x
        height, width = padded.shape[1] - 2, padded.shape[2] - 2
        taps = {(a, b): padded[:, a:a + height, b:b + width, :] for a in range(3) for b in range(3)}
        expected = bias + sum(tap @ kernel[a, b] for (a, b), tap in taps.items())
        np.testing.assert_allclose(layer.forward(x, training=True), expected, rtol=1e-12,
                                   atol=1e-12)
        grad = rng.normal(size=expected.shape)
        layer.backward(grad)
        for (a, b), tap in taps.items():
            np.testing.assert_allclose(layer.grads["kernel"][a, b],
                                       np.einsum("nijc,nijf->cf", tap, grad), rtol=1e-12,
                                       atol=1e-12)
        if use_bias:
            np.testing.assert_allclose(layer.grads["bias"], grad.sum(axis=(0, 1, 2)),
                                       rtol=1e-12)


def test_an_empty_batch_goes_through_a_cnn_both_ways():
    """A batch of no images gives no outputs and no input gradients, as in PyTorch (reshapes
    with -1 could not tell the size of an empty axis)."""
    model = nn.Sequential([
        nn.Conv2D(2, 3, input_shape=(8, 8, 1)), nn.BatchNormalization(), nn.MaxPooling2D(),
        nn.Conv2D(2, 3, padding="same", strides=2), nn.AveragePooling2D(padding="same"),
        nn.Flatten(), nn.Dropout(0.5), nn.Dense(3, activation="softmax")])
    images = np.zeros((0, 8, 8, 1))
    assert model(images).shape == (0, 3)
    assert model.input_gradient(images, np.zeros((0, 3))).shape == (0, 8, 8, 1)
