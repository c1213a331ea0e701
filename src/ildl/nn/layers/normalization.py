"""``BatchNormalization``: standardise each channel over the batch, then scale and shift."""

from __future__ import annotations

import numpy as np

from ...validation import check_flag, check_number
from .base import Layer


class BatchNormalization(Layer):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` per channel (the last axis).

    Training uses the batch's mean and (biased) variance and updates the moving averages
    ``moving = momentum * moving + (1 - momentum) * batch`` (Keras' convention: PyTorch's momentum
    is ``1 - momentum``, and PyTorch tracks the unbiased variance). Inference uses the moving
    averages. Weights, Keras order: gamma, beta (trainable), moving_mean, moving_variance.

    Backward in training mode, with ``x_hat`` the standardised input and ``m`` values per channel:
    ``dx = (gamma / sqrt(var + eps)) * (dy - mean(dy) - x_hat * mean(dy * x_hat))``.

    >>> layer = BatchNormalization()
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        where = "BatchNormalization"
        self.momentum = check_number(momentum, "momentum", where, low=0, high=1, bounds="[)")
        self.epsilon = check_number(epsilon, "epsilon", where, low=0)
        self.center = check_flag(center, "center", where)
        self.scale = check_flag(scale, "scale", where)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        channels = (input_shape[-1],)
        if self.scale:
            self.add_weight("gamma", channels, "ones", rng)
        if self.center:
            self.add_weight("beta", channels, "zeros", rng)
        self.add_weight("moving_mean", channels, "zeros", rng, trainable=False)
        self.add_weight("moving_variance", channels, "ones", rng, trainable=False)
        return output_shape

    def call(self, inputs, training):
        axes = tuple(range(inputs.ndim - 1))  # every axis but the channels
        if training:
            mean = inputs.mean(axis=axes)
            variance = inputs.var(axis=axes)
            for name, batch_value in (("moving_mean", mean), ("moving_variance", variance)):
                moving = self.state[name]
                moving *= self.momentum
                moving += (1 - self.momentum) * batch_value
        else:
            mean, variance = self.state["moving_mean"], self.state["moving_variance"]
        self._training = training
        self._inverse_std = 1 / np.sqrt(variance + self.epsilon)
        self._normalized = (inputs - mean) * self._inverse_std
        outputs = self._normalized * self.params["gamma"] if self.scale else self._normalized
        return outputs + self.params["beta"] if self.center else outputs

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        axes = tuple(range(grad_pre_activation.ndim - 1))
        if self.scale:
            self.grads["gamma"][...] = np.sum(grad_pre_activation * self._normalized, axis=axes)
        if self.center:
            self.grads["beta"][...] = np.sum(grad_pre_activation, axis=axes)
        if not need_input_grad:
            return None
        gamma = self.params["gamma"] if self.scale else 1
        grad_normalized = grad_pre_activation * (gamma * self._inverse_std)
        if not self._training:  # moving statistics are constants
            return grad_normalized
        mean_grad = grad_normalized.mean(axis=axes)
        mean_grad_x = (grad_normalized * self._normalized).mean(axis=axes)
        return grad_normalized - mean_grad - self._normalized * mean_grad_x

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
