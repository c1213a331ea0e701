"""``Dense``: the fully connected layer, ``y = activation(x @ kernel + bias)``."""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError
from .. import regularizers
from .base import Layer


class Dense(Layer):
    """Every input connected to every one of ``units`` outputs.

    Shapes: ``(N, in) -> (N, units)``; kernel ``(in, units)``, bias ``(units,)`` (as Keras).
    Backward: ``dK = x^T g``, ``db = sum_N g``, ``dx = g K^T`` with ``g`` the gradient of the
    pre-activation output.

    >>> layer = Dense(3, activation="relu", input_shape=(2,))
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer: str = "glorot_uniform", bias_initializer: str = "zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        if not isinstance(units, int | np.integer) or units < 1:
            raise ArgumentError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._inputs: np.ndarray | None = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ArgumentError(
                f"Dense {self.name!r} expects flat inputs (N, features) but its input has shape "
                f"(N, {', '.join(map(str, input_shape))}); add nn.Flatten() before it"
            )
        return (self.units,)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        self.add_weight("kernel", (input_shape[0], self.units), self.kernel_initializer, rng,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, rng,
                            self.bias_regularizer)
        return output_shape

    def call(self, inputs, training):
        self._inputs = inputs
        outputs = inputs @ self.params["kernel"]
        if self.use_bias:
            outputs += self.params["bias"]
        return outputs

    def call_backward(self, grad_logits, need_input_grad=True):
        np.matmul(self._inputs.T, grad_logits, out=self.grads["kernel"])
        if self.use_bias:
            np.sum(grad_logits, axis=0, out=self.grads["bias"])
        self.add_regularization_gradients()
        return grad_logits @ self.params["kernel"].T if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer,
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
