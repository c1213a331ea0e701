"""``Dense``: the fully connected layer, ``y = activation(x @ kernel + bias)``."""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError
from ...validation import check_flag, check_integer
from .. import initializers, regularizers, threads
from ..initializers import Initializer
from ..regularizers import Regularizer
from .base import Layer


class Dense(Layer):
    """Every input connected to every one of ``units`` outputs.

    Shapes: ``(N, in) -> (N, units)``; kernel ``(in, units)``, bias ``(units,)`` (as Keras).
    Backward: ``dK = x^T g``, ``db = sum_N g``, ``dx = g K^T`` with ``g`` the gradient of the
    pre-activation output. The products run where ``ildl.nn.threads.matmul`` puts them: on
    BLAS's threads in a network of dense layers, on one BLAS thread when small.

    >>> layer = Dense(3, activation="relu", input_shape=(2,))
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer: str | dict | Initializer = "glorot_uniform",
                 bias_initializer: str | dict | Initializer = "zeros",
                 kernel_regularizer: str | dict | Regularizer | None = None,
                 bias_regularizer: str | dict | Regularizer | None = None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.units = check_integer(units, "units", "Dense", minimum=1)
        self.use_bias = check_flag(use_bias, "use_bias", "Dense")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
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
        kernel = self.params["kernel"]
        outputs = threads.matmul(inputs, kernel, out=self.workspace(
            "pre_activation", (len(inputs), self.units), np.result_type(inputs, kernel)))
        if self.use_bias:
            outputs += self.params["bias"]
        return outputs

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        threads.matmul(self._inputs.T, grad_pre_activation, out=self.grads["kernel"])
        if self.use_bias:
            # sum over the batch; einsum sums the columns of a tall matrix ~3x faster than sum(0)
            np.einsum("nf->f", grad_pre_activation, out=self.grads["bias"])
        if not need_input_grad:
            return None
        kernel = self.params["kernel"]
        return threads.matmul(grad_pre_activation, kernel.T, out=self.workspace(
            "grad_input", self._inputs.shape, np.result_type(grad_pre_activation, kernel)))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
