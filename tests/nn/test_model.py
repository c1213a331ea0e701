"""Sequential: the Keras model API (fit, validation, evaluate, predict, weights, summary, dtypes,
seeds) checked against hand computation, and every user error explained."""

import math
import re

import numpy as np
import pytest
from nn_reference import manual_forward

from ildl import errors, nn
from ildl.data import make_moons, train_test_split


def classifier(seed=0, dtype="float32", n_in=3, n_classes=3, **compile_kwargs):
    model = nn.Sequential([nn.Dense(8, activation="tanh", input_shape=(n_in,)),
                           nn.Dense(n_classes, activation="softmax")], seed=seed, dtype=dtype)
    model.compile(**{"optimizer": nn.optimizers.SGD(learning_rate=0.1),
                     "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
                     **compile_kwargs})
    return model


def binary_model(seed=0, dtype="float32", n_in=3):
    model = nn.Sequential([nn.Dense(6, activation="relu", input_shape=(n_in,)),
                           nn.Dense(1, activation="sigmoid")], seed=seed, dtype=dtype)
    model.compile(nn.optimizers.Adam(learning_rate=0.01), "binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(40, 3))
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)


def message_of(error_info):
    return str(error_info.value)


# --------------------------------------------------------------------------------------
# Errors: each names what was expected and what came
# --------------------------------------------------------------------------------------

def test_x_y_row_mismatch(data):
    x, y = data
    with pytest.raises(ValueError) as error:
        classifier().fit(x, y[:-1], verbose=0)
    assert "40" in message_of(error) and "39" in message_of(error)


def test_wrong_feature_count(rng):
    model = classifier()
    with pytest.raises(ValueError) as error:
        model.fit(rng.normal(size=(5, 4)), np.zeros(5, int), verbose=0)
    assert "(N, 3)" in message_of(error) and "(5, 4)" in message_of(error)
    with pytest.raises(ValueError) as error:
        model.predict(rng.normal(size=(5, 2)))
    assert "(N, 3)" in message_of(error) and "(5, 2)" in message_of(error)


def test_one_dimensional_x(rng):
    with pytest.raises(ValueError) as error:
        classifier().predict(rng.normal(size=3))
    assert "(3,)" in message_of(error) and "(N, features" in message_of(error)


def test_three_column_y_for_a_one_unit_binary_output(rng):
    with pytest.raises(ValueError) as error:
        binary_model().fit(rng.normal(size=(6, 3)), np.zeros((6, 3)), verbose=0)
    message = message_of(error)
    assert "binary_crossentropy" in message and "(N, 1)" in message and "(6, 3)" in message


def test_binary_labels_outside_zero_one(rng):
    with pytest.raises(ValueError) as error:
        binary_model().fit(rng.normal(size=(4, 3)), np.array([0, 1, 2, 1]), verbose=0)
    message = message_of(error)
    assert "[0, 1]" in message and "2" in message and "sparse_categorical_crossentropy" in message


@pytest.mark.parametrize("labels, shown", [
    ([0, 1, 3, 2], "3"),
    ([0, -1, 2, 2], "-1"),
    pytest.param([0.0, 1.5, 2.0, 1.0], "1.5"),
])
def test_sparse_labels_out_of_range(labels, shown, rng):
    with pytest.raises(ValueError) as error:
        classifier().fit(rng.normal(size=(4, 3)), np.array(labels), verbose=0)
    message = message_of(error)
    assert "[0, 2]" in message and "3-unit" in message and shown in message


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_data(where, bad, rng):
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    (x if where == "x" else y)[2, 1] = bad
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(ValueError) as error:
            call()
        message = message_of(error)
        assert message.startswith(where) and "NaN or infinite" in message and "(2, 1)" in message


