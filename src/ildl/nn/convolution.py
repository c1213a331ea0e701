"""The arithmetic of 2-D convolution and pooling on NHWC arrays, as plain functions.

Layers (``Conv2D``, ``MaxPooling2D``...), the convolution figure and the explanations all use these.

How the convolution is computed ("im2col"): every output pixel is a dot product between the kernel
and the patch of input under it. ``im2col`` lays all patches out as the rows of one matrix,
``(N * H' * W', kh * kw * C)``, using a strided *view* of the padded input (no Python loop over
images or pixels), so the whole convolution is a single matrix product with the kernel reshaped to
``(kh * kw * C, F)`` -- the operation BLAS libraries make fastest. The backward pass is two more
products: the kernel's gradient ``columns.T @ g``, and the input's, where the gradient that went
through kernel offset (a, b), ``g @ K[a, b].T``, is added back onto the input pixels that offset
saw (``ConvGeometry.add_windows_back``: a loop over the kh * kw kernel offsets only).

>>> image = np.random.default_rng(0).random((1, 5, 5, 1))
>>> edge = np.array([[-1, 0, 1]] * 3, dtype=float).reshape(3, 3, 1, 1)
>>> conv2d(image, edge, padding="same").shape
(1, 5, 5, 1)

As in Keras and PyTorch this is cross-correlation (the kernel is not flipped).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from . import threads

PADDINGS = ("valid", "same")


def pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; checks that both entries are positive integers."""
    values = (value, value) if isinstance(value, int | np.integer) else value
    if not isinstance(values, tuple | list) or len(values) != 2 or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) and v >= 1
            for v in values):
        raise ArgumentError(f"{name} must be a positive integer or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def check_padding(padding: str) -> str:
    if padding not in PADDINGS:
        raise ArgumentError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding


def output_length(length: int, window: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output size along one axis: ``ceil(L / s)`` for "same", ``floor((L - k_eff) / s) + 1`` for
    "valid", with the dilated window ``k_eff = (k - 1) d + 1``."""
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    return (length - effective) // stride + 1 if length >= effective else 0


def padding_amounts(length: int, window: int, stride: int, padding: str,
                    dilation: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis; "same" puts the odd one after (as TensorFlow)."""
    if padding == "valid":
        return 0, 0
    effective = (window - 1) * dilation + 1
    total = max((output_length(length, window, stride, padding) - 1) * stride + effective
                - length, 0)
    return total // 2, total - total // 2


def pad_images(images: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]],
               value: float = 0.0) -> np.ndarray:
    """Pad the H and W axes of (N, H, W, C) images; returns ``images`` itself if no padding."""
    if not any(pads[0]) and not any(pads[1]):
        return images
    return np.pad(images, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def windows(padded: np.ndarray, window: tuple[int, int], strides: tuple[int, int],
            dilation: tuple[int, int], output_hw: tuple[int, int]) -> np.ndarray:
    """A read-only strided view (N, H', W', kh, kw, C) of every window of (N, Hp, Wp, C) images.

    ``view[n, i, j, a, b, c] = padded[n, i * sh + a * dh, j * sw + b * dw, c]``: no data is copied.
    """
    n, _, _, channels = padded.shape
    sn, sh, sw, sc = padded.strides
    shape = (n, *output_hw, *window, channels)
    strides_in_bytes = (sn, sh * strides[0], sw * strides[1], sh * dilation[0], sw * dilation[1],
                        sc)
    return np.lib.stride_tricks.as_strided(padded, shape, strides_in_bytes, writeable=False)


class ConvGeometry:
    """Everything about one convolution or pooling that depends only on shapes, computed once."""

    def __init__(self, input_hw: tuple[int, int], window: tuple[int, int],
                 strides: tuple[int, int], padding: str, dilation: tuple[int, int] = (1, 1)):
        self.input_hw = tuple(input_hw)
        self.window, self.strides, self.dilation = window, strides, dilation
        self.padding = check_padding(padding)
        self.pads = tuple(padding_amounts(input_hw[axis], window[axis], strides[axis], padding,
                                          dilation[axis]) for axis in (0, 1))
        self.output_hw = tuple(output_length(input_hw[axis], window[axis], strides[axis],
                                             padding, dilation[axis]) for axis in (0, 1))
        self.windows_overlap = any((window[axis] - 1) * dilation[axis] + 1 > strides[axis]
                                   for axis in (0, 1))
        # Every pixel of the padded input in exactly one window (2x2 pooling of an even image):
        # windows that do not overlap, each as many pixels long as the stride (so with no gaps
        # inside, whatever the dilation), the last one ending where the padded input ends.
        self.windows_tile = not self.windows_overlap and all(
            self.output_hw[axis] * strides[axis] == input_hw[axis] + sum(self.pads[axis])
            and window[axis] == strides[axis] for axis in (0, 1))

    def window_view(self, images: np.ndarray, pad_value: float = 0.0) -> np.ndarray:
        """(N, H, W, C) -> strided view (N, H', W', kh, kw, C) of the padded windows."""
        return windows(pad_images(images, self.pads, pad_value), self.window, self.strides,
                       self.dilation, self.output_hw)

    def offsets(self) -> list[tuple[int, int]]:
        """The (row, column) positions inside a window, in the order of a flattened window."""
        return [(a, b) for a in range(self.window[0]) for b in range(self.window[1])]

    def input_pixels_at(self, a: int, b: int) -> tuple[slice, slice]:
        """Rows and columns of the padded input that window offset (a, b) visits: the slice
        ``padded[:, rows, cols]`` is (N, H', W', C), one pixel per window."""
        out_h, out_w = self.output_hw
        row, col = a * self.dilation[0], b * self.dilation[1]
        return (slice(row, row + (out_h - 1) * self.strides[0] + 1, self.strides[0]),
                slice(col, col + (out_w - 1) * self.strides[1] + 1, self.strides[1]))

    def add_windows_back(self, grad_at_offset, batch: int, channels: int,
                         dtype: np.dtype) -> np.ndarray:
        """Adjoint of ``window_view``: the gradient of the input (N, H, W, C) from the gradients
        of the window pixels, summed where windows overlap. ``grad_at_offset(a, b, images)``
        gives the (n, H', W', C) gradient of window offset (a, b) for ``images``, a slice of the
        batch; only the kh * kw offsets are looped. Each image's sum is its own, so the batch is
        split across threads (``threads.split_batch``) without changing any result."""
        (top, bottom), (left, right) = self.pads
        height, width = self.input_hw
        grad_padded = np.empty((batch, height + top + bottom, width + left + right, channels),
                               dtype=dtype)

        def add_back(images: slice) -> None:
            target = grad_padded[images]
            if not self.windows_tile:  # pixels no window visits get no gradient
                target.fill(0)
            for a, b in self.offsets():
                rows, cols = self.input_pixels_at(a, b)
                if self.windows_overlap:
                    target[:, rows, cols, :] += grad_at_offset(a, b, images)
                else:  # every input pixel is in one window at most: no sum needed
                    target[:, rows, cols, :] = grad_at_offset(a, b, images)

        threads.split_batch(add_back, batch, grad_padded.size)
        return grad_padded[:, top:top + height, left:left + width, :]


def im2col(images: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """(N, H, W, C) -> (N * H' * W', kh * kw * C): one row per output pixel, its patch flattened
    in (kh, kw, C) order, the order of a Keras kernel (kh, kw, C, F) reshaped to 2-D."""
    view = geometry.window_view(images)
    return view.reshape(-1, view.shape[3] * view.shape[4] * view.shape[5])


def conv2d(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None,
           strides: int | tuple[int, int] = 1, padding: str = "valid",
           dilation_rate: int | tuple[int, int] = 1) -> np.ndarray:
    """2-D convolution (cross-correlation): (N, H, W, C), kernel (kh, kw, C, F) -> (N, H', W', F).

    ``y[n, i, j, f] = b[f] + sum_{a, b, c} x_pad[n, i s + a d, j s + b d, c] * K[a, b, c, f]``.
    """
    geometry = ConvGeometry(images.shape[1:3], kernel.shape[:2], pair(strides, "strides"),
                            padding, pair(dilation_rate, "dilation_rate"))
    columns = im2col(images, geometry)
    outputs = columns @ kernel.reshape(-1, kernel.shape[-1])
    if bias is not None:
        outputs += bias
    return outputs.reshape(len(images), *geometry.output_hw, kernel.shape[-1])
