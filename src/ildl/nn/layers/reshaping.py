"""``Flatten`` and ``Reshape``: change the shape of each sample, not its values."""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError
from .base import Layer


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``, e.g. between convolutions and ``Dense``.

    >>> layer = Flatten()
    """

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, inputs, training):
        self._input_shape = inputs.shape
        return inputs.reshape(len(inputs), math.prod(inputs.shape[1:]))  # (not -1: N may be 0)

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        return grad_pre_activation.reshape(self._input_shape) if need_input_grad else None


class Reshape(Layer):
    """``(N, *input_shape) -> (N, *target_shape)``; one entry of ``target_shape`` may be -1.

    >>> layer = Reshape((28, 28, 1))
    """

    def __init__(self, target_shape: tuple, **kwargs):
        super().__init__(**kwargs)
        sizes = tuple(target_shape) if isinstance(target_shape, tuple | list) else ()
        is_size = [isinstance(d, int | np.integer) and not isinstance(d, bool | np.bool_)
                   and (d >= 1 or d == -1) for d in sizes]
        if not sizes or not all(is_size) or sizes.count(-1) > 1:
            raise ArgumentError(
                f"Reshape: target_shape must be a tuple of positive sizes with at most one -1 "
                f"(e.g. (28, 28, 1) or (-1, 1)), got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in sizes)

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size:
            raise ArgumentError(f"Reshape {self.name!r}: cannot reshape samples of shape "
                                f"{tuple(input_shape)} ({size} values) to {self.target_shape}")
        return shape

    def call(self, inputs, training):
        self._input_shape = inputs.shape
        return inputs.reshape(len(inputs), *self.output_shape)

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        return grad_pre_activation.reshape(self._input_shape) if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