def test_non_numeric_data(rng):
    model = classifier()
    with pytest.raises(TypeError, match="numbers"):
        model.predict(np.array([["a", "b", "c"]]))


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError) as error:
        nn.Dense(3, activation="sigmoidal")
    assert "sigmoidal" in message_of(error)
    for name in ("relu", "sigmoid", "softmax", "tanh", "gelu"):
        assert name in message_of(error)
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError) as error:
        model.compile("adam", loss="crossentropy")
    for name in ("crossentropy", "binary_crossentropy", "sparse_categorical_crossentropy",
                 "mse"):
        assert name in message_of(error)
    with pytest.raises(ValueError) as error:
        model.compile("adamax", loss="mse")
    for name in ("adamax", "sgd", "adam", "rmsprop", "adagrad", "adamw"):
        assert name in message_of(error)
    with pytest.raises(ValueError) as error:
        model.compile("adam", loss="mse", metrics=["f1"])
    assert "f1" in message_of(error) and "accuracy" in message_of(error)
    with pytest.raises(ValueError) as error:
        model.compile("adam", loss="mse", metrics=["accuracy"])  # accuracy of a regression
    assert "classification" in message_of(error) and "mse" in message_of(error)
    with pytest.raises(ValueError, match="loss"):
        model.compile("adam")


def test_fit_before_compile(data):
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))])
    for call in (lambda: model.fit(*data, verbose=0), lambda: model.evaluate(*data),
                 lambda: model.train_on_batch(*data)):
        with pytest.raises(RuntimeError, match="compile"):
            call()


def test_dense_after_a_non_flat_input():
    with pytest.raises(ValueError) as error:
        nn.Sequential([nn.Dense(4, input_shape=(2, 3))])
    assert "(N, 2, 3)" in message_of(error) and "Flatten" in message_of(error)
    model = nn.Sequential([nn.Activation("relu", input_shape=(2, 3))])
    with pytest.raises(ValueError) as error:
        model.add(nn.Dense(4))
    assert "(N, 2, 3)" in message_of(error) and "Flatten" in message_of(error)


def test_conflicting_input_shape_and_bad_layer_objects():
    with pytest.raises(ValueError) as error:
        nn.Sequential([nn.Dense(4, input_shape=(3,)), nn.Dense(2, input_shape=(5,))])
    assert "(5,)" in message_of(error) and "(4,)" in message_of(error)
    with pytest.raises(TypeError, match="layer"):
        nn.Sequential(["dense"])
    with pytest.raises(ValueError, match="float64"):
        nn.Sequential(dtype="float16")


def test_diverging_training_raises(rng, np_errors_ignored):
    x = rng.normal(size=(64, 3))
    y = rng.normal(size=(64, 1)) * 1e3
    model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(3,)), nn.Dense(1)],
                          seed=0)
    model.compile(nn.optimizers.SGD(learning_rate=10.0), "mse")
    with pytest.raises(FloatingPointError) as error:
        model.fit(x, y, epochs=50, batch_size=16, verbose=0)
    message = message_of(error)
    assert re.search(r"epoch \d+, batch \d+", message)
    assert "lower learning rate" in message and "10" in message
    # The message promises the weights from before the failing step.
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    big = nn.Sequential([nn.Dense(1, input_shape=(1,), kernel_initializer="ones")])
    big.compile(nn.optimizers.SGD(learning_rate=1.0), "mse")
    with pytest.raises(FloatingPointError, match="learning rate"):
        big.train_on_batch(np.array([[1e30]]), np.array([[0.0]]))


def test_diverging_train_on_batch_message(np_errors_ignored):
    model = nn.Sequential([nn.Dense(1, input_shape=(1,), kernel_initializer="ones")])
    model.compile(nn.optimizers.SGD(learning_rate=1.0), "mse")
    with pytest.raises(FloatingPointError, match="became inf in train_on_batch"):
        model.train_on_batch(np.array([[1e30]]), np.array([[0.0]]))


def test_set_weights_errors():
    model = classifier()
    weights = model.get_weights()
    with pytest.raises(ValueError) as error:
        model.set_weights(weights[:-1])
    assert "3 arrays" in message_of(error) and "4 weights" in message_of(error)
    with pytest.raises(ValueError) as error:
        model.set_weights([weights[0].T] + weights[1:])
    assert "(3, 8)" in message_of(error) and "(8, 3)" in message_of(error)


def test_bad_fit_arguments(data):
    with pytest.raises(ValueError, match="batch_size"):
        classifier().fit(*data, batch_size=0, verbose=0)
    for split in (1.0, -0.2, 0.99):  # 0.99 of 40 rows: no training rows
        with pytest.raises(ValueError, match="validation_split"):
            classifier().fit(*data, validation_split=split, verbose=0)
    with pytest.raises(ValueError, match="x_val, y_val"):
        classifier().fit(*data, validation_data=(data[0],), verbose=0)


