"""``Activation``: apply an activation function as a layer of its own."""

from __future__ import annotations

from .base import Layer


class Activation(Layer):
    """``y = f(x)`` elementwise (softmax: over the last axis); shape unchanged.

    ``Dense(8, activation="relu")`` and ``Dense(8)`` followed by ``Activation("relu")`` compute the
    same thing; the separate layer is handy after a layer that has no ``activation`` argument.

    >>> layer = Activation("tanh")
    """

    def __init__(self, activation, **kwargs):
        super().__init__(activation=activation, **kwargs)

    def call(self, inputs, training):
        return inputs

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        return grad_pre_activation

    def get_config(self):
        config = super().get_config()
        config.setdefault("activation", "linear")
        return config
