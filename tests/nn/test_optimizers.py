"""Optimizers: torch.optim arithmetic step for step, on plain arrays and as the optimizer of a
model whose PyTorch twin is trained on the same batches; Keras defaults; state and errors."""

import math

import numpy as np
import pytest

from ildl import nn
from ildl.nn import optimizers

# (id, ildl optimizer factory, torch optimizer factory). Hyperparameters are deliberately not
# the defaults, and every one is passed to torch explicitly (ildl's defaults are Keras').
CONFIGS = [
    ("sgd", lambda: optimizers.SGD(learning_rate=0.1),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
                              nesterov=False)),
    ("sgd_momentum", lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
     lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0,
                              nesterov=False)),
    ("sgd_nesterov", lambda: optimizers.SGD(learning_rate=0.05, momentum=0.8, nesterov=True),
     lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.0,
                              nesterov=True)),
    ("rmsprop", lambda: optimizers.RMSprop(learning_rate=0.01, rho=0.8, epsilon=1e-6),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.8, eps=1e-6, weight_decay=0.0,
                                  momentum=0.0, centered=False)),
    ("rmsprop_momentum",
     lambda: optimizers.RMSprop(learning_rate=0.01, rho=0.85, epsilon=1e-5, momentum=0.7),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.85, eps=1e-5, weight_decay=0.0,
                                  momentum=0.7, centered=False)),
    ("adam", lambda: optimizers.Adam(learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
     lambda t, p: t.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.0,
                               amsgrad=False)),
    ("adam_amsgrad", lambda: optimizers.Adam(learning_rate=0.02, beta_1=0.7, beta_2=0.9,
                                             epsilon=1e-6, amsgrad=True),
     lambda t, p: t.optim.Adam(p, lr=0.02, betas=(0.7, 0.9), eps=1e-6, weight_decay=0.0,
                               amsgrad=True)),
    ("adamw", lambda: optimizers.AdamW(learning_rate=0.02, weight_decay=0.1, beta_1=0.85,
                                       beta_2=0.99, epsilon=1e-6),
     lambda t, p: t.optim.AdamW(p, lr=0.02, betas=(0.85, 0.99), eps=1e-6, weight_decay=0.1,
                                amsgrad=False)),
    ("adagrad", lambda: optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.2,
                                           epsilon=1e-6),
     lambda t, p: t.optim.Adagrad(p, lr=0.1, lr_decay=0.0, weight_decay=0.0,
                                  initial_accumulator_value=0.2, eps=1e-6)),
    # Keras defaults on the ildl side, spelled out for torch: checks the defaults too.
    ("adam_keras_defaults", lambda: optimizers.Adam(),
     lambda t, p: t.optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.0,
                               amsgrad=False)),
    ("rmsprop_keras_defaults", lambda: optimizers.RMSprop(),
     lambda t, p: t.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7, weight_decay=0.0,
                                  momentum=0.0, centered=False)),
    ("adagrad_keras_defaults", lambda: optimizers.Adagrad(),
     lambda t, p: t.optim.Adagrad(p, lr=0.001, lr_decay=0.0, weight_decay=0.0,
                                  initial_accumulator_value=0.1, eps=1e-7)),
]
CONFIG_IDS = [c[0] for c in CONFIGS]


# --------------------------------------------------------------------------------------
# Plain arrays
# --------------------------------------------------------------------------------------

def shrinking_gradients(rng, shapes, steps):
    """Random gradients whose size drops each step, so squared-gradient averages decrease and
    AMSGrad's running maximum differs from the average."""
    return [[rng.normal(size=s) * 10.0 ** (1 - step) for s in shapes] for step in range(steps)]


@pytest.mark.parametrize("name, make_ours, make_theirs", CONFIGS, ids=CONFIG_IDS)
def test_update_on_arrays_equals_torch_optim(name, make_ours, make_theirs, torch, rng):
    shapes = [(3, 4), (5,)]
    params = [rng.normal(size=s) for s in shapes]
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours, theirs = make_ours(), make_theirs(torch, tensors)
    for step, grads in enumerate(shrinking_gradients(rng, shapes, 6)):
        ours.update(params, grads)
        for tensor, grad in zip(tensors, grads):
            tensor.grad = torch.tensor(grad)
        theirs.step()
        for param, tensor in zip(params, tensors):
            np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name}, step {step + 1}")
    assert ours.iterations == 6