# --------------------------------------------------------------------------------------
# Weights, dtypes, seeds
# --------------------------------------------------------------------------------------

def test_get_weights_returns_keras_shapes_as_copies():
    model = nn.Sequential([nn.Dense(5, input_shape=(3,)), nn.Dense(2, use_bias=False),
                           nn.Dense(4)])
    assert [w.shape for w in model.get_weights()] == [(3, 5), (5,), (5, 2), (2, 4), (4,)]
    weights = model.get_weights()
    weights[0][...] = 99.0
    assert not np.any(model.get_weights()[0] == 99.0)
    assert model.count_params() == 3 * 5 + 5 + 5 * 2 + 2 * 4 + 4


def test_set_weights_then_predict_matches_manual_forward(rng):
    model = classifier()
    weights = [rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    x = rng.normal(size=(9, 3))
    np.testing.assert_allclose(model.predict(x), manual_forward(x, weights, ["tanh", "softmax"]),
                               rtol=1e-5, atol=1e-6)
    for ours, given in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(ours, given.astype(np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes(dtype, data):
    model = classifier(dtype=dtype)
    assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
    model.fit(*data, epochs=1, verbose=0)
    assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
    assert model.predict(data[0]).dtype == np.dtype(dtype)
    assert model.predict(data[0].astype(np.float32)).dtype == np.dtype(dtype)


def test_float32_is_the_default(data):
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))])
    assert model.dtype == np.float32
    assert model.get_weights()[0].dtype == np.float32


def test_seed_makes_runs_identical(data):
    def run(seed):
        model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(3,)), nn.Dropout(0.3),
                               nn.Dense(3, activation="softmax")], seed=seed)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(*data, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
        return model.get_weights(), history.history

    weights_a, history_a = run(7)
    weights_b, history_b = run(7)
    weights_c, _ = run(8)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    assert history_a == history_b
    assert not np.array_equal(weights_a[0], weights_c[0])


def test_layer_names_are_unique_like_keras():
    model = nn.Sequential([nn.Dense(2, input_shape=(3,)), nn.Dense(2), nn.Dropout(0.1),
                           nn.Dense(1)])
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "dropout", "dense_2"]


def test_model_builds_lazily_from_the_first_batch(rng):
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1)], seed=0)
    assert not model.built
    model.compile("sgd", "mse")
    model.fit(rng.normal(size=(6, 5)), rng.normal(size=6), verbose=0)
    assert model.built and model.get_weights()[0].shape == (5, 4)


# --------------------------------------------------------------------------------------
# predict, evaluate, train_on_batch, fit logs
# --------------------------------------------------------------------------------------

