"""The convolution figure's outputs are those of a naive convolution loop."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.viz.convolution import (
    KERNELS,
    animate_convolution,
    apply_kernels,
    kernel_scale,
    plot_kernels,
    sample_image,
)

matplotlib.use("Agg")


def naive_convolution(image, kernel, padding="valid"):
    """Cross-correlation by four nested loops: out[i, j] = sum_ab image[i + a, j + b] K[a, b]."""
    kh, kw = kernel.shape
    if padding == "same":  # zeros around, (k - 1) // 2 before and the rest after
        image = np.pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)))
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += image[i + a, j + b] * kernel[a, b]
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_every_named_kernel_equals_the_naive_loop(padding):
    image = np.random.default_rng(0).random((7, 9))
    outputs = apply_kernels(image, padding=padding)
    assert list(outputs) == list(KERNELS)
    for name, kernel in KERNELS.items():
        np.testing.assert_allclose(outputs[name], naive_convolution(image, kernel, padding),
                                   atol=1e-12, err_msg=name)


def test_any_kernels_of_one_shape_work_and_mixed_shapes_are_refused():
    rng = np.random.default_rng(1)
    image = rng.random((6, 6))
    kernels = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 3))}
    outputs = apply_kernels(image, kernels)
    for name, kernel in kernels.items():
        np.testing.assert_allclose(outputs[name], naive_convolution(image, kernel), atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        apply_kernels(image, {"a": np.ones((3, 3)), "b": np.ones((2, 2))})


def test_the_figure_shows_the_clipped_outputs_of_the_naive_loop():
    import matplotlib.pyplot as plt

    image = sample_image(12)
    figure = plot_kernels(image)
    try:
        shown = [ax.images[0].get_array() for ax in figure.axes if ax.get_title()]
        assert len(shown) == len(KERNELS)
        for array, kernel in zip(shown, KERNELS.values()):
            np.testing.assert_allclose(array, np.clip(naive_convolution(image, kernel), 0, 1),
                                       atol=1e-12)
    finally:
        plt.close(figure)


def test_sample_image_is_a_repeatable_grey_scale_picture():
    image = sample_image(40)
    assert image.shape == (40, 40)
    assert 0 <= image.min() and image.max() <= 1
    assert len(np.unique(image.round(2))) > 10  # a scene, not a flat field
    np.testing.assert_array_equal(image, sample_image(40))


def test_kernel_scale_finds_the_blur_denominators():
    assert kernel_scale(KERNELS["box blur"]) == 9
    assert kernel_scale(KERNELS["gaussian blur"]) == 16
    assert kernel_scale(KERNELS["outline"]) == 1


def test_animation_has_the_frames_and_size_asked(tmp_path):
    path = animate_convolution(sample_image(16), "outline", str(tmp_path / "conv.gif"),
                               frames=6, dpi=40)
    with Image.open(path) as image:
        assert image.n_frames == 6
        assert image.size == (336, 144)
