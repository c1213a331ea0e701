"""Weight penalties added to the loss to keep weights small (and so the model simpler).

Keras meaning: ``L2(l)`` adds ``l * sum(w^2)`` to the loss (gradient ``2 l w``), ``L1(l)`` adds
``l * sum(|w|)`` (gradient ``l sign(w)``)::

    model.add(nn.Dense(64, activation="relu", kernel_regularizer=nn.regularizers.L2(1e-3)))
"""

from __future__ import annotations

import numpy as np

from ..validation import check_number
from .registry import Registry


class Regularizer:
    """A penalty on one weight array: ``penalty(w)`` adds to the loss, ``gradient(w)`` to dL/dw."""

    name = "regularizer"

    def penalty(self, weights: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``; ``L1`` and ``L2`` are its one-term cases."""

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        where = type(self).__name__
        self.l1 = check_number(l1, "l1 (a regularization strength)", where, low=0)
        self.l2 = check_number(l2, "l2 (a regularization strength)", where, low=0)

    def penalty(self, weights):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.sum(np.abs(weights)))
        if self.l2:
            total += self.l2 * float(np.sum(np.square(weights)))
        return total

    def gradient(self, weights):
        grad = np.zeros_like(weights)
        if self.l1:
            grad += self.l1 * np.sign(weights)
        if self.l2:
            grad += (2 * self.l2) * weights
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"L1L2(l1={self.l1}, l2={self.l2})"


class L1(L1L2):
    """``l1 * sum(|w|)``: pushes weights to exactly zero (sparse weights). Keras default 0.01."""

    name = "l1"

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)``, weight decay: shrinks every weight towards zero. Keras default 0.01."""

    name = "l2"

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_REGISTRY = Registry("regularizer", Regularizer, [L1, L2, L1L2])
names = _REGISTRY.names
deserialize = _REGISTRY.deserialize


def get(identifier: str | dict | Regularizer | None) -> Regularizer | None:
    """A regularizer from a name (``"l2"``, Keras defaults), a ``serialize`` dict
    (``{"name": "l2", "config": {"l2": 0.01}}``), a Regularizer (returned as it is) or None."""
    return None if identifier is None else _REGISTRY.get(identifier)


def serialize(regularizer: Regularizer | None) -> dict | None:
    """``{"name": ..., "config": {...}}``, or None for no regularizer."""
    return None if regularizer is None else _REGISTRY.serialize(regularizer)