class BatchRecorder(nn.Layer):
    """An identity layer that records the size of every batch it sees."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sizes = []

    def call(self, inputs, training):
        self.sizes.append(len(inputs))
        return inputs

    def call_backward(self, grad_logits, need_input_grad=True):
        return grad_logits


def test_predict_is_batched_and_equals_a_manual_forward_pass(rng):
    recorder = BatchRecorder()
    model = nn.Sequential([nn.Dense(6, activation="relu", input_shape=(4,)), recorder,
                           nn.Dense(5, activation="elu"), nn.Dense(3, activation="softmax")],
                          seed=1, dtype="float64")
    x = rng.normal(size=(20, 4))
    prediction = model.predict(x, batch_size=7)
    assert recorder.sizes == [7, 7, 6]
    np.testing.assert_allclose(prediction,
                               manual_forward(x, model.get_weights(), ["relu", "elu", "softmax"]),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(model.predict(x[:0]).shape, (0, 3))
    np.testing.assert_allclose(model(x), prediction, rtol=1e-14)


def test_evaluate_matches_manual_loss_and_metrics(rng):
    model = nn.Sequential([nn.Dense(5, activation="tanh", input_shape=(3,),
                                    kernel_regularizer=nn.regularizers.L2(0.01)),
                           nn.Dense(1, activation="sigmoid")], seed=4, dtype="float64")
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy", "mse"])
    x = rng.normal(size=(30, 3))
    y = (x[:, 0] > 0).astype(float)
    weights = model.get_weights()
    p = manual_forward(x, weights, ["tanh", "sigmoid"])[:, 0]
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    result = model.evaluate(x, y, batch_size=8)
    assert set(result) == {"loss", "accuracy", "mse"}
    assert result["loss"] == pytest.approx(bce + 0.01 * np.sum(weights[0] ** 2), rel=1e-12)
    assert result["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y == 1)), abs=1e-15)
    assert result["mse"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)


@pytest.mark.parametrize("loss, make_y", [
    ("sparse_categorical_crossentropy", lambda rng: rng.integers(0, 3, 12)),
    ("categorical_crossentropy", lambda rng: np.eye(3)[rng.integers(0, 3, 12)]),
])
def test_accuracy_follows_the_loss(loss, make_y, rng):
    model = classifier(dtype="float64", loss=loss)
    x, y = rng.normal(size=(12, 3)), make_y(rng)
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    p = manual_forward(x, model.get_weights(), ["tanh", "softmax"])
    assert model.evaluate(x, y)["accuracy"] == pytest.approx(np.mean(p.argmax(1) == labels))


def test_train_on_batch_returns_the_loss_before_the_step(rng):
    model = classifier(dtype="float64")
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    p = manual_forward(x, model.get_weights(), ["tanh", "softmax"])
    expected = -np.mean(np.log(p[np.arange(10), y]))
    before = model.get_weights()
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(x, y)["loss"] < expected  # one SGD step on this batch helped
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_compute_gradients_then_update_is_train_on_batch(rng):
    """compute_gradients takes data as fit does (float64 x, 1-D int labels for a one-unit
    output) and is the first half of a training step: the optimizer's update is the second."""
    stepped, split = binary_model(), binary_model()
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, 16)
    expected_loss = stepped.train_on_batch(x, y)
    assert split.compute_gradients(x, y) == expected_loss
    split.optimizer.update(split.trainable_weights, split.gradients)
    for after_step, after_split in zip(stepped.get_weights(), split.get_weights()):
        np.testing.assert_array_equal(after_step, after_split)


def test_compute_gradients_checks_its_data(rng):
    model = binary_model()
    with pytest.raises(ValueError, match="binary_crossentropy needs targets in"):
        model.compute_gradients(rng.normal(size=(4, 3)), np.array([0, 1, 2, 1]))
    with pytest.raises(RuntimeError, match="must be compiled"):
        nn.Sequential([nn.Dense(1, input_shape=(3,))]).compute_gradients(np.ones((2, 3)),
                                                                        np.ones(2))


def test_fit_full_batch_reports_the_loss_at_the_start_of_the_epoch(rng):
    model = classifier(dtype="float64")
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 3, 16)
    start = model.evaluate(x, y)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(start["loss"], rel=1e-12)
    assert history.history["accuracy"][0] == pytest.approx(start["accuracy"])


def test_fit_logs_are_sample_weighted_batch_averages(rng):
    """Keras reports the running mean of batch losses weighted by batch size (last batch small)."""
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    fitted, stepped = classifier(seed=3, dtype="float64"), classifier(seed=3, dtype="float64")
    history = fitted.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    losses = [stepped.train_on_batch(x[i:i + 4], y[i:i + 4]) for i in (0, 4, 8)]
    assert history.history["loss"][0] == pytest.approx((4 * losses[0] + 4 * losses[1]
                                                        + 2 * losses[2]) / 10, rel=1e-12)
    for a, b in zip(fitted.get_weights(), stepped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sigmoid_crossentropy_is_computed_from_logits(rng):
    """With p = sigmoid(z) rounding to 1 the loss must still be ~z (Keras' fused form)."""
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(1,),
                                    kernel_initializer="ones")], dtype="float64")
    model.compile(nn.optimizers.SGD(learning_rate=1e-3), "binary_crossentropy")
    loss = model.train_on_batch(np.array([[50.0]]), np.array([0.0]))
    assert loss == pytest.approx(50.0, rel=1e-12)
    # gradient (sigmoid(50) - 0) * x = 50 -> kernel 1 - 1e-3 * 50
    assert model.get_weights()[0][0, 0] == pytest.approx(1 - 0.05, rel=1e-12)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

def test_validation_data_adds_val_keys_per_epoch(data, rng):
    model = classifier()
    x_val, y_val = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    history = model.fit(*data, epochs=3, batch_size=16, validation_data=(x_val, y_val),
                        verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.history.values())
    assert history.epoch == [0, 1, 2]
    final = model.evaluate(x_val, y_val)
    assert history.history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(final["accuracy"])


