"""ildl.nn.convolution, the arithmetic under Conv2D and the pooling layers: output sizes and
padding against TensorFlow's formulas and hand-worked cases, ``im2col`` against a naive loop,
``conv2d`` against a naive loop over every index, and ``add_windows_back`` as the exact adjoint of
``window_view``. Every expected value is computed here, never taken from ildl."""

import math

import numpy as np
import pytest
from conv_reference import image_pads, naive_pad, tf_output_length, tf_padding
from hypothesis import given, settings
from hypothesis import strategies as st

from ildl.nn import convolution
from ildl.nn.convolution import (
    ConvGeometry,
    check_padding,
    conv2d,
    im2col,
    output_length,
    padding_amounts,
    pair,
)

# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def naive_im2col(images, window, strides, padding, dilation):
    """One row per output pixel (n, i, j in C order), the patch in (a, b, c) order, by loops."""
    n, h, w, c = images.shape
    padded = naive_pad(images, image_pads((h, w), window, strides, padding, dilation))
    out_h = tf_output_length(h, window[0], strides[0], padding, dilation[0])
    out_w = tf_output_length(w, window[1], strides[1], padding, dilation[1])
    rows = []
    for image in range(n):
        for i in range(out_h):
            for j in range(out_w):
                row = []
                for a in range(window[0]):
                    for b in range(window[1]):
                        for channel in range(c):
                            row.append(padded[image, i * strides[0] + a * dilation[0],
                                              j * strides[1] + b * dilation[1], channel])
                rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(n * out_h * out_w, window[0] * window[1] * c)


def naive_conv2d(images, kernel, bias, strides, padding, dilation):
    """y[n, i, j, f] = b[f] + sum_{a, b, c} x_pad[n, i s + a d, j s + b d, c] K[a, b, c, f]."""
    n, h, w, _ = images.shape
    kh, kw, channels, filters = kernel.shape
    padded = naive_pad(images, image_pads((h, w), (kh, kw), strides, padding, dilation))
    out_h = tf_output_length(h, kh, strides[0], padding, dilation[0])
    out_w = tf_output_length(w, kw, strides[1], padding, dilation[1])
    out = np.zeros((n, out_h, out_w, filters))
    for image in range(n):
        for i in range(out_h):
            for j in range(out_w):
                for f in range(filters):
                    total = 0.0 if bias is None else bias[f]
                    for a in range(kh):
                        for b in range(kw):
                            for c in range(channels):
                                total += padded[image, i * strides[0] + a * dilation[0],
                                                j * strides[1] + b * dilation[1], c] \
                                    * kernel[a, b, c, f]
                    out[image, i, j, f] = total
    return out


@st.composite
def geometries(draw, max_size=7):
    """A random 2-D window geometry that has at least one output pixel."""
    window = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    sizes = []
    for axis in range(2):
        smallest = (window[axis] - 1) * dilation[axis] + 1 if padding == "valid" else 1
        sizes.append(draw(st.integers(smallest, smallest + max_size - 1)))
    return tuple(sizes), window, strides, padding, dilation


# --------------------------------------------------------------------------------------
# Output sizes and padding
# --------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, database=None)
@given(length=st.integers(1, 40), window=st.integers(1, 6), stride=st.integers(1, 4),
       dilation=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]))
def test_output_length_and_padding_follow_tensorflow(length, window, stride, dilation, padding):
    assert output_length(length, window, stride, padding, dilation) == \
        tf_output_length(length, window, stride, padding, dilation)
    expected_pads = tf_padding(length, window, stride, dilation) if padding == "same" else (0, 0)
    assert padding_amounts(length, window, stride, padding, dilation) == expected_pads


@settings(max_examples=200, deadline=None, database=None)
@given(length=st.integers(1, 40), window=st.integers(1, 6), stride=st.integers(1, 4),
       dilation=st.integers(1, 4))
def test_same_padding_covers_the_image_exactly(length, window, stride, dilation):
    """With "same" padding the last window ends exactly at the padded edge, and the padding is
    never more than one window: what the formulas mean, checked geometrically."""
    before, after = padding_amounts(length, window, stride, "same", dilation)
    out = output_length(length, window, stride, "same", dilation)
    effective = (window - 1) * dilation + 1
    assert out == math.ceil(length / stride)
    assert 0 <= before <= after <= before + 1
    last_window_end = (out - 1) * stride + effective
    if before + after:  # padding is added only to make the last window fit, never more
        assert last_window_end == before + length + after
        assert before + after < effective
    else:
        assert last_window_end <= length


