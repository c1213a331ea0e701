"""``Dropout``: randomly silence units while training so none can be relied on alone."""

from __future__ import annotations

import numpy as np

from ...validation import check_number
from .base import Layer


class Dropout(Layer):
    """Zero each input with probability ``rate`` during training and scale the rest by
    ``1 / (1 - rate)`` so the expected sum is unchanged ("inverted dropout", as Keras and PyTorch).
    At inference it is the identity. Shape unchanged. The masks are drawn from the model's random
    generator (``Sequential(seed=...)``).

    >>> layer = Dropout(0.5)
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_number(rate, "rate (the fraction of units dropped)", "Dropout", low=0,
                                 high=1, bounds="[)")
        self._mask: np.ndarray | None = None

    def call(self, inputs, training):
        if not training or self.rate == 0:
            self._mask = None
            return inputs
        # self.rng is the model's generator: Sequential(seed=...) makes the masks repeatable and
        # a saved model resumes with the same masks.
        keep = self.rng.random(inputs.shape, dtype=np.float32) >= self.rate
        self._mask = keep.astype(inputs.dtype) / np.asarray(1 - self.rate, dtype=inputs.dtype)
        return inputs * self._mask

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad_pre_activation if self._mask is None else grad_pre_activation * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
