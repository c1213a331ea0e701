"""Weight penalties added to the loss to keep weights small (and so the model simpler).

Keras meaning: ``L2(l)`` adds ``l * sum(w^2)`` to the loss (gradient ``2 l w``), ``L1(l)`` adds
``l * sum(|w|)`` (gradient ``l sign(w)``)::

    model.add(nn.Dense(64, activation="relu", kernel_regularizer=nn.regularizers.L2(1e-3)))
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError


class Regularizer:
    """A penalty on one weight array: ``penalty(w)`` adds to the loss, ``gradient(w)`` to dL/dw."""

    def penalty(self, weights: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``; ``L1`` and ``L2`` are its one-term cases."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ArgumentError(f"regularization strengths must be >= 0, got l1={l1}, l2={l2}")
        self.l1 = float(l1)
        self.l2 = float(l2)

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

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)


class L2(L1L2):
    """``l2 * sum(w^2)``, weight decay: shrinks every weight towards zero. Keras default 0.01."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier: str | dict | Regularizer | None) -> Regularizer | None:
    """A regularizer from a name (``"l2"``, Keras defaults), an object, a ``serialize`` dict
    (``{"l1": 0.0, "l2": 0.01}``) or None."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return L1L2(**identifier)
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ArgumentError(f"unknown regularizer {identifier!r}; expected one of "
                        f"{', '.join(sorted(_BY_NAME))}, a Regularizer or None")


def serialize(regularizer: Regularizer | None) -> dict | None:
    return None if regularizer is None else regularizer.get_config()
