"""Losses: values against hand formulas and torch.nn.functional, gradients (from probabilities and
from logits) against finite differences, the fused logits forms against the plain ones, target
checks and lookup by name."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_reference import central_difference

from ildl.nn import losses


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(labels, k):
    return np.eye(k)[labels]


@pytest.fixture
def batch(rng):
    """Moderate logits (no probability near the 1e-7 clipping), targets for every loss."""
    n, k = 6, 4
    logits = rng.normal(scale=1.5, size=(n, k))
    labels = rng.integers(0, k, size=n)
    return {
        "logits": logits,
        "labels": labels,
        "one_hot": one_hot(labels, k),
        "soft": softmax(rng.normal(size=(n, k))),        # soft targets, rows sum to 1
        "binary": rng.integers(0, 2, size=(n, k)).astype(float),
        "binary_soft": rng.uniform(size=(n, k)),
        "regression": rng.normal(size=(n, k)),
    }


# --------------------------------------------------------------------------------------
# Values: hand formulas
# --------------------------------------------------------------------------------------

def test_binary_crossentropy_docstring_example():
    assert losses.get("binary_crossentropy")(np.array([[1.0]]), np.array([[0.9]])) == \
        pytest.approx(-np.log(0.9), rel=1e-12)


def test_values_match_hand_formulas(batch):
    z, y = batch["logits"], batch["binary"]
    p = sigmoid(z)
    expected_bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert losses.BinaryCrossentropy().value(y, p) == pytest.approx(expected_bce, rel=1e-12)
    q = softmax(z)
    expected_ce = -np.mean(np.log(q[np.arange(len(q)), batch["labels"]]))
    assert losses.CategoricalCrossentropy().value(batch["one_hot"], q) == \
        pytest.approx(expected_ce, rel=1e-12)
    assert losses.SparseCategoricalCrossentropy().value(batch["labels"], q) == \
        pytest.approx(expected_ce, rel=1e-12)
    r = batch["regression"]
    assert losses.get("mse").value(r, z) == pytest.approx(np.mean((z - r) ** 2), rel=1e-12)
    assert losses.get("mae").value(r, z) == pytest.approx(np.mean(np.abs(z - r)), rel=1e-12)


def test_keras_aliases():
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)
    assert isinstance(losses.get("mean_absolute_error"), losses.MeanAbsoluteError)


# --------------------------------------------------------------------------------------
# Values and gradients: PyTorch
# --------------------------------------------------------------------------------------

def torch_value_and_grad(torch, function, prediction):
    t = torch.tensor(prediction, requires_grad=True)
    value = function(t)
    value.backward()
    return value.item(), t.grad.numpy()


def test_binary_crossentropy_equals_torch(batch, torch):
    F = torch.nn.functional
    loss = losses.BinaryCrossentropy()
    for y in (batch["binary"], batch["binary_soft"]):
        z = batch["logits"]
        ty = torch.tensor(y)
        value, grad = torch_value_and_grad(torch, lambda t, ty=ty: F.binary_cross_entropy(t, ty),
                                           sigmoid(z))
        assert loss.value(y, sigmoid(z)) == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(loss.gradient(y, sigmoid(z)), grad, rtol=1e-10, atol=1e-14)
        value, grad = torch_value_and_grad(
            torch, lambda t, ty=ty: F.binary_cross_entropy_with_logits(t, ty), z)
        assert loss.value_from_logits(y, z) == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(loss.gradient_from_logits(y, z), grad, rtol=1e-10,
                                   atol=1e-14)


def test_crossentropy_equals_torch(batch, torch):
    F = torch.nn.functional
    z, labels = batch["logits"], batch["labels"]
    tl = torch.tensor(labels)
    sparse, categorical = losses.SparseCategoricalCrossentropy(), losses.CategoricalCrossentropy()
    # From logits: F.cross_entropy with class indices and with (soft) class probabilities.
    value, grad = torch_value_and_grad(torch, lambda t: F.cross_entropy(t, tl), z)
    assert sparse.value_from_logits(labels, z) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(sparse.gradient_from_logits(labels, z), grad, rtol=1e-10,
                               atol=1e-14)
    assert categorical.value_from_logits(batch["one_hot"], z) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(categorical.gradient_from_logits(batch["one_hot"], z), grad,
                               rtol=1e-10, atol=1e-14)
    soft = torch.tensor(batch["soft"])
    value, grad = torch_value_and_grad(torch, lambda t: F.cross_entropy(t, soft), z)
    assert categorical.value_from_logits(batch["soft"], z) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(categorical.gradient_from_logits(batch["soft"], z), grad,
                               rtol=1e-10, atol=1e-14)
    # From probabilities: NLL of log p (sparse) and -sum y log p / N (categorical).
    p = softmax(z)
    value, grad = torch_value_and_grad(torch, lambda t: F.nll_loss(torch.log(t), tl), p)
    assert sparse.value(labels, p) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(sparse.gradient(labels, p), grad, rtol=1e-10, atol=1e-14)
    value, grad = torch_value_and_grad(
        torch, lambda t: -(soft * torch.log(t)).sum() / len(p), p)
    assert categorical.value(batch["soft"], p) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(categorical.gradient(batch["soft"], p), grad, rtol=1e-10,
                               atol=1e-14)


@pytest.mark.parametrize("name, reference", [("mse", "mse_loss"), ("mae", "l1_loss")])
def test_regression_losses_equal_torch(name, reference, batch, torch):
    prediction, target = batch["logits"], batch["regression"]
    function = getattr(torch.nn.functional, reference)
    value, grad = torch_value_and_grad(torch, lambda t: function(t, torch.tensor(target)),
                                       prediction)
    loss = losses.get(name)
    assert loss.value(target, prediction) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(target, prediction), grad, rtol=1e-12, atol=1e-15)


@settings(max_examples=25, deadline=None, database=None)
@given(n=st.integers(1, 7), k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_any_batch_shape_equals_torch(n, k, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, k))
    labels = rng.integers(0, k, size=n)
    y = rng.integers(0, 2, size=(n, k)).astype(float)
    assert losses.SparseCategoricalCrossentropy().value_from_logits(labels, z) == pytest.approx(
        F.cross_entropy(torch.tensor(z), torch.tensor(labels)).item(), rel=1e-12)
    assert losses.BinaryCrossentropy().value_from_logits(y, z) == pytest.approx(
        F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y)).item(), rel=1e-12)
    assert losses.get("mse").value(y, z) == pytest.approx(
        F.mse_loss(torch.tensor(z), torch.tensor(y)).item(), rel=1e-12)


# --------------------------------------------------------------------------------------
# Gradients: finite differences
# --------------------------------------------------------------------------------------

CASES = [  # (loss name, target key, prediction kind)
    ("binary_crossentropy", "binary", "sigmoid"),
    ("binary_crossentropy", "binary_soft", "sigmoid"),
    ("categorical_crossentropy", "one_hot", "softmax"),
    ("categorical_crossentropy", "soft", "softmax"),
    ("sparse_categorical_crossentropy", "labels", "softmax"),
    ("mse", "regression", "identity"),
    ("mae", "regression", "identity"),
]


@pytest.mark.parametrize("name, target, kind", CASES)
def test_gradient_matches_finite_differences(name, target, kind, batch):
    loss = losses.get(name)
    y = batch[target]
    prediction = {"sigmoid": sigmoid, "softmax": softmax,
                  "identity": lambda z: z}[kind](batch["logits"]).copy()
    numeric = central_difference(lambda: loss.value(y, prediction), prediction, eps=1e-7)
    np.testing.assert_allclose(loss.gradient(y, prediction), numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name, target, kind", [c for c in CASES if c[2] != "identity"])
def test_gradient_from_logits_matches_finite_differences(name, target, kind, batch):
    loss = losses.get(name)
    y, z = batch[target], batch["logits"].copy()
    numeric = central_difference(lambda: loss.value_from_logits(y, z), z)
    np.testing.assert_allclose(loss.gradient_from_logits(y, z), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name, target, kind", [c for c in CASES if c[2] != "identity"])
def test_value_from_logits_equals_value_of_probabilities(name, target, kind, batch):
    loss = losses.get(name)
    y, z = batch[target], batch["logits"]
    probabilities = sigmoid(z) if kind == "sigmoid" else softmax(z)
    assert loss.value_from_logits(y, z) == pytest.approx(loss.value(y, probabilities), rel=1e-12)
    assert loss.fuses_with == kind


def test_logit_forms_do_not_modify_their_inputs(batch):
    for name, target, kind in CASES:
        if kind == "identity":
            continue
        z = batch["logits"].copy()
        losses.get(name).gradient_from_logits(batch[target], z)
        losses.get(name).value_from_logits(batch[target], z)
        np.testing.assert_array_equal(z, batch["logits"])


def test_logit_forms_are_exact_where_probabilities_round_to_0_or_1():
    z = np.array([[1000.0], [-1000.0], [40.0]])
    y = np.array([[0.0], [1.0], [1.0]])
    bce = losses.BinaryCrossentropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = bce.value_from_logits(y, z)
        grad = bce.gradient_from_logits(y, z)
    # -log(1 - sigmoid(1000)) = 1000, -log(sigmoid(-1000)) = 1000, -log(sigmoid(40)) ~ e^-40.
    assert value == pytest.approx((1000 + 1000 + np.exp(-40.0)) / 3, rel=1e-12)
    # (sigmoid(40) - 1 rounds to 0 in float64, as in PyTorch.)
    np.testing.assert_allclose(grad, [[1 / 3], [-1 / 3], [0.0]], rtol=1e-12, atol=1e-17)
    sparse = losses.SparseCategoricalCrossentropy()
    logits = np.array([[1000.0, 0.0, -1000.0]])
    assert sparse.value_from_logits(np.array([2]), logits) == pytest.approx(2000.0, rel=1e-12)
    np.testing.assert_allclose(sparse.gradient_from_logits(np.array([2]), logits),
                               [[1.0, 0.0, -1.0]], atol=1e-300)


def test_probability_forms_clip_like_keras():
    # Keras clips probabilities to [1e-7, 1 - 1e-7] before the log.
    bce = losses.BinaryCrossentropy()
    assert bce.value(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(-np.log(1e-7),
                                                                            rel=1e-6)
    assert np.isfinite(bce.gradient(np.array([[1.0]]), np.array([[0.0]]))).all()


def test_float32_inputs_give_float32_gradients(batch):
    for name, target, kind in CASES:
        loss = losses.get(name)
        z = batch["logits"].astype(np.float32)
        y = batch[target] if target == "labels" else batch[target].astype(np.float32)
        prediction = {"sigmoid": sigmoid, "softmax": softmax, "identity": lambda v: v}[kind](z)
        assert loss.gradient(y, prediction).dtype == np.float32, name
        if kind != "identity":
            assert loss.gradient_from_logits(y, z).dtype == np.float32, name


# --------------------------------------------------------------------------------------
# Target checks and names
# --------------------------------------------------------------------------------------

def test_check_targets_accepts_flat_labels_for_one_unit_output():
    y = losses.BinaryCrossentropy().check_targets(np.array([0.0, 1.0, 1.0]), (3, 1))
    assert y.shape == (3, 1)


def test_check_targets_explains_a_shape_mismatch():
    with pytest.raises(ValueError) as error:
        losses.BinaryCrossentropy().check_targets(np.zeros((5, 3)), (5, 1))
    message = str(error.value)
    assert "(N, 1)" in message and "(5, 3)" in message


def test_sparse_check_targets_requires_integer_labels_in_range():
    sparse = losses.SparseCategoricalCrossentropy()
    np.testing.assert_array_equal(sparse.check_targets(np.array([[0.0], [2.0]]), (2, 3)), [0, 2])
    for bad in (np.array([0, 3]), np.array([-1, 0]), np.array([0.5, 1.0])):
        with pytest.raises(ValueError, match=r"\[0, 2\]"):
            sparse.check_targets(bad, (2, 3))
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        sparse.check_targets(np.zeros((2, 3)), (2, 3))  # one-hot given to the sparse loss


def test_unknown_loss_lists_the_valid_names():
    with pytest.raises(ValueError) as error:
        losses.get("hinge")
    message = str(error.value)
    assert "hinge" in message
    for name in ("binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy", "mse", "mae"):
        assert name in message
