"""Pooling layers: summarise each window of an image by its maximum or its mean (NHWC)."""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError
from .. import threads
from ..convolution import ConvGeometry, check_padding, pair
from .base import Layer
from .conv import image_shape


class _Pooling2D(Layer):
    """Shared by max and average pooling: window size, strides (default: the window) and padding."""

    splits_images = True

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else pair(strides, "strides")
        self.padding = check_padding(padding)
        self._geometry: ConvGeometry | None = None

    def _geometry_for(self, input_hw) -> ConvGeometry:
        if self._geometry is None or self._geometry.input_hw != tuple(input_hw):
            self._geometry = ConvGeometry(input_hw, self.pool_size, self.strides, self.padding)
        return self._geometry

    def compute_output_shape(self, input_shape):
        height, width, channels = image_shape(self, input_shape)
        geometry = self._geometry_for((height, width))
        if min(geometry.output_hw) < 1:
            raise ArgumentError(f"{type(self).__name__} {self.name!r}: a {self.pool_size} window "
                                f"does not fit a {height}x{width} input with padding='valid'")
        return (*geometry.output_hw, channels)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """The largest value of each window: ``(N, H, W, C) -> (N, H', W', C)``.

    The gradient flows only to the position that held the maximum (the first one on ties, as in
    PyTorch). With ``padding="same"`` the padding never wins (it is -inf).

    >>> layer = MaxPooling2D(2)
    """

    def call(self, inputs, training):
        geometry = self._geometry_for(inputs.shape[1:3])
        view = geometry.window_view(inputs, pad_value=-np.inf)  # (N, H', W', ph, pw, C)
        offsets = geometry.offsets()
        best = np.empty(view.shape[:3] + view.shape[5:], dtype=inputs.dtype)
        # The smallest integer type that numbers every offset (int8 up to 128 offsets).
        winner = np.empty(best.shape, dtype=np.min_scalar_type(-len(offsets)))

        def pool(images: slice) -> None:
            # Walk the few window offsets, keeping the best value so far and which offset gave
            # it: each step is one vectorised pass over all windows of these images.
            windows, best_here, winner_here = view[images], best[images], winner[images]
            np.copyto(best_here, windows[:, :, :, 0, 0, :])
            winner_here.fill(0)
            for offset, (row, col) in enumerate(offsets[1:], start=1):
                candidate = windows[:, :, :, row, col, :]
                better = candidate > best_here  # strict: the first maximum keeps the gradient
                np.maximum(best_here, candidate, out=best_here)
                # winner = offset where better, else unchanged; plain arithmetic is several
                # times faster than np.where or boolean indexing here.
                change = winner_here - winner.dtype.type(offset)
                change *= better
                winner_here -= change

        threads.split_batch(pool, len(inputs), inputs.size)  # whole images per thread
        self._winner = winner
        return best

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        if not need_input_grad:
            return None
        geometry = self._geometry
        offset_of = {position: offset for offset, position in enumerate(geometry.offsets())}
        grad, winner = grad_pre_activation, self._winner
        return geometry.add_windows_back(
            lambda a, b, images: grad[images] * (winner[images] == offset_of[a, b]),
            len(grad), grad.shape[-1], grad.dtype)


class AveragePooling2D(_Pooling2D):
    """The mean of each window: ``(N, H, W, C) -> (N, H', W', C)``.

    With ``padding="same"`` a border window averages only the pixels inside the image (as Keras).

    >>> layer = AveragePooling2D(2)
    """

    def _counts(self, geometry: ConvGeometry, dtype) -> np.ndarray:
        """Pixels of the image inside each window, (H', W')."""
        ones = np.ones((1, *geometry.input_hw, 1), dtype=dtype)
        return geometry.window_view(ones).sum(axis=(3, 4))[0, :, :, 0]

    def call(self, inputs, training):
        geometry = self._geometry_for(inputs.shape[1:3])
        self._window_sizes = self._counts(geometry, inputs.dtype)[None, :, :, None]
        return geometry.window_view(inputs).sum(axis=(3, 4)) / self._window_sizes

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        if not need_input_grad:
            return None
        # Each pixel of a window gets an equal share of the window's gradient.
        share = grad_pre_activation / self._window_sizes
        return self._geometry.add_windows_back(lambda a, b, images: share[images], len(share),
                                               share.shape[-1], share.dtype)


class GlobalAveragePooling2D(Layer):
    """The mean of each channel over the whole image: ``(N, H, W, C) -> (N, C)``.

    >>> layer = GlobalAveragePooling2D()
    """

    def compute_output_shape(self, input_shape):
        return (image_shape(self, input_shape)[-1],)

    def call(self, inputs, training):
        self._input_shape = inputs.shape
        return inputs.mean(axis=(1, 2))

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        if not need_input_grad:
            return None
        n, height, width, channels = self._input_shape
        share = grad_pre_activation / (height * width)
        return np.broadcast_to(share[:, None, None, :], self._input_shape).copy()
