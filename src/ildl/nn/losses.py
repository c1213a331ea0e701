"""Loss functions: how far predictions are from the targets, and the gradient of that distance.

Every loss is the mean over the batch (Keras and PyTorch ``reduction="mean"``)::

    >>> loss = get("binary_crossentropy")
    >>> loss(np.array([[1.0]]), np.array([[0.9]]))         # -log(0.9)
    0.10536...

``value(y_true, y_pred)`` gives the number and ``gradient(y_true, y_pred)`` gives dL/dy_pred with
the same shape as ``y_pred``. Cross-entropies that follow a sigmoid or softmax are better computed
from the logits ``z`` (the layer's input to its activation): ``value_from_logits`` and
``gradient_from_logits`` never take the log of a rounded 0, and their gradient is simply
``(p - y) / N``. ``Sequential`` uses that fused form automatically.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .activations import sigmoid, softmax
from .registry import Registry

# Keras clips probabilities to [EPSILON, 1 - EPSILON] before the log when it is given
# probabilities rather than logits.
EPSILON = 1e-7


class Loss:
    """Base class: ``value`` and ``gradient`` of a mean-over-batch loss."""

    name = "loss"
    #: name of the output activation this loss fuses with (computing from logits), if any.
    fuses_with: str | None = None

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return self.value(y_true, y_pred)

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def value_from_logits(self, y_true: np.ndarray, logits: np.ndarray) -> float:
        raise NotImplementedError(f"{self.name} has no fused logits form")

    def gradient_from_logits(self, y_true: np.ndarray, logits: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no fused logits form")

    def get_config(self) -> dict:
        return {}

    def check_targets(self, y_true: np.ndarray, output_shape: tuple) -> np.ndarray:
        """Return ``y_true`` shaped like the model output, or raise a ValueError saying why not."""
        if y_true.ndim == 1 and len(output_shape) == 2 and output_shape[1] == 1:
            y_true = y_true.reshape(-1, 1)  # (N,) labels for a one-unit output, as Keras accepts
        if y_true.shape[1:] != tuple(output_shape[1:]):
            raise DataError(
                f"loss {self.name!r} needs targets shaped like the model output "
                f"(N, {', '.join(map(str, output_shape[1:]))}) but got y of shape {y_true.shape}; "
                "reshape y or change the last layer's units"
            )
        return y_true

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


class MeanSquaredError(Loss):
    """``mean((y_pred - y_true)^2)`` over all elements; the loss of regression."""

    name = "mse"

    def value(self, y_true, y_pred):
        return float(np.mean(np.square(y_pred - y_true)))

    def gradient(self, y_true, y_pred):
        return (2 / y_pred.size) * (y_pred - y_true)


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y_true|)``; less swayed by outliers than MSE (gradient 0 at equality)."""

    name = "mae"

    def value(self, y_true, y_pred):
        return float(np.mean(np.abs(y_pred - y_true)))

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) / y_pred.size


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))`` for targets in [0, 1], each output its own yes/no.

    From logits ``z`` (``p = sigmoid(z)``) the same value is
    ``mean(max(z, 0) - z y + log(1 + e^-|z|))`` and the gradient ``(sigmoid(z) - y) / size``.
    """

    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def value(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))

    def gradient(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (p - y_true) / (p * (1 - p)) / y_pred.size

    def value_from_logits(self, y_true, logits):
        z = logits
        return float(np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))))

    def gradient_from_logits(self, y_true, logits):
        return (sigmoid(logits) - y_true) / logits.size

    def check_targets(self, y_true, output_shape):
        y_true = super().check_targets(y_true, output_shape)
        if y_true.size and (y_true.min() < 0 or y_true.max() > 1):
            raise DataError(
                "binary_crossentropy needs targets in [0, 1] (probabilities or 0/1 labels) but y "
                f"ranges over [{y_true.min()}, {y_true.max()}]; for several classes use "
                "sparse_categorical_crossentropy with a softmax output"
            )
        return y_true


class CategoricalCrossentropy(Loss):
    """``-mean_over_batch(sum_k y_k log p_k)`` for one-hot (or soft) targets of shape (N, K).

    From logits: ``logsumexp(z) - sum_k y_k z_k`` per row, gradient ``(softmax(z) - y) / N``.
    """

    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def value(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.sum(y_true * np.log(p)) / len(y_pred))

    def gradient(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -y_true / p / len(y_pred)

    def value_from_logits(self, y_true, logits):
        return float(np.sum(_log_sum_exp(logits)[:, 0] - np.sum(y_true * logits, axis=-1))
                     / len(logits))

    def gradient_from_logits(self, y_true, logits):
        return (softmax(logits) - y_true) / len(logits)


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer labels ``y`` of shape (N,) instead of one-hot."""

    name = "sparse_categorical_crossentropy"
    fuses_with = "softmax"

    def value(self, y_true, y_pred):
        picked = y_pred[np.arange(len(y_pred)), y_true]
        return float(-np.mean(np.log(np.clip(picked, EPSILON, 1 - EPSILON))))

    def gradient(self, y_true, y_pred):
        grad = np.zeros_like(y_pred)
        rows = np.arange(len(y_pred))
        grad[rows, y_true] = -1 / np.clip(y_pred[rows, y_true], EPSILON, 1 - EPSILON)
        return grad / len(y_pred)

    def value_from_logits(self, y_true, logits):
        picked = logits[np.arange(len(logits)), y_true]
        return float(np.mean(_log_sum_exp(logits)[:, 0] - picked))

    def gradient_from_logits(self, y_true, logits):
        grad = softmax(logits)
        grad[np.arange(len(logits)), y_true] -= 1
        return grad / len(logits)

    def check_targets(self, y_true, output_shape):
        if y_true.ndim == 2 and y_true.shape[1] == 1:
            y_true = y_true[:, 0]
        n_classes = output_shape[-1]
        if y_true.ndim != 1:
            raise DataError(
                "sparse_categorical_crossentropy needs integer class labels of shape (N,) but got "
                f"y of shape {y_true.shape}; for one-hot targets use categorical_crossentropy"
            )
        fractional = np.flatnonzero(y_true != np.round(y_true))
        if fractional.size:
            first = int(fractional[0])
            raise DataError(
                f"sparse_categorical_crossentropy needs integer class labels in "
                f"[0, {n_classes - 1}] for a {n_classes}-unit output but y[{first}] "
                f"is {y_true[first]}; round or re-encode the labels")
        if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
            raise DataError(
                f"sparse_categorical_crossentropy needs integer labels in [0, {n_classes - 1}] for "
                f"a {n_classes}-unit output but y holds values in [{y_true.min()}, {y_true.max()}]"
            )
        return y_true.astype(np.int64)


def _log_sum_exp(logits: np.ndarray) -> np.ndarray:
    """``log(sum(exp(z)))`` over the last axis, (N, K) -> (N, 1), without overflow."""
    top = logits.max(axis=-1, keepdims=True)
    return top + np.log(np.sum(np.exp(logits - top), axis=-1, keepdims=True))


_REGISTRY = Registry("loss", Loss,
                     [MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                      CategoricalCrossentropy, SparseCategoricalCrossentropy],
                     aliases={"mean_squared_error": "mse", "mean_absolute_error": "mae"})
names = _REGISTRY.names
get = _REGISTRY.get
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize
