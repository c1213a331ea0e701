"""Metrics: numbers reported during training that are not optimised (accuracy, MAE...).

``"accuracy"`` follows Keras: it becomes binary, categorical or sparse-categorical accuracy
according to the loss, so ``metrics=["accuracy"]`` always means "fraction of correct predictions".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from ..validation import did_you_mean

Metric = Callable[[np.ndarray, np.ndarray], float]


def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold``; shapes (N, k) and (N, k)."""
    return float(np.mean((y_pred > threshold) == (y_true > threshold)))


def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows whose largest output is the one-hot target's class; (N, K) and (N, K)."""
    return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))


def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows whose largest output is the integer label; (N,) and (N, K)."""
    return float(np.mean(np.argmax(y_pred, axis=-1) == y_true))


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred - y_true)))


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.square(y_pred - y_true)))


_BY_NAME: dict[str, Metric] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
}

_ACCURACY_FOR_LOSS = {
    "binary_crossentropy": binary_accuracy,
    "categorical_crossentropy": categorical_accuracy,
    "sparse_categorical_crossentropy": sparse_categorical_accuracy,
}


def names() -> list[str]:
    """The names ``get`` accepts."""
    return sorted([*_BY_NAME, "accuracy", "acc"])


def get(name: str, loss_name: str) -> Metric:
    """The metric function for a name; ``"accuracy"``/``"acc"`` is resolved from the loss."""
    if name in ("accuracy", "acc"):
        if loss_name not in _ACCURACY_FOR_LOSS:
            raise ArgumentError(f"metric 'accuracy' needs a classification loss "
                                f"({', '.join(_ACCURACY_FOR_LOSS)}) but the loss is {loss_name!r}")
        return _ACCURACY_FOR_LOSS[loss_name]
    if name not in _BY_NAME:
        raise ArgumentError(f"unknown metric {name!r}{did_you_mean(name, names())}; expected "
                            f"'accuracy' or one of {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[name]
