"""The session engine against plain ildl.nn scripts written by hand for the same settings."""

import base64

import numpy as np
import pytest

from ildl import nn
from ildl.data import make_circles, make_spirals, train_test_split
from ildl.errors import ArgumentError
from ildl.playground import views
from ildl.playground.config import Config
from ildl.playground.datasets import make_bumps
from ildl.playground.session import Session


def circle_script(epochs: int) -> list[np.ndarray]:
    """Binary circle, x1 and x2 and x1^2, 6 tanh then 3 relu units, Adam, batch 16."""
    x, y = make_circles(200, noise=0.1, factor=0.5, random_state=3)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.3, random_state=3)
    inputs = np.column_stack([x_train[:, 0], x_train[:, 1], x_train[:, 0] ** 2])
    model = nn.Sequential([nn.Dense(6, activation="tanh", input_shape=(3,)),
                           nn.Dense(3, activation="relu"),
                           nn.Dense(1, activation="sigmoid")], seed=7)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.03),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(inputs, y_train.reshape(-1, 1), batch_size=16, epochs=epochs, verbose=0)
    return model.get_weights()


def spiral_script(epochs: int) -> list[np.ndarray]:
    """Three spirals, softmax, dropout 0.2 and L2 after each hidden layer, SGD with momentum."""
    x, y = make_spirals(300, n_classes=3, noise=0.05, random_state=1)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.5, random_state=1)
    inputs = np.column_stack([x_train[:, 0], x_train[:, 1], np.sin(x_train[:, 0]),
                              x_train[:, 0] * x_train[:, 1]])
    l2 = nn.regularizers.L2(0.003)
    model = nn.Sequential([nn.Dense(8, activation="gelu", input_shape=(4,), kernel_regularizer=l2),
                           nn.Dropout(0.2),
                           nn.Dense(3, activation="softmax", kernel_regularizer=l2)], seed=11)
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(inputs, y_train, batch_size=32, epochs=epochs, verbose=0)
    return model.get_weights()


def bumps_script(epochs: int) -> list[np.ndarray]:
    """Regression on the bumps, L1, RMSprop, no hidden layer's dropout."""
    x, y = make_bumps(150, noise=0.05, random_state=2)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=2)
    inputs = np.column_stack([x_train[:, 1], x_train[:, 1] ** 2])
    l1 = nn.regularizers.L1(0.001)
    model = nn.Sequential([nn.Dense(5, activation="elu", input_shape=(2,), kernel_regularizer=l1),
                           nn.Dense(1, activation="linear", kernel_regularizer=l1)], seed=5)
    model.compile(optimizer=nn.optimizers.RMSprop(learning_rate=0.01), loss="mse")
    model.fit(inputs, y_train.reshape(-1, 1), batch_size=150, epochs=epochs, verbose=0)
    return model.get_weights()


CASES = {
    "circle": (Config(dataset="circle", points=200, noise=0.1, train_ratio=0.7, data_seed=3,
                      features=("x1", "x2", "x1x1"), hidden=((6, "tanh"), (3, "relu")),
                      optimizer="adam", learning_rate=0.03, batch_size=16, seed=7),
               circle_script),
    "spiral": (Config(problem="multiclass", dataset="spiral", classes=3, points=300, noise=0.05,
                      train_ratio=0.5, data_seed=1, features=("x1", "x2", "sinx1", "x1x2"),
                      hidden=((8, "gelu"),), dropout=0.2, regularization="l2",
                      regularization_rate=0.003, optimizer="momentum", learning_rate=0.1,
                      batch_size=32, seed=11),
               spiral_script),
    "bumps": (Config(problem="regression", dataset="bumps", points=150, noise=0.05,
                     train_ratio=0.8, data_seed=2, features=("x2", "x2x2"),
                     hidden=((5, "elu"),), regularization="l1", regularization_rate=0.001,
                     optimizer="rmsprop", learning_rate=0.01, batch_size=150, seed=5),
              bumps_script),
}


@pytest.mark.parametrize("name", CASES)
def test_the_session_trains_the_weights_a_plain_script_trains(name):
    config, script = CASES[name]
    session = Session(config)
    session.step(2)  # played in frames of different sizes, as the page does
    session.step(1)
    session.step(4)
    assert session.model.epochs_trained == 7
    expected = script(7)
    got = session.model.get_weights()
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(got[0], script(6)[0])  # the comparison can fail: one epoch shows


def test_reset_keeps_or_changes_the_initial_weights():
    session = Session()
    first = session.model.get_weights()
    session.step(3)
    session.reset(new_seed=False)
    assert session.model.epochs_trained == 0
    for before, after in zip(first, session.model.get_weights()):
        np.testing.assert_array_equal(before, after)
    session.reset(new_seed=True)
    assert not np.array_equal(first[0], session.model.get_weights()[0])


def test_regenerate_draws_new_points_of_the_same_dataset():
    session = Session()
    before = session.split.x_train.copy()
    session.regenerate()
    assert session.config.dataset == "circle"
    assert session.split.x_train.shape == before.shape
    assert not np.array_equal(session.split.x_train, before)


def test_a_diverging_loss_stops_with_a_message_and_finite_weights():
    session = Session(Config(problem="regression", dataset="plane", optimizer="sgd",
                             learning_rate=10, hidden=((16, "relu"), (16, "relu")),
                             batch_size=1))
    session.step(20)
    assert session.error and "learning rate" in session.error
    assert all(np.isfinite(w).all() for w in session.model.get_weights())
    session.frame()  # still drawable


@pytest.mark.parametrize("epochs", [0, -1, 101, 2.0, True, "5"])
def test_step_refuses_a_wrong_number_of_epochs(epochs):
    with pytest.raises(ArgumentError, match="epochs"):
        Session().step(epochs)


def test_the_frame_holds_one_byte_per_grid_value():
    config = Config(problem="multiclass", dataset="gauss", classes=4, hidden=((5, "relu"),))
    frame = Session(config).frame(full=True)
    boundary = base64.b64decode(frame["boundary"]["data"])
    assert frame["boundary"]["channels"] == 4
    assert len(boundary) == views.GRID**2 * 4
    neurons = base64.b64decode(frame["neurons"]["data"])
    maps = 7 + 5 + 4  # every feature, the hidden units, the outputs
    assert len(neurons) == maps * (views.GRID // views.NEURON_STRIDE) ** 2
    assert len(frame["neurons"]["scales"]) == maps
    assert frame["layers"][1:] == [["relu"] * 5, ["softmax"] * 4]


def test_the_boundary_is_the_models_output_on_the_grid():
    """Decoded, the bytes are the probabilities of ``model.predict`` at the grid's points."""
    session = Session()
    session.step(2)
    frame = session.frame()
    probabilities = np.frombuffer(base64.b64decode(frame["boundary"]["data"]),
                                  np.uint8) / 255
    points = views.grid_points(session.domain)
    expected = session.model.predict(points)  # the features are x1, x2
    np.testing.assert_allclose(probabilities, expected[:, 0], atol=0.5 / 255 + 1e-6)


def test_the_grid_starts_at_the_top_left_corner():
    points = views.grid_points([0.0, 10.0, 0.0, 10.0], size=10)
    np.testing.assert_allclose(points[0], [0.5, 9.5])  # left, top
    np.testing.assert_allclose(points[9], [9.5, 9.5])  # right, top
    np.testing.assert_allclose(points[-1], [9.5, 0.5])  # right, bottom