# Large arrays are updated block by block (cache-sized pieces): check that path too, with a size
# that is not a multiple of the block, and non-contiguous arrays (which take the plain path).
BLOCK = getattr(optimizers, "_BLOCK", 1 << 16)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("name, make_ours, make_theirs", CONFIGS, ids=CONFIG_IDS)
def test_update_on_large_arrays_equals_torch_optim(name, make_ours, make_theirs, layout, torch,
                                                   rng):
    rows = 2 * BLOCK // 97 + 1  # (rows, 97): a bit more than two blocks
    base = rng.normal(size=(rows, 97) if layout == "contiguous" else (97, rows))
    param = base if layout == "contiguous" else base.T
    tensor = torch.tensor(np.ascontiguousarray(param), requires_grad=True)
    small = rng.normal(size=3)
    small_tensor = torch.tensor(small.copy(), requires_grad=True)
    ours, theirs = make_ours(), make_theirs(torch, [tensor, small_tensor])
    for step in range(3):
        grad = rng.normal(size=param.shape) * 10.0 ** -step
        small_grad = rng.normal(size=3)
        ours.update([param, small], [grad, small_grad])
        tensor.grad, small_tensor.grad = torch.tensor(grad), torch.tensor(small_grad)
        theirs.step()
        np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}, step {step + 1}")
        np.testing.assert_allclose(small, small_tensor.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_amsgrad_matters_in_the_array_test(rng):
    """Guard: the gradients used above make AMSGrad differ from Adam (else its check is void)."""
    results = []
    for amsgrad in (False, True):
        param = [np.ones(4)]
        opt = optimizers.Adam(learning_rate=0.02, beta_1=0.7, beta_2=0.9, amsgrad=amsgrad)
        for grads in shrinking_gradients(np.random.default_rng(0), [(4,)], 6):
            opt.update(param, grads)
        results.append(param[0])
    assert np.abs(results[0] - results[1]).max() > 1e-4


def test_update_changes_arrays_in_place():
    point = np.array([1.0, -0.5])
    view = point
    optimizers.SGD(learning_rate=0.5).update([point], [np.array([2.0, 2.0])])
    assert view is point
    np.testing.assert_array_equal(point, [0.0, -1.5])


def test_adam_walks_to_the_minimum_of_a_bowl():
    point = np.array([1.0, -0.5])
    opt = optimizers.Adam(learning_rate=0.1)
    for _ in range(200):
        opt.update([point], [2 * point])
    assert np.abs(point).max() < 0.05


def test_sgd_momentum_by_hand():
    """v = mu v + g (v = g at the first step); w -= lr v; nesterov: w -= lr (g + mu v)."""
    for nesterov in (False, True):
        w = np.array([1.0])
        opt = optimizers.SGD(learning_rate=0.1, momentum=0.5, nesterov=nesterov)
        opt.update([w], [np.array([2.0])])      # v = 2
        opt.update([w], [np.array([4.0])])      # v = 0.5 * 2 + 4 = 5
        if nesterov:
            expected = 1.0 - 0.1 * (2 + 0.5 * 2) - 0.1 * (4 + 0.5 * 5)
        else:
            expected = 1.0 - 0.1 * 2 - 0.1 * 5
        assert w[0] == pytest.approx(expected, rel=1e-14)


def test_adam_first_step_by_hand():
    """After bias correction the first Adam step is lr * g / (|g| + eps) ~ lr * sign(g)."""
    w = np.array([0.0, 0.0])
    optimizers.Adam(learning_rate=0.01, epsilon=1e-8).update([w], [np.array([3.0, -0.5])])
    np.testing.assert_allclose(w, [-0.01 * 3 / (3 + 1e-8), 0.01 * 0.5 / (0.5 + 1e-8)],
                               rtol=1e-12)


# --------------------------------------------------------------------------------------
# Keras defaults, names, config
# --------------------------------------------------------------------------------------

KERAS_DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7, "momentum": 0.0},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7, "amsgrad": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULTS))
def test_get_by_name_has_keras_defaults(name):
    opt = optimizers.get(name)
    config = opt.get_config()
    for key, value in KERAS_DEFAULTS[name].items():
        assert config[key] == value, (name, key)
    twin = type(opt)(**config)
    assert twin.get_config() == config
    assert optimizers.get(name.upper()).get_config() == config  # Keras accepts "Adam"


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ValueError) as error:
        optimizers.get("lbfgs")
    for name in ("lbfgs", "sgd", "rmsprop", "adam", "adamw", "adagrad"):
        assert name in str(error.value)