@pytest.mark.parametrize("args, expected_length, expected_pads", [
    ((28, 3, 1, "same"), 28, (1, 1)),
    ((28, 3, 1, "valid"), 26, (0, 0)),
    ((28, 3, 2, "valid"), 13, (0, 0)),
    ((5, 2, 2, "same"), 3, (0, 1)),       # odd length, even window: extra pad at the end
    ((6, 3, 2, "same"), 3, (0, 1)),
    ((7, 3, 2, "same"), 4, (1, 1)),
    ((4, 4, 1, "same"), 4, (1, 2)),       # even window, stride 1: 3 pads, 2 after
    ((4, 1, 3, "same"), 2, (0, 0)),
    ((5, 3, 1, "same", 2), 5, (2, 2)),    # dilated 3-tap window spans 5 pixels
    ((9, 3, 1, "valid", 3), 3, (0, 0)),   # span 7: windows at 0, 1, 2
    ((3, 4, 1, "valid"), 0, (0, 0)),      # the window does not fit: no output
], ids=str)
def test_hand_worked_sizes(args, expected_length, expected_pads):
    assert output_length(*args) == expected_length
    assert padding_amounts(*args) == expected_pads


def test_pair_and_padding_checks():
    assert pair(3, "kernel_size") == (3, 3)
    assert pair((2, 5), "kernel_size") == (2, 5)
    assert pair(np.int64(4), "strides") == (4, 4)
    for bad in [0, -1, (1, 2, 3), (2, 0), (2.0, 2), "3"]:
        with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
            pair(bad, "kernel_size")
    assert check_padding("same") == "same" and check_padding("valid") == "valid"
    for bad in ["SAME", "full", "causal", "", None, 1]:
        with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
            check_padding(bad)


def test_pair_refuses_a_float_with_a_clear_error():
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        pair(3.0, "kernel_size")


# --------------------------------------------------------------------------------------
# im2col and conv2d against loops
# --------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, database=None)
@given(geometry=geometries(), n=st.integers(1, 2), channels=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_im2col_equals_a_naive_loop(geometry, n, channels, seed):
    (h, w), window, strides, padding, dilation = geometry
    images = np.random.default_rng(seed).normal(size=(n, h, w, channels))
    layout = ConvGeometry((h, w), window, strides, padding, dilation)
    columns = im2col(images, layout)
    np.testing.assert_array_equal(columns, naive_im2col(images, window, strides, padding,
                                                        dilation))
    assert layout.output_hw == (tf_output_length(h, window[0], strides[0], padding, dilation[0]),
                                tf_output_length(w, window[1], strides[1], padding, dilation[1]))


def test_window_view_is_a_read_only_view_without_copy(rng):
    images = rng.normal(size=(2, 6, 5, 3))
    view = ConvGeometry((6, 5), (3, 2), (1, 2), "valid").window_view(images)
    assert view.shape == (2, 4, 2, 3, 2, 3)
    assert np.shares_memory(view, images) and not view.flags.writeable
    # view[n, i, j, a, b, c] = x[n, i * sh + a, j * sw + b, c]
    assert view[1, 3, 1, 2, 1, 2] == images[1, 3 + 2, 2 + 1, 2]


@settings(max_examples=40, deadline=None, database=None)
@given(geometry=geometries(max_size=5), n=st.integers(1, 2), channels=st.integers(1, 2),
       filters=st.integers(1, 2), use_bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_conv2d_equals_a_naive_loop(geometry, n, channels, filters, use_bias, seed):
    (h, w), window, strides, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, h, w, channels))
    kernel = rng.normal(size=(*window, channels, filters))
    bias = rng.normal(size=filters) if use_bias else None
    expected = naive_conv2d(images, kernel, bias, strides, padding, dilation)
    np.testing.assert_allclose(conv2d(images, kernel, bias, strides, padding, dilation),
                               expected, rtol=1e-12, atol=1e-12)


def test_conv2d_is_cross_correlation_by_hand():
    """A 3x3 image, a 2x2 kernel that is not symmetric: every output written out."""
    image = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)   # 1 2 3 / 4 5 6 / 7 8 9
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    valid = conv2d(image, kernel)[0, :, :, 0]
    # top-left: 1*1 + 2*2 + 4*3 + 5*4 = 37; not flipped (a true convolution would give 23).
    np.testing.assert_array_equal(valid, [[37, 47], [67, 77]])
    same = conv2d(image, kernel, padding="same")[0, :, :, 0]
    # "same" with an even kernel pads one row / column at the bottom / right only.
    np.testing.assert_array_equal(same, [[37, 47, 3 * 1 + 6 * 3],
                                         [67, 77, 6 * 1 + 9 * 3],
                                         [7 * 1 + 8 * 2, 8 * 1 + 9 * 2, 9 * 1]])
    strided = conv2d(image, kernel, strides=2, padding="same", bias=np.array([0.5]))
    np.testing.assert_array_equal(strided[0, :, :, 0], [[37.5, 21.5], [23.5, 9.5]])
    dilated = conv2d(image, kernel, dilation_rate=2)[0, :, :, 0]
    np.testing.assert_array_equal(dilated, [[1 * 1 + 3 * 2 + 7 * 3 + 9 * 4]])