def test_validation_split_takes_the_last_fraction(data):
    x, y = data
    model = classifier()
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert model.fit_info["samples"] == 30  # int(40 * 0.75) training rows, as Keras
    last = model.evaluate(x[30:], y[30:])
    first = model.evaluate(x[:10], y[:10])
    assert history.history["val_loss"][-1] == pytest.approx(last["loss"], rel=1e-6)
    assert history.history["val_loss"][-1] != pytest.approx(first["loss"], rel=1e-6)
    # ... and trains on the first 30 rows only: same as fitting them with validation_data.
    twin = classifier()
    twin.fit(x[:30], y[:30], epochs=2, batch_size=8, validation_data=(x[30:], y[30:]),
             verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------

def test_summary_lists_layers_and_parameter_total(capsys):
    model = nn.Sequential([nn.Dense(40, activation="relu", input_shape=(30,)), nn.Dropout(0.2),
                           nn.Dense(2, activation="softmax")], name="clf")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for word in ("clf", "dense (Dense)", "dropout (Dropout)", "dense_1 (Dense)", "(None, 40)",
                 "(None, 2)"):
        assert word in text
    total = re.search(r"Total params: ([\d,]+)", text)
    assert total and int(total.group(1).replace(",", "")) == 30 * 40 + 40 + 40 * 2 + 2
    model.summary()  # default: print
    assert "Total params" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# End to end (slow): the moons experiment of the original notebooks
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_moons_experiment_reaches_95_percent():
    x, y = make_moons(1000, noise=0.2, random_state=100)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.1, random_state=42)
    model = nn.Sequential([nn.Dense(25, activation="relu", input_shape=(2,)),
                           nn.Dense(50, activation="relu"), nn.Dense(50, activation="relu"),
                           nn.Dense(25, activation="relu"), nn.Dense(1, activation="sigmoid")],
                          seed=0)
    model.compile(nn.optimizers.SGD(learning_rate=0.01), "binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=len(x_train), epochs=10_000, verbose=0)
    assert len(history.history["loss"]) == 10_000
    assert history.history["loss"][-1] < history.history["loss"][0]
    accuracy = np.mean((model.predict(x_test)[:, 0] > 0.5) == y_test)
    assert accuracy >= 0.95
    assert model.evaluate(x_test, y_test)["accuracy"] == pytest.approx(accuracy)
    assert math.isfinite(history.history["loss"][-1])


# --------------------------------------------------------------------------------------
# Bad arguments and data: refused before any work, with what, where, expected and the fix
# --------------------------------------------------------------------------------------

def fit_with(**kwargs):
    """fit a fresh binary classifier on 20 rows, with ``kwargs`` overriding fit's arguments."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20).astype(float)
    arguments = {"x": x, "y": y, "epochs": 2, "verbose": 0, **kwargs}
    return binary_model().fit(**arguments)


BAD_FIT_ARGUMENTS = {
    # name: (fit arguments, error type, words in the message)
    "no_samples": ({"x": np.zeros((0, 3)), "y": np.zeros(0)}, errors.DataError,
                   ["x has no samples", "(0, 3)", "at least one row"]),
    "epochs_negative": ({"epochs": -1}, errors.ArgumentError,
                        ["fit", "epochs", "integer >= 1", "-1"]),
    "epochs_float": ({"epochs": 2.5}, errors.ArgumentError, ["epochs", "2.5 (float)"]),
    "batch_size_bool": ({"batch_size": True}, errors.ArgumentError,
                        ["batch_size", "True (bool)", "integer >= 1"]),
    "batch_size_zero": ({"batch_size": 0}, errors.ArgumentError, ["batch_size", "0 (int)"]),
    "initial_epoch_past_epochs": ({"epochs": 2, "initial_epoch": 5}, errors.ArgumentError,
                                  ["initial_epoch=5", "epochs=2", "epochs=7"]),
    "initial_epoch_negative": ({"initial_epoch": -1}, errors.ArgumentError, ["initial_epoch"]),
    "verbose_string": ({"verbose": "yes"}, errors.ArgumentError, ["verbose", "0", "'yes'"]),
    "validation_split_above_1": ({"validation_split": 1.5}, errors.ArgumentError,
                                 ["validation_split", "[0, 1)", "1.5"]),
    "validation_split_negative": ({"validation_split": -0.1}, errors.ArgumentError,
                                  ["validation_split", "-0.1"]),
    "validation_split_string": ({"validation_split": "0.2"}, errors.ArgumentError,
                                ["validation_split", "'0.2' (str)"]),
    "validation_data_array": ({"validation_data": np.zeros((3, 3))}, errors.ArgumentError,
                              ["validation_data", "(x_val, y_val)", "ndarray"]),
    "shuffle_string": ({"shuffle": "no"}, errors.ArgumentError, ["shuffle", "True or False"]),
    "callbacks_not_a_list": ({"callbacks": nn.callbacks.History()}, errors.ArgumentError,
                             ["callbacks", "list"]),
    "labels_with_nan": ({"y": np.where(np.arange(20) == 3, np.nan, 1.0)}, errors.DataError,
                        ["y holds 1 NaN", "(3,)"]),
    "labels_too_few": ({"y": np.zeros(18)}, errors.DataError, ["20 samples", "18"]),
    "complex_x": ({"x": np.ones((20, 3)) + 1j}, errors.ArgumentError,
                  ["x holds complex numbers", "x.real"]),
    "x_overflows_float32": ({"x": np.full((20, 3), 1e300)}, errors.DataError,
                            ["too large for float32", "x[0, 0] is 1e+300", "scale"]),
    "y_overflows_float32": ({"y": np.full(20, 1e300)}, errors.DataError,
                            ["y holds values too large for float32"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FIT_ARGUMENTS))
def test_fit_refuses_bad_arguments_and_data(case):
    arguments, error_type, words = BAD_FIT_ARGUMENTS[case]
    with pytest.raises(error_type) as error:
        fit_with(**arguments)
    assert all(word in message_of(error) for word in words), message_of(error)


def test_a_refused_fit_has_not_trained(rng):
    model = binary_model()
    before = model.get_weights()
    with pytest.raises(errors.ArgumentError):
        model.fit(rng.normal(size=(20, 3)), np.zeros(20), epochs=3, initial_epoch=4, verbose=0)
    assert model.epochs_trained == 0 and model.optimizer.iterations == 0
    for ours, theirs in zip(model.get_weights(), before):
        np.testing.assert_array_equal(ours, theirs)


def test_predict_refuses_values_that_overflow_float32_instead_of_returning_nan():
    model = binary_model()
    with pytest.raises(errors.DataError) as error:
        model.predict(np.array([[1.0, -2.0, 0.5], [0.0, -1e300, 2.0]]))
    assert "x[1, 1] is -1e+300" in message_of(error) and "3.4e+38" in message_of(error)
    np.testing.assert_array_equal(  # in float64 the same value is finite and accepted
        binary_model(dtype="float64").predict(np.array([[0.0, 1e300, 0.0]])).shape, (1, 1))


@pytest.mark.parametrize("call, error_type, words", [
    (lambda m: m.predict(np.ones((2, 3)) + 1j), errors.ArgumentError, ["complex"]),
    (lambda m: m.predict(np.ones((2, 3)), batch_size=0), errors.ArgumentError,
     ["predict", "batch_size"]),
    (lambda m: m.evaluate(np.ones((0, 3)), np.ones(0)), errors.DataError, ["no samples"]),
    (lambda m: m.evaluate(np.ones((2, 3)), np.ones(2), batch_size=True), errors.ArgumentError,
     ["evaluate", "batch_size", "True (bool)"]),
    (lambda m: m.train_on_batch(np.ones((0, 3)), np.ones(0)), errors.DataError,
     ["no samples"]),
    (lambda m: m.compile("adam", "mse", metrics="accuracy"), errors.ArgumentError,
     ["metrics", "['accuracy']"]),
    (lambda m: m.compile("adam", "mse", metrics=["acurracy"]), errors.ArgumentError,
     ["'acurracy'", "did you mean 'accuracy'?"]),
    (lambda m: m.build("abc"), errors.ArgumentError, ["input_shape", "'abc' (str)"]),
], ids=["predict_complex", "predict_batch_size", "evaluate_empty", "evaluate_batch_size",
        "train_on_batch_empty", "metrics_string", "metrics_typo", "build_shape"])
def test_other_model_calls_refuse_bad_input(call, error_type, words):
    with pytest.raises(error_type) as error:
        call(binary_model())
    assert all(word in message_of(error) for word in words), message_of(error)


@pytest.mark.parametrize("make, error_type, words", [
    (lambda: nn.Sequential([]).predict(np.ones((2, 3))), errors.UsageError, ["no layers"]),
    (lambda: nn.Sequential(nn.Dense(2)), errors.ArgumentError, ["list of layers", "Dense"]),
    (lambda: nn.Sequential([nn.Dense(2)], seed=-1), errors.ArgumentError, ["seed", ">= 0"]),
    (lambda: nn.Sequential([nn.Dense(2)], seed=True), errors.ArgumentError, ["seed", "bool"]),
    (lambda: nn.Sequential([nn.Dense(2)], dtype="float16"), errors.ArgumentError,
     ["dtype", "float32", "float16"]),
    (lambda: nn.Sequential([nn.Dense(2)], dtype="flaot32"), errors.ArgumentError,
     ["dtype", "flaot32"]),
    (lambda: nn.Dense(units=True), errors.ArgumentError, ["Dense", "units", "True (bool)"]),
    (lambda: nn.Dense(2, use_bias="no"), errors.ArgumentError, ["use_bias", "True or False"]),
    (lambda: nn.Dense(2, input_shape=5), errors.ArgumentError, ["input_shape", "(28, 28, 1)"]),
    (lambda: nn.Dense(2, name=""), errors.ArgumentError, ["name", "non-empty string"]),
    (lambda: nn.Dropout(1.0), errors.ArgumentError, ["Dropout", "rate", "[0, 1)"]),
    (lambda: nn.Dropout("0.5"), errors.ArgumentError, ["Dropout", "'0.5' (str)"]),
    (lambda: nn.Conv2D(True, 3), errors.ArgumentError, ["Conv2D", "filters", "bool"]),
    (lambda: nn.Conv2D(2, True), errors.ArgumentError, ["kernel_size", "True"]),
    (lambda: nn.Reshape(5), errors.ArgumentError, ["Reshape", "target_shape", "(28, 28, 1)"]),
    (lambda: nn.BatchNormalization(scale=1), errors.ArgumentError, ["scale", "True or False"]),
    (lambda: nn.Sequential([nn.Dense(10**13, input_shape=(10,))]), errors.ArgumentError,
     ["Dense 'dense'", "'kernel'", "does not fit in memory", "fewer units"]),
    (lambda: nn.Sequential([nn.Conv2D(10**19, 3, input_shape=(8, 8, 1))]), errors.ArgumentError,
     ["Conv2D 'conv2d'", "'kernel'", "(3, 3, 1, 10000000000000000000)", "does not fit"]),
], ids=["empty_layer_list", "layers_not_a_list", "seed_negative", "seed_bool", "dtype_float16",
        "dtype_typo", "dense_units_bool", "dense_use_bias", "dense_input_shape", "dense_name",
        "dropout_one", "dropout_string", "conv_filters_bool", "conv_kernel_bool",
        "reshape_int", "batchnorm_scale", "dense_too_big", "conv_beyond_any_array"])
def test_models_and_layers_refuse_bad_arguments(make, error_type, words):
    with pytest.raises(error_type) as error:
        make()
    assert all(word in message_of(error) for word in words), message_of(error)


@pytest.mark.parametrize("make, words", [
    (lambda: nn.optimizers.SGD(learning_rate=10**400), ["SGD", "learning_rate"]),
    (lambda: nn.Sequential([nn.Dense(10**400, input_shape=(3,))]),
     ["Dense 'dense'", "'kernel'", "does not fit in memory"]),
    (lambda: nn.Sequential([nn.Dense(2, input_shape=(10**400,))]),
     ["Dense 'dense'", "'kernel'", "does not fit in memory"]),
], ids=["number_beyond_float", "units_beyond_float", "input_beyond_float"])
def test_integers_beyond_floats_range_are_argument_errors(make, words):
    """Python ints have no size limit; converting 10**400 to a float raises OverflowError, which
    must not come out of ildl."""
    with pytest.raises(errors.ArgumentError) as error:
        make()
    assert all(word in message_of(error) for word in words), message_of(error)