def test_get_passes_objects_through():
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt


@pytest.mark.parametrize("make, words", [
    (lambda: optimizers.SGD(learning_rate=0), ["learning_rate", "0"]),
    (lambda: optimizers.Adam(learning_rate=-1e-3), ["learning_rate"]),
    (lambda: optimizers.SGD(momentum=1.0), ["momentum", "[0, 1)"]),
    (lambda: optimizers.SGD(nesterov=True), ["nesterov", "momentum"]),
    (lambda: optimizers.Adam(beta_1=1.0), ["beta_1"]),
    (lambda: optimizers.AdamW(beta_2=-0.1), ["beta_2"]),
])
def test_invalid_hyperparameters(make, words):
    with pytest.raises(ValueError) as error:
        make()
    for word in words:
        assert word in str(error.value)


def test_update_checks_parameters_and_gradients():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="2 parameters but 1 gradients"):
        opt.update([np.zeros(2), np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError) as error:
        opt.update([np.zeros((2, 3))], [np.zeros((3, 2))])
    assert "(2, 3)" in str(error.value) and "(3, 2)" in str(error.value)
    opt.update([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError) as error:
        opt.update([np.zeros(5)], [np.ones(5)])
    assert "(2,)" in str(error.value) and "(5,)" in str(error.value)


@pytest.mark.parametrize("name, make_ours, make_theirs", CONFIGS, ids=CONFIG_IDS)
def test_state_round_trip_resumes_identically(name, make_ours, make_theirs, rng):
    shapes = [(3, 2), (2,)]
    grads = shrinking_gradients(rng, shapes, 6)
    start = [rng.normal(size=s) for s in shapes]
    straight = [p.copy() for p in start]
    opt = make_ours()
    for g in grads:
        opt.update(straight, g)
    resumed = [p.copy() for p in start]
    first = make_ours()
    for g in grads[:3]:
        first.update(resumed, g)
    state = {k: v.copy() for k, v in first.get_state().items()}
    second = type(first)(**first.get_config())
    second.set_state(state)
    assert second.iterations == 3
    for g in grads[3:]:
        second.update(resumed, g)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# Model twins: an ildl Sequential and a torch nn.Sequential trained on the same batches
# --------------------------------------------------------------------------------------

# kind: (layer sizes, hidden activations, output activation, loss)
KINDS = {
    "softmax_sparse_ce": ([3, 8, 6, 3], ["tanh", "relu"], "softmax",
                          "sparse_categorical_crossentropy"),
    "sigmoid_bce": ([3, 7, 5, 1], ["relu", "tanh"], "sigmoid", "binary_crossentropy"),
    "mse": ([3, 6, 2], ["tanh"], "linear", "mse"),
}
REGULARIZATION = {"none": (0.0, 0.0), "l1": (0.01, 0.0), "l2": (0.0, 0.02),
                  "l1l2": (0.005, 0.01)}


def make_batches(kind, rng, steps=5, n=16):
    sizes = KINDS[kind][0]
    batches = []
    for _ in range(steps):
        x = rng.normal(size=(n, sizes[0]))
        if kind == "softmax_sparse_ce":
            y = rng.integers(0, sizes[-1], size=n)
        elif kind == "sigmoid_bce":
            y = rng.integers(0, 2, size=n).astype(np.float64)
        else:
            y = rng.normal(size=(n, sizes[-1]))
        batches.append((x, y))
    return batches


def build_ildl(kind, l1, l2, optimizer):
    sizes, hidden, output, loss = KINDS[kind]
    activations = hidden + [output]
    regularizer = nn.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    layers = [nn.Dense(units, activation=act, kernel_regularizer=regularizer,
                       bias_initializer="random_normal")  # non-zero biases are checked too
              for units, act in zip(sizes[1:], activations)]
    layers[0].input_shape = (sizes[0],)
    model = nn.Sequential(layers, seed=3, dtype="float64")
    model.compile(optimizer=optimizer, loss=loss)
    return model


def build_torch_twin(torch, kind, weights):
    sizes, hidden, _, _ = KINDS[kind]
    modules, linears = [], []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights[2 * index].T))  # Keras (in, out) -> (out, in)
            linear.bias.copy_(torch.tensor(weights[2 * index + 1]))
        modules.append(linear)
        linears.append(linear)
        if index < len(hidden):
            modules.append({"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh()}[hidden[index]])
    return torch.nn.Sequential(*modules), linears


def torch_loss(torch, kind, output, y, linears, l1, l2):
    F = torch.nn.functional
    if kind == "softmax_sparse_ce":
        loss = F.cross_entropy(output, torch.tensor(y))
    elif kind == "sigmoid_bce":
        loss = F.binary_cross_entropy_with_logits(output, torch.tensor(y).reshape(-1, 1))
    else:
        loss = F.mse_loss(output, torch.tensor(y))
    for linear in linears:  # Keras regularizers penalise kernels only
        loss = loss + l1 * linear.weight.abs().sum() + l2 * (linear.weight**2).sum()
    return loss


def torch_weights_keras_order(linears):
    out = []
    for linear in linears:
        out += [linear.weight.detach().numpy().T, linear.bias.detach().numpy()]
    return out


@pytest.mark.parametrize("regularization", sorted(REGULARIZATION))
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name, make_ours, make_theirs", CONFIGS, ids=CONFIG_IDS)
def test_model_trains_like_its_torch_twin(name, make_ours, make_theirs, kind, regularization,
                                         torch, rng):
    l1, l2 = REGULARIZATION[regularization]
    model = build_ildl(kind, l1, l2, make_ours())
    twin, linears = build_torch_twin(torch, kind, model.get_weights())
    torch_optimizer = make_theirs(torch, twin.parameters())
    for step, (x, y) in enumerate(make_batches(kind, rng)):
        ours = model.train_on_batch(x, y)
        torch_optimizer.zero_grad()
        theirs = torch_loss(torch, kind, twin(torch.tensor(x)), y, linears, l1, l2)
        theirs.backward()
        torch_optimizer.step()
        assert ours == pytest.approx(theirs.item(), rel=1e-10), f"loss at step {step + 1}"
        for index, (a, b) in enumerate(zip(model.get_weights(),
                                           torch_weights_keras_order(linears))):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10,
                                       err_msg=f"weight {index} after step {step + 1}")


def test_twin_test_would_notice_a_wrong_hyperparameter(torch, rng):
    """Guard against a vacuous twin test: a slightly different beta_2 must be detected."""
    model = build_ildl("mse", 0.0, 0.0, optimizers.Adam(learning_rate=0.02, beta_2=0.95))
    twin, linears = build_torch_twin(torch, "mse", model.get_weights())
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=0.02, betas=(0.9, 0.96), eps=1e-7)
    for x, y in make_batches("mse", rng):
        model.train_on_batch(x, y)
        torch_optimizer.zero_grad()
        torch_loss(torch, "mse", twin(torch.tensor(x)), y, linears, 0, 0).backward()
        torch_optimizer.step()
    differences = [np.abs(a - b).max() for a, b in zip(model.get_weights(),
                                                       torch_weights_keras_order(linears))]
    assert max(differences) > 1e-6


