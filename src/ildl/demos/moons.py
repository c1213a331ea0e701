"""The collection's first experiment: a small dense network learns the two moons.

Facts of the original: ``make_moons(1000, noise=0.2, random_state=100)``, 10% held out for testing,
a 2-25-50-50-25-1 network with ReLU hidden layers and a sigmoid output, plain gradient descent with
learning rate 0.01 on the full training set for 10 000 steps. Here ildl trains it, and a PyTorch
twin (same initial weights, same data, same steps) trains alongside when torch is installed, so the
accuracy and the time can be compared::

    >>> result = run_moons(steps=200, torch_twin=False)    # doctest: +SKIP
    >>> result.ildl.accuracy
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass

import numpy as np

from .. import nn
from ..data import make_moons, train_test_split
from ..progress import ProgressBar
from ..validation import check_integer
from .twins import copy_weights_to_torch

LAYER_UNITS = (25, 50, 50, 25)
# One full-batch step of either framework on an idle 2-core machine (README: 7.2 s for ildl's
# 10 000, 7.4 s for the twin's).
SECONDS_PER_STEP = 0.00074


@dataclass
class MoonsData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class RunResult:
    """One framework's run: test accuracy, training seconds, steps per second."""

    framework: str
    accuracy: float
    seconds: float
    steps: int

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds


@dataclass
class MoonsResult:
    data: MoonsData
    model: nn.Sequential
    ildl: RunResult
    torch: RunResult | None  # None when torch is not installed or not asked for


def moons_data(n_samples: int = 1000, noise: float = 0.2, test_size: float = 0.1,
               random_state: int = 100) -> MoonsData:
    """The collection's moons, split into train and test (float32 for the networks)."""
    x, y = make_moons(n_samples, noise=noise, random_state=random_state)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size,
                                                        random_state=random_state)
    return MoonsData(x_train.astype(np.float32), y_train, x_test.astype(np.float32), y_test)


def build_model(seed: int = 0) -> nn.Sequential:
    """The 2-25-50-50-25-1 network: ReLU hidden layers, sigmoid output."""
    layers = [nn.Dense(LAYER_UNITS[0], activation="relu", input_shape=(2,))]
    layers += [nn.Dense(units, activation="relu") for units in LAYER_UNITS[1:]]
    layers.append(nn.Dense(1, activation="sigmoid"))
    return nn.Sequential(layers, seed=seed)


def make_torch_twin(model: nn.Sequential):
    """A PyTorch copy of ``model`` (same layers and weights, taken before training); needs torch."""
    import torch

    layers = []
    for layer in model.layers:
        layers += [torch.nn.Linear(*layer.params["kernel"].shape), torch.nn.ReLU()]
    twin = torch.nn.Sequential(*layers[:-1], torch.nn.Sigmoid())
    copy_weights_to_torch(model, twin)
    return twin


def train_torch_twin(twin, data: MoonsData, steps: int, learning_rate: float,
                     verbose: int = 0) -> RunResult:
    """Train the PyTorch ``twin`` as ildl trains the model: full-batch gradient descent on the
    binary cross-entropy; ``verbose`` 1 shows a progress bar."""
    import torch

    optimizer = torch.optim.SGD(twin.parameters(), lr=learning_rate)
    loss_function = torch.nn.BCELoss()
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train.astype(np.float32)).reshape(-1, 1)
    bar = ProgressBar(steps, title=f"pytorch twin, {steps:,} full-batch steps",
                      unit="steps") if verbose else None
    start = time.perf_counter()
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_function(twin(x), y)
        loss.backward()
        optimizer.step()
        if bar is not None:
            bar.update(step + 1, step + 1, {})
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.finish(steps, steps, {"loss": loss.item()})
    with torch.no_grad():
        predicted = twin(torch.from_numpy(data.x_test)).numpy()[:, 0] > 0.5
    return RunResult("pytorch", float(np.mean(predicted == data.y_test)), seconds, steps)


def run_moons(steps: int = 10_000, learning_rate: float = 0.01, seed: int = 0,
              torch_twin: bool = True, verbose: int = 0) -> MoonsResult:
    """Train the moons network with ildl, then its PyTorch twin from the same initial weights;
    return accuracies and times. ``verbose`` 1 shows a progress bar for each."""
    check_integer(steps, "steps", "run_moons", minimum=1)
    data = moons_data()
    model = build_model(seed)
    model.compile(nn.optimizers.SGD(learning_rate=learning_rate), "binary_crossentropy",
                  ["accuracy"])
    twin = None
    if torch_twin and importlib.util.find_spec("torch") is not None:
        twin = make_torch_twin(model)  # before ildl trains, so both start from the same weights
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=len(data.x_train), epochs=steps,
              shuffle=False, verbose=verbose)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(data.x_test, data.y_test)["accuracy"]
    twin_run = None if twin is None else train_torch_twin(twin, data, steps, learning_rate,
                                                          verbose)
    return MoonsResult(data, model, RunResult("ildl", accuracy, seconds, steps), twin_run)
