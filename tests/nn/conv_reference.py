"""Independent references for the convolution tests: TensorFlow's output-size and "same" padding
formulas, padding by copying, and the NHWC <-> NCHW plumbing of the PyTorch twins.

Nothing here imports ildl: expected numbers come from these formulas, loops or PyTorch.
"""

from __future__ import annotations

import numpy as np


def tf_output_length(length, window, stride, padding, dilation=1):
    """TensorFlow's ``conv_output_length``: ceil(L / s) for "same",
    ceil((L - k_eff + 1) / s) for "valid" (0 when the window does not fit)."""
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return -(-length // stride)
    return max(-(-(length - effective + 1) // stride), 0)


def tf_padding(length, window, stride, dilation=1):
    """TensorFlow's "same" padding (before, after): total max((ceil(L/s) - 1) s + k_eff - L, 0),
    the odd one at the end (bottom / right)."""
    effective = (window - 1) * dilation + 1
    total = max((-(-length // stride) - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def image_pads(hw, window, strides, padding, dilation=(1, 1)):
    """((top, bottom), (left, right)) of NHWC images for a 2-D window."""
    if padding == "valid":
        return (0, 0), (0, 0)
    return tuple(tf_padding(hw[axis], window[axis], strides[axis], dilation[axis])
                 for axis in (0, 1))


def naive_pad(images, pads, value=0.0):
    """Pad H and W of NHWC images by copying into a larger array (not np.pad, not ildl)."""
    (top, bottom), (left, right) = pads
    n, h, w, c = images.shape
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=images.dtype)
    out[:, top:top + h, left:left + w, :] = images
    return out


# -- PyTorch plumbing -----------------------------------------------------------------------

def nchw(torch, images, requires_grad=False):
    """NHWC NumPy images -> NCHW float64 leaf tensor."""
    tensor = torch.tensor(np.ascontiguousarray(images.transpose(0, 3, 1, 2)), dtype=torch.float64)
    return tensor.requires_grad_(requires_grad)


def nhwc(tensor):
    """NCHW tensor -> NHWC NumPy array."""
    return tensor.detach().numpy().transpose(0, 2, 3, 1)


def torch_kernel(torch, kernel, requires_grad=False):
    """Keras kernel (kh, kw, in, out) -> PyTorch weight (out, in, kh, kw)."""
    weight = torch.tensor(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), dtype=torch.float64)
    return weight.requires_grad_(requires_grad)


def keras_kernel(weight_grad):
    """PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out)."""
    return weight_grad.detach().numpy().transpose(2, 3, 1, 0)


def torch_pad(torch, tensor, hw, window, strides, padding, dilation=(1, 1), value=0.0):
    """TensorFlow-style padding of an NCHW tensor with F.pad (extra row/column bottom/right)."""
    (top, bottom), (left, right) = image_pads(hw, window, strides, padding, dilation)
    return torch.nn.functional.pad(tensor, (left, right, top, bottom), value=value)


TORCH_ACTIVATIONS = {
    "linear": lambda torch, z: z,
    "relu": lambda torch, z: torch.relu(z),
    "tanh": lambda torch, z: torch.tanh(z),
    "sigmoid": lambda torch, z: torch.sigmoid(z),
    "gelu": lambda torch, z: torch.nn.functional.gelu(z),
    "elu": lambda torch, z: torch.nn.functional.elu(z),
}
