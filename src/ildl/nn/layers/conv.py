"""``Conv2D``: a 2-D convolution layer on NHWC images (Keras names, arguments and weight shapes)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError
from ...validation import check_flag, check_integer
from .. import initializers, regularizers, threads
from ..convolution import ConvGeometry, check_padding, pair
from ..initializers import Initializer
from ..regularizers import Regularizer
from .base import Layer


def image_shape(layer: Layer, input_shape: tuple) -> tuple[int, int, int]:
    """Check that a layer gets images (H, W, C) per sample and return that shape."""
    if len(input_shape) != 3:
        hint = (" (add a channel axis: x[..., None])" if len(input_shape) == 2 else
                " (reshape it with nn.Reshape)")
        raise ArgumentError(f"{type(layer).__name__} {layer.name!r} expects a batch of images (N, "
                            f"height, width, channels) but its input has shape "
                            f"(N, {', '.join(map(str, input_shape))}){hint}")
    return tuple(int(d) for d in input_shape)


class Conv2D(Layer):
    """Slide ``filters`` learned kernels of ``kernel_size`` over the image.

    Shapes: ``(N, H, W, C) -> (N, H', W', filters)``; kernel ``(kh, kw, C, filters)``, bias
    ``(filters,)``. ``padding="same"`` keeps ``H' = ceil(H / stride)``, ``"valid"`` uses only full
    windows; ``dilation_rate`` spreads the kernel taps apart. Computed as one matrix product over
    all patches, as ``ildl.nn.convolution.conv2d`` does, with the bias inside that product (the
    kernel's weight for a last column of ones), the batch split across threads by whole images
    (``ildl.nn.threads``).

    >>> layer = Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1))
    """

    splits_images = True

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 kernel_initializer: str | dict | Initializer = "glorot_uniform",
                 bias_initializer: str | dict | Initializer = "zeros",
                 kernel_regularizer: str | dict | Regularizer | None = None,
                 bias_regularizer: str | dict | Regularizer | None = None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.filters = check_integer(filters, "filters", "Conv2D", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.dilation_rate = pair(dilation_rate, "dilation_rate")
        if self.dilation_rate != (1, 1) and self.strides != (1, 1):
            raise ArgumentError(
                "Conv2D: strides > 1 together with dilation_rate > 1 is not supported "
                "(as in Keras); use one or the other")
        self.use_bias = check_flag(use_bias, "use_bias", "Conv2D")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._geometry: ConvGeometry | None = None
        self._columns: np.ndarray | None = None

    def _geometry_for(self, input_hw: tuple[int, int]) -> ConvGeometry:
        if self._geometry is None or self._geometry.input_hw != tuple(input_hw):
            self._geometry = ConvGeometry(input_hw, self.kernel_size, self.strides, self.padding,
                                          self.dilation_rate)
        return self._geometry

    def compute_output_shape(self, input_shape):
        height, width, _ = image_shape(self, input_shape)
        geometry = self._geometry_for((height, width))
        if min(geometry.output_hw) < 1:
            span = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ArgumentError(
                f"Conv2D {self.name!r}: a {span[0]}x{span[1]} kernel (with dilation) "
                f"does not fit a {height}x{width} input with padding='valid'; use "
                "padding='same', a smaller kernel, or larger images")
        return (*geometry.output_hw, self.filters)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        kernel_shape = (*self.kernel_size, input_shape[-1], self.filters)
        self.add_weight("kernel", kernel_shape, self.kernel_initializer, rng,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, rng,
                            self.bias_regularizer)
        return output_shape

    def call(self, inputs, training):
        kernel = self.params["kernel"]
        if inputs.ndim != 4 or inputs.shape[-1] != kernel.shape[2]:
            hint = "; add a channel axis: x[..., None]" if inputs.ndim == 3 else ""
            raise ArgumentError(f"Conv2D {self.name!r} has a kernel for {kernel.shape[2]} input "
                                f"channels and expects (N, H, W, {kernel.shape[2]}) images but got "
                                f"shape {inputs.shape}{hint}")
        geometry = self._geometry_for(inputs.shape[1:3])
        windows = geometry.window_view(inputs)  # (N, H', W', kh, kw, C), a view: no copy yet
        columns, patches = self._columns_for(windows)
        kernel_rows = self._kernel_rows()
        outputs = np.empty((*windows.shape[:3], self.filters), dtype=inputs.dtype)

        def convolve(images: slice) -> None:  # columns @ kernel_rows for these images
            np.copyto(patches[images], windows[images])
            rows = outputs[images].reshape(-1, self.filters)
            np.matmul(columns[images].reshape(len(rows), columns.shape[-1]), kernel_rows, out=rows)

        threads.split_batch(convolve, len(inputs), columns.size)  # whole images per thread
        return outputs

    def _columns_for(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """im2col's matrix (``ildl.nn.convolution.im2col``) for ``windows`` (N, H', W', kh, kw, C)
        as (N, H', W', kh * kw * C + 1), one row per output pixel, its last column ones (without
        a bias: no such column). The bias is then the kernel's weight for an input that is
        always 1, so the one product adds it (and backward's product sums its gradient) with no
        pass of its own over the outputs. Also returns the view of the patches' part shaped as
        ``windows``, for copying them in. The buffer is kept from the last batch of the same
        shape, its column of ones written once."""
        patch_size = math.prod(windows.shape[3:])
        shape = (*windows.shape[:3], patch_size + 1 if self.use_bias else patch_size)
        if self._columns is None or self._columns.shape != shape \
                or self._columns.dtype != windows.dtype:
            self._columns = np.empty(shape, dtype=windows.dtype)
            if self.use_bias:
                self._columns[..., patch_size] = 1
        # Splitting the last axis of this slice (step 1) into (kh, kw, C) is always possible
        # without a copy, so ``patches`` is a view and what is copied into it lands in the buffer.
        patches = self._columns[..., :patch_size].reshape(windows.shape)
        return self._columns, patches

    def _kernel_rows(self) -> np.ndarray:
        """The (kh * kw * C + 1, F) matrix of the product: the kernel's rows, then the bias (no
        bias: the kernel's (kh * kw * C, F) rows alone)."""
        kernel_rows = self.params["kernel"].reshape(-1, self.filters)
        if not self.use_bias:
            return kernel_rows
        return np.concatenate([kernel_rows, self.params["bias"][None]])

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        kernel = self.params["kernel"]
        grad_rows = grad_pre_activation.reshape(-1, self.filters)  # one row per output pixel
        columns = self._columns.reshape(len(grad_rows), self._columns.shape[-1])
        # A sum over every pixel of the batch: one product (split by its rows, the kernel's);
        # the bias's gradient, the sum of grad_rows, is the row of its column of ones.
        grad_kernel_rows = threads.matmul(columns.T, grad_rows)
        patch_size = math.prod(kernel.shape[:3])
        self.grads["kernel"][...] = grad_kernel_rows[:patch_size].reshape(kernel.shape)
        if self.use_bias:
            self.grads["bias"][...] = grad_kernel_rows[patch_size]
        if not need_input_grad:
            return None
        # Through the tap at kernel offset (a, b) the gradient g @ K[a, b].T flows back to the
        # input pixels that tap saw. (This is col2im(g @ K.T) one offset at a time: each product
        # is then a contiguous block, which makes the additions much faster.)
        grad = grad_pre_activation

        def through_offset(a: int, b: int, images: slice) -> np.ndarray:
            grad_here = grad[images]
            return (grad_here.reshape(-1, self.filters) @ kernel[a, b].T).reshape(
                *grad_here.shape[:3], kernel.shape[2])

        return self._geometry.add_windows_back(through_offset, len(grad), kernel.shape[2],
                                               grad.dtype)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "dilation_rate": list(self.dilation_rate),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
