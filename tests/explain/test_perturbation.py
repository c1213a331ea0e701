"""Occlusion against a naive loop written here; RISE against a planted signal (a model that
looks at one region only) and its normalisation (a constant model gives a constant map)."""

import numpy as np
import pytest
from explain_reference import IMAGE_SHAPE, linear_softmax, torch_cnn

from ildl.explain import as_classifier, explain


def naive_occlusion(predict, image, target, window, stride, fill):
    """Every window position by hand (the last one flush with the far edge), one image at a time;
    each pixel averages the probability drops of the windows over it."""
    height, width = image.shape[:2]

    def starts(length):
        positions = list(range(0, length - window + 1, stride))
        return positions if positions[-1] + window == length else positions + [length - window]

    base = predict(image[None])[0, target]
    total = np.zeros((height, width))
    count = np.zeros((height, width))
    for top in starts(height):
        for left in starts(width):
            occluded = image.copy()
            occluded[top:top + window, left:left + window, :] = fill
            drop = base - predict(occluded[None])[0, target]
            for row in range(top, top + window):
                for column in range(left, left + window):
                    total[row, column] += drop
                    count[row, column] += 1
    return total / count


@pytest.mark.parametrize("shape, window, stride, fill", [
    ((10, 9, 2), 3, 2, 0.0),     # windows do not tile: the last row/column is shifted back
    ((8, 8, 3), 4, 4, 0.5),      # tiling windows, grey fill
    ((7, 11, 1), 2, 1, -1.0),
])
def test_occlusion_equals_a_naive_loop(shape, window, stride, fill, rng):
    predict = linear_softmax(shape, classes=3, seed=1)
    image = rng.random(shape)
    for target in range(3):
        ours = explain(predict, image, target, "occlusion", window=window, stride=stride,
                       fill=fill)
        expected = naive_occlusion(predict, image, target, window, stride, fill)
        np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-12, atol=1e-15)
    rows = len(range(0, shape[0] - window + 1, stride)) + ((shape[0] - window) % stride > 0)
    columns = len(range(0, shape[1] - window + 1, stride)) + ((shape[1] - window) % stride > 0)
    assert ours.evaluations == rows * columns + 1  # one per window, one for the image


def test_occlusion_defaults_and_batching_do_not_change_the_map(rng):
    """Default window = 32 // 8 = 4, stride 2; the classifier's batch size does not matter."""
    predict = linear_softmax((32, 32, 3), seed=2)
    image = rng.random((32, 32, 3))
    ours = explain(predict, image, 1, "occlusion")
    np.testing.assert_allclose(ours.heatmap, naive_occlusion(predict, image, 1, 4, 2, 0.0),
                               rtol=1e-12, atol=1e-15)
    assert ours.evaluations == 15 * 15 + 1
    small_batches = explain(as_classifier(predict, batch_size=7), image, 1, "occlusion")
    np.testing.assert_allclose(small_batches.heatmap, ours.heatmap, rtol=1e-12, atol=1e-15)


def test_occlusion_refuses_a_window_larger_than_the_image(rng):
    with pytest.raises(ValueError, match=r"a 9x9 window does not fit the 8x8 image; use "
                                         r"window <= 8"):
        explain(linear_softmax((8, 8, 1)), rng.random((8, 8, 1)), method="occlusion", window=9)


def region_model(region):
    """p(class 1) = the mean of channel 0 over ``region`` (clipped to [0, 1]): nothing outside
    the region matters."""
    def predict(images):
        inside = np.clip(images[:, region[0], region[1], 0].mean(axis=(1, 2)), 0, 1)
        return np.stack([1 - inside, inside], axis=1)

    return predict


def test_rise_finds_the_region_the_model_looks_at():
    region = (slice(3, 9), slice(13, 19))
    image = np.ones((24, 24, 1))
    explanation = explain(region_model(region), image, 1, "rise", samples=600, seed=3)
    heatmap = explanation.heatmap
    inside = np.zeros(heatmap.shape, dtype=bool)
    inside[region] = True
    row, column = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    assert inside[row, column]
    assert heatmap[inside].mean() > heatmap[~inside].mean() + 0.05
    assert np.corrcoef(heatmap.ravel(), inside.ravel())[0, 1] > 0.6
    assert explanation.evaluations == 600


def test_rise_of_a_constant_model_is_that_constant(rng):
    """S = sum_i c M_i / (N keep) = c * mean(M) / keep, about c since a mask keeps a pixel with
    probability keep."""
    def constant(images):
        return np.tile([0.3, 0.7], (len(images), 1))

    heatmap = explain(constant, rng.random((16, 16, 3)), 1, "rise", samples=2000,
                      keep=0.3).heatmap
    assert heatmap.mean() == pytest.approx(0.7, rel=0.03)
    assert np.all(np.abs(heatmap - 0.7) < 0.1)


def test_rise_masks_depend_on_the_seed_only(rng):
    predict = linear_softmax((12, 10, 2), seed=4)
    image = rng.random((12, 10, 2))
    first = explain(predict, image, 0, "rise", samples=100, seed=5).heatmap
    again = explain(as_classifier(predict, batch_size=9), image, 0, "rise", samples=100,
                    seed=5).heatmap
    other = explain(predict, image, 0, "rise", samples=100, seed=6).heatmap
    np.testing.assert_allclose(again, first, rtol=1e-12)
    assert not np.allclose(other, first)


def test_rise_refuses_bad_options(rng):
    predict, image = linear_softmax((8, 8, 1)), rng.random((8, 8, 1))
    with pytest.raises(ValueError, match=r"keep is the probability of keeping a cell and must "
                                         r"be in \(0, 1\), got 1.5"):
        explain(predict, image, method="rise", keep=1.5)
    with pytest.raises(ValueError, match="samples must be a positive integer, got 0"):
        explain(predict, image, method="rise", samples=0)


@pytest.mark.parametrize("method, options", [
    ("occlusion", {"window": 4, "stride": 3}),
    ("rise", {"samples": 50, "cells": 3, "seed": 1}),
])
def test_batch_size_does_not_change_the_map_of_a_torch_model(method, options, rng, torch):
    """Masks made and sent in chunks of batch_size: one image at a time, seven at a time and all
    at once give the same map from the same number of evaluations."""
    module = torch_cnn(torch, seed=11)
    image = rng.random(IMAGE_SHAPE)
    maps = [explain(as_classifier(module, batch_size=batch_size), image, 3, method, **options)
            for batch_size in (1, 7, 256)]
    for other in maps[1:]:
        np.testing.assert_allclose(other.heatmap, maps[0].heatmap, rtol=1e-12, atol=1e-15)
        assert other.evaluations == maps[0].evaluations
    assert np.ptp(maps[0].heatmap) > 0
