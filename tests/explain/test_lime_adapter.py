"""The lime adapter against lime called directly with the same seed, image, segments and
predictions: the same per-segment weights painted over the same pixels."""

import numpy as np
import pytest
from explain_reference import linear_softmax

from ildl.explain import explain
from ildl.explain.lime_adapter import segment

lime_image = pytest.importorskip("lime.lime_image")
skimage_segmentation = pytest.importorskip("skimage.segmentation")


def lime_directly(image, predict, target, segments, samples, seed, batch_size=64,
                  hide_color=None):
    """LimeImageExplainer as its documentation shows, then each segment painted with its weight."""
    explanation = lime_image.LimeImageExplainer(random_state=seed).explain_instance(
        image, predict, labels=(target,), top_labels=None, hide_color=hide_color,
        num_samples=samples, batch_size=batch_size, segmentation_fn=lambda _: segments,
        random_seed=seed)
    heatmap = np.zeros(segments.shape)
    for label, weight in explanation.local_exp[target]:
        heatmap[segments == label] = weight
    return heatmap


def test_lime_with_slic_equals_lime_called_directly(rng):
    image = rng.random((24, 24, 3))
    image[6:16, 8:20] += 1.0  # a bright object for the superpixels to follow
    predict = linear_softmax(image.shape, seed=1)
    superpixels = skimage_segmentation.slic(image / image.max(), n_segments=30, compactness=10,
                                            sigma=1, start_label=0, channel_axis=-1)
    assert superpixels.max() > 5
    for target in (0, 3):
        ours = explain(predict, image, target, "lime", samples=300, segments=30, seed=7)
        expected = lime_directly(image, predict, target, superpixels, 300, seed=7)
        np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-10, atol=1e-14)
        assert ours.evaluations == 300
    assert np.ptp(ours.heatmap) > 0


def test_lime_on_a_grayscale_image_with_a_grid(rng):
    """lime takes a grayscale image as (H, W); it sees three equal channels and the model one."""
    image = rng.random((20, 20, 1))
    predict = linear_softmax(image.shape, seed=2)
    rows, columns = np.indices((20, 20))
    grid = (rows // 5) * 4 + columns // 5  # 16 segments of 5x5 pixels
    np.testing.assert_array_equal(segment(image, 16, "grid"), grid)
    ours = explain(predict, image, 2, "lime", samples=200, segments=16, segmentation="grid",
                   seed=3)
    expected = lime_directly(image[..., 0], lambda rgb: predict(rgb[..., :1]), 2, grid, 200,
                             seed=3)
    np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-10, atol=1e-14)


def test_lime_with_a_hide_color_on_other_channel_counts(rng):
    image = rng.random((12, 12, 4))
    predict = linear_softmax(image.shape, seed=4)
    with pytest.raises(ValueError, match=r"this image has 4 channels; pass hide_color=<a "
                                         r"number>"):
        explain(predict, image, 0, "lime", samples=50, segmentation="grid", segments=9)
    ours = explain(predict, image, 0, "lime", samples=100, segmentation="grid", segments=9,
                   hide_color=0.0, seed=5)
    expected = lime_directly(image, predict, 0, segment(image, 9, "grid"), 100, seed=5,
                             hide_color=0.0)
    np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-10, atol=1e-14)


def test_segments_never_collapse_on_a_flat_image():
    """quickshift (lime's default) returns one segment here; SLIC and the grid do not."""
    flat = np.full((32, 32, 3), 0.5)
    assert np.unique(skimage_segmentation.quickshift(flat, kernel_size=4, max_dist=200,
                                                     ratio=0.2)).size == 1
    for segmentation in ("slic", "grid"):
        labels = segment(flat, 16, segmentation)
        np.testing.assert_array_equal(np.unique(labels), np.arange(16))


def test_segment_refuses_unknown_names_and_bad_compactness():
    with pytest.raises(ValueError, match=r"segmentation must be one of \('slic', 'grid'\), got "
                                         r"'quickshift'"):
        segment(np.zeros((4, 4, 3)), 4, "quickshift")
    for compactness in (0, -5.0, "20"):
        with pytest.raises(ValueError, match=r"lime's SLIC segmentation: compactness must be a "
                                             r"number > 0, got"):
            segment(np.zeros((4, 4, 3)), 4, compactness=compactness)


def test_compactness_reaches_slic(rng):
    """The option is SLIC's: our segments equal scikit-image's at two compactness values, and
    the two differ (colour edges win at the lower one)."""
    image = rng.random((32, 32, 3)) * 0.2
    image[4:20, 6:26] += 0.7
    image[0, 0] = 0  # so that image / max is the rescaling to [0, 1] that segment makes
    for compactness in (2.0, 40.0):
        expected = skimage_segmentation.slic(image / image.max(), n_segments=12,
                                             compactness=compactness, sigma=1, start_label=0,
                                             channel_axis=-1)
        np.testing.assert_array_equal(segment(image, 12, compactness=compactness),
                                      np.unique(expected, return_inverse=True)[1].reshape(32, 32))
    assert not np.array_equal(segment(image, 12, compactness=2.0),
                              segment(image, 12, compactness=40.0))