def test_module_docstring_example_runs():
    image = np.random.default_rng(0).random((1, 5, 5, 1))
    edge = np.array([[-1, 0, 1]] * 3, dtype=float).reshape(3, 3, 1, 1)
    out = convolution.conv2d(image, edge, padding="same")
    assert out.shape == (1, 5, 5, 1)
    # centre pixel: right column minus left column of the 3x3 patch around (2, 2)
    patch = image[0, 1:4, 1:4, 0]
    assert out[0, 2, 2, 0] == pytest.approx(patch[:, 2].sum() - patch[:, 0].sum(), rel=1e-12)


# --------------------------------------------------------------------------------------
# add_windows_back is the adjoint of window_view
# --------------------------------------------------------------------------------------

@settings(max_examples=80, deadline=None, database=None)
@given(geometry=geometries(), n=st.integers(1, 2), channels=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_add_windows_back_is_the_adjoint_of_window_view(geometry, n, channels, seed):
    """<window_view(x), w> == <x, add_windows_back(w)> for random x and w: the backward pass of
    every window-based layer is then exactly the transpose of its forward pass."""
    (h, w), window, strides, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    layout = ConvGeometry((h, w), window, strides, padding, dilation)
    x = rng.normal(size=(n, h, w, channels))
    view = layout.window_view(x)
    weights = rng.normal(size=view.shape)
    back = layout.add_windows_back(lambda a, b, images: weights[images, :, :, a, b, :], n,
                                   channels, np.float64)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(view * weights), np.sum(x * back), rtol=1e-10, atol=1e-10)
    # and pixel by pixel against a loop that scatters every window element back
    padded_back = np.zeros(naive_pad(x, layout.pads).shape)
    for i in range(layout.output_hw[0]):
        for j in range(layout.output_hw[1]):
            for a in range(window[0]):
                for b in range(window[1]):
                    padded_back[:, i * strides[0] + a * dilation[0],
                                j * strides[1] + b * dilation[1], :] += weights[:, i, j, a, b, :]
    (top, _), (left, _) = layout.pads
    np.testing.assert_allclose(back, padded_back[:, top:top + h, left:left + w, :], rtol=1e-12,
                               atol=1e-12)


def test_add_windows_back_leaves_unvisited_pixels_at_zero():
    """A 1x1 window with stride 2 never sees odd rows/columns: their gradient is 0."""
    layout = ConvGeometry((5, 5), (1, 1), (2, 2), "valid")
    back = layout.add_windows_back(lambda a, b, images: np.ones((1, 3, 3, 1)), 1, 1,
                                   np.float64)
    expected = np.zeros((5, 5))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(back[0, :, :, 0], expected)


@pytest.mark.parametrize("input_hw, window, strides, padding, dilation, tiles", [
    ((28, 28), (2, 2), (2, 2), "valid", (1, 1), True),    # 2x2 pooling of an even image
    ((6, 9), (2, 3), (2, 3), "valid", (1, 1), True),
    ((5, 5), (2, 2), (2, 2), "same", (1, 1), True),       # the padding completes the last window
    ((5, 5), (2, 2), (2, 2), "valid", (1, 1), False),     # the last row and column are left out
    ((6, 6), (1, 1), (2, 2), "valid", (1, 1), False),     # every other pixel only
    ((6, 6), (2, 2), (1, 1), "valid", (1, 1), False),     # overlapping windows
    ((6, 6), (2, 2), (2, 2), "valid", (2, 2), False),     # dilated: gaps inside each window
    ((2, 1), (1, 1), (2, 1), "valid", (2, 1), False),     # 1 tap, dilated, stride 2: row 1 left
    ((6, 6), (1, 1), (1, 1), "valid", (3, 3), True),      # 1 tap, stride 1: dilation is moot
])
def test_windows_tile_exactly_when_every_pixel_is_in_one_window(input_hw, window, strides,
                                                                padding, dilation, tiles):
    """Counted by brute force: how many windows visit each pixel of the padded input."""
    layout = ConvGeometry(input_hw, window, strides, padding, dilation)
    padded_hw = [input_hw[axis] + sum(layout.pads[axis]) for axis in (0, 1)]
    visits = np.zeros(padded_hw, dtype=int)
    for i in range(layout.output_hw[0]):
        for j in range(layout.output_hw[1]):
            for a in range(window[0]):
                for b in range(window[1]):
                    visits[i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]] += 1
    assert layout.windows_tile == bool(np.all(visits == 1)) == tiles