def test_iterations_count_steps_in_a_model(rng):
    model = build_ildl("mse", 0, 0, optimizers.Adam())
    x, y = make_batches("mse", rng, steps=1)[0]
    model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert model.optimizer.iterations == 2 * math.ceil(16 / 5)


@pytest.mark.parametrize("optimizer", [nn.optimizers.Adam(learning_rate=0.01, amsgrad=True),
                                       nn.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                                       nn.optimizers.RMSprop(momentum=0.5)])
def test_a_large_parameter_updated_block_by_block_equals_one_pass(optimizer, rng, monkeypatch):
    """A parameter of several cache blocks (here 3.5) is updated block by block through flat
    views: the same bits as one pass over the whole array."""
    weights = rng.normal(size=(7, 32_768)).astype("float32")
    gradients = [rng.normal(size=weights.shape).astype("float32") for _ in range(3)]

    def three_steps():
        twin = nn.optimizers.deserialize(nn.optimizers.serialize(optimizer))
        param = weights.copy()
        for gradient in gradients:
            twin.update([param], [gradient])
        return param

    block_by_block = three_steps()
    monkeypatch.setattr(optimizers, "_BLOCK", 10**9)
    np.testing.assert_array_equal(three_steps(), block_by_block)
    assert not np.array_equal(block_by_block, weights)
