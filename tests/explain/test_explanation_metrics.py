"""The quality metrics against independent references: a toy model whose deletion and insertion
AUCs are known in closed form, scipy's Spearman correlation and ranks, scipy's Gaussian filter
for the blurred baseline, a brute-force distance for the pointing game's tolerance, and
hand-made maps and curves."""

import numpy as np
import pytest
from scipy import ndimage, stats
from scipy.integrate import trapezoid

from ildl.explain.metrics import (
    auc,
    average_ranks,
    blurred,
    deletion_curve,
    dilated,
    energy_in_mask,
    insertion_curve,
    pixel_order,
    pointing_game,
    random_heatmap,
    sanity_correlation,
    spearman,
)


def region_share_model(region):
    """p(class 1) = the share of ``region`` (an (H, W) bool mask) where channel 0 is still 1:
    each region pixel removed lowers it by 1/r, nothing outside the region matters."""
    def predict(images):
        kept = images[:, region, 0].mean(axis=1)
        return np.stack([1 - kept, kept], axis=1)

    return predict


@pytest.fixture
def toy(rng):
    """An 8x8 image of ones, a random region of r = 16 pixels, a map ranking the region first."""
    region = np.zeros(64, dtype=bool)
    region[rng.choice(64, size=16, replace=False)] = True
    region = region.reshape(8, 8)
    perfect = region + 0.5 * rng.random((8, 8))  # region pixels 1..1.5, the others 0..0.5
    return np.ones((8, 8, 1)), region, perfect


@pytest.mark.parametrize("steps", [64, 16, 8])  # 1, 4 or 8 pixels per step: r is a multiple
def test_deletion_and_insertion_auc_in_closed_form(toy, steps):
    """Removing the r region pixels first in steps of s pixels: p_k = max(0, 1 - k s / r), AUC
    r / (2 n); inserting them first onto the default black canvas: p_k = min(1, k s / r), AUC
    1 - r / (2 n). The map ranking the region last gives the mirror images."""
    image, region, perfect = toy
    predict = region_share_model(region)
    r, n = region.sum(), region.size
    per_step = np.arange(steps + 1) * (n // steps) / r
    deletion = deletion_curve(predict, image, perfect, target=1, steps=steps)
    insertion = insertion_curve(predict, image, perfect, target=1, steps=steps)
    np.testing.assert_allclose(deletion, np.maximum(0, 1 - per_step), atol=1e-12)
    np.testing.assert_allclose(insertion, np.minimum(1, per_step), atol=1e-12)
    assert auc(deletion) == pytest.approx(r / (2 * n))
    assert auc(insertion) == pytest.approx(1 - r / (2 * n))
    worst = -perfect
    assert auc(deletion_curve(predict, image, worst, 1, steps)) == pytest.approx(1 - r / (2 * n))
    assert auc(insertion_curve(predict, image, worst, 1, steps)) == pytest.approx(r / (2 * n))


def test_curves_run_from_the_image_to_the_baseline_in_one_batch(rng):
    """Point 0 is the image (deletion) or the canvas (insertion), the last point the other one,
    whatever the number of steps; the model gets all steps + 1 images in a single call."""
    calls = []

    def predict(images):
        calls.append(len(images))
        brightness = images.mean(axis=(1, 2, 3))
        return np.stack([1 - brightness, brightness], axis=1)

    image, heatmap = rng.random((6, 5, 3)), rng.random((6, 5))
    baseline, canvas = np.full((6, 5, 3), 0.25), rng.random((6, 5, 3))
    deletion = deletion_curve(predict, image, heatmap, 1, steps=7, baseline=baseline)
    insertion = insertion_curve(predict, image, heatmap, 1, steps=7, canvas=canvas)
    assert calls == [8, 8] and deletion.shape == insertion.shape == (8,)
    assert deletion[0] == pytest.approx(image.mean()) and deletion[-1] == pytest.approx(0.25)
    assert insertion[0] == pytest.approx(canvas.mean())
    assert insertion[-1] == pytest.approx(image.mean())


def test_curves_in_batches_equal_the_curves_in_one_batch(rng):
    calls = []

    def predict(images):
        calls.append(len(images))
        weights = np.linspace(0.1, 1.0, images[0].size)
        score = images.reshape(len(images), -1) @ weights / weights.sum()
        return np.stack([1 - score, score], axis=1)

    image, heatmap, canvas = rng.random((6, 5, 3)), rng.random((6, 5)), rng.random((6, 5, 3))
    for curve in (deletion_curve, insertion_curve):
        whole = curve(predict, image, heatmap, 1, 7, canvas, seed=2)
        calls.clear()
        np.testing.assert_allclose(curve(predict, image, heatmap, 1, 7, canvas, seed=2,
                                         batch_size=3), whole, rtol=0, atol=1e-15)
        assert calls == [3, 3, 2]


@pytest.mark.parametrize(("shape", "sigma"), [((12, 9, 3), 1.5), ((224, 224, 3), None),
                                              ((5, 4, 2), 3.0), ((7, 6, 1), 11.2)])
def test_blurred_equals_scipys_gaussian_filter(shape, sigma, rng):
    """scipy's ``mode="reflect"`` is the mirror ``c b a | a b c``; a sigma wider than the image
    reflects the image again and again (the last two cases)."""
    image = rng.random(shape)
    expected_sigma = 0.05 * min(shape[:2]) if sigma is None else sigma
    expected = ndimage.gaussian_filter(image, (expected_sigma, expected_sigma, 0),
                                       mode="reflect", truncate=4.0)
    np.testing.assert_allclose(blurred(image, sigma), expected, rtol=0, atol=1e-12)


def test_deletion_and_insertion_on_the_blurred_baseline_by_hand():
    """A 2x2 one-channel image blurred with sigma 0.5: the kernel reaches 2 pixels, weights
    w0 = 1, w1 = e^-2, w2 = e^-8 over offsets 0, +-1, +-2 (divided by their sum s). With the
    mirror (-1 -> 0, -2 -> 1, 2 -> 1, 3 -> 0), pixel 0 of a line gets (w0 + w1) / s of itself
    and (w1 + 2 w2) / s of pixel 1, and the same the other way round; rows, then columns."""
    w0, w1, w2 = 1.0, np.exp(-2.0), np.exp(-8.0)
    s = w0 + 2 * w1 + 2 * w2
    line = np.array([[w0 + w1, w1 + 2 * w2], [w1 + 2 * w2, w0 + w1]]) / s
    image = np.array([[1.0, 0.0], [0.0, 0.0]])[..., None]
    by_hand = line @ image[..., 0] @ line.T  # here: the outer product of line[:, 0]
    np.testing.assert_allclose(by_hand, np.outer(line[:, 0], line[:, 0]))
    baseline = blurred(image, 0.5)
    np.testing.assert_allclose(baseline[..., 0], by_hand, rtol=0, atol=1e-15)

    def predict(images):  # p(class 1) = the weighted sum 0.4 x00 + 0.3 x01 + 0.2 x10 + 0.1 x11
        score = images[..., 0].reshape(len(images), 4) @ np.array([0.4, 0.3, 0.2, 0.1])
        return np.stack([1 - score, score], axis=1)

    heatmap = np.array([[0.9, 0.1], [0.5, 0.7]])  # hottest first: (0, 0), (1, 1), (1, 0), (0, 1)
    weights = {(0, 0): 0.4, (0, 1): 0.3, (1, 0): 0.2, (1, 1): 0.1}
    order = [(0, 0), (1, 1), (1, 0), (0, 1)]
    deleted, inserted = [], []
    for k in range(5):  # steps=4: one more pixel switched at each point
        gone = order[:k]
        deleted.append(sum(w * (by_hand[p] if p in gone else image[p][0])
                           for p, w in weights.items()))
        inserted.append(sum(w * (image[p][0] if p in gone else by_hand[p])
                            for p, w in weights.items()))
    np.testing.assert_allclose(deletion_curve(predict, image, heatmap, 1, 4, baseline),
                               deleted, rtol=0, atol=1e-15)
    np.testing.assert_allclose(insertion_curve(predict, image, heatmap, 1, 4, baseline),
                               inserted, rtol=0, atol=1e-15)
    assert deleted[0] == pytest.approx(0.4) and inserted[-1] == pytest.approx(0.4)


def test_auc_is_the_trapezoid_rule_over_0_1():
    curve = np.array([1.0, 0.6, 0.2, 0.1, 0.0])
    assert auc(curve) == pytest.approx(trapezoid(curve, np.linspace(0, 1, 5)))
    assert auc(np.array([0.3, 0.3])) == pytest.approx(0.3)


def test_pixel_order_sorts_by_heat_and_shuffles_only_ties(rng):
    heatmap = rng.random((5, 7))
    np.testing.assert_array_equal(pixel_order(heatmap), np.argsort(-heatmap.ravel()))
    flat = np.zeros((5, 7))
    orders = [pixel_order(flat, seed) for seed in (0, 0, 1)]
    np.testing.assert_array_equal(np.sort(orders[0]), np.arange(35))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], orders[2])
    assert not np.array_equal(orders[0], np.arange(35))  # not reading order
    two_levels = np.where(np.arange(35).reshape(5, 7) % 3 == 0, 1.0, 0.0)
    order = pixel_order(two_levels, seed=4)
    hot = int(two_levels.sum())
    assert set(order[:hot]) == set(np.flatnonzero(two_levels))


def test_pointing_game_on_hand_made_maps():
    mask = np.zeros((6, 6), dtype=bool)
    mask[1:3, 1:3] = True
    heatmap = np.zeros((6, 6))
    heatmap[2, 2] = 1.0
    assert pointing_game(heatmap, mask) == 1.0
    heatmap[5, 5] = 2.0
    assert pointing_game(heatmap, mask) == 0.0
    # (5, 5) is 3 rows and 3 columns from (2, 2): sqrt(18) ~ 4.24 pixels away
    assert pointing_game(heatmap, mask, tolerance=4) == 0.0
    assert pointing_game(heatmap, mask, tolerance=5) == 1.0
    heatmap[2, 4] = 2.0  # 2 pixels right of the mask: a tie between a near and a far maximum
    assert pointing_game(heatmap, mask, tolerance=2) == 0.5
    assert pointing_game(np.ones((6, 6)), mask) == pytest.approx(4 / 36)


def test_pointing_tolerance_is_euclidean():
    mask = np.zeros((5, 5), dtype=bool)
    mask[0, 0] = True
    diagonal = np.zeros((5, 5))
    diagonal[1, 1] = 1.0  # sqrt(2) from the mask: outside a 1-pixel tolerance, inside 2
    assert pointing_game(diagonal, mask, tolerance=1) == 0.0
    assert pointing_game(diagonal, mask, tolerance=2) == 1.0


@pytest.mark.parametrize("radius", [0, 1, 2, 3])
def test_dilation_equals_a_brute_force_distance(radius, rng):
    mask = rng.random((9, 11)) < 0.08
    mask[4, 5] = True
    rows, columns = np.nonzero(mask)
    grid_rows, grid_columns = np.mgrid[0:9, 0:11]
    distance = np.sqrt((grid_rows[..., None] - rows) ** 2
                       + (grid_columns[..., None] - columns) ** 2).min(axis=-1)
    np.testing.assert_array_equal(dilated(mask, radius), distance <= radius)


def test_energy_in_mask_counts_positive_heat_only():
    mask = np.array([[True, False], [True, False]])
    assert energy_in_mask(np.array([[3.0, 1.0], [-5.0, 0.0]]), mask) == pytest.approx(0.75)
    assert energy_in_mask(np.array([[1.0, 0.0], [2.0, -4.0]]), mask) == 1.0
    assert energy_in_mask(np.array([[0.0, 1.0], [0.0, 1.0]]), mask) == 0.0
    assert energy_in_mask(-np.ones((2, 2)), mask) == 0.0  # no positive heat: points at nothing


@pytest.mark.parametrize("kind", ["continuous", "ties", "maps"])
def test_spearman_equals_scipy(kind, rng):
    if kind == "continuous":
        a = rng.normal(size=50)
        b = a + rng.normal(size=50)
    elif kind == "ties":
        a, b = rng.integers(0, 4, size=60), rng.integers(0, 3, size=60)
    else:
        a = rng.random((8, 8))
        b = np.round(a + 0.5 * rng.random((8, 8)), 1)  # a 2-D map with ties
    expected = stats.spearmanr(np.ravel(a), np.ravel(b)).statistic
    assert spearman(a, b) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(average_ranks(b), stats.rankdata(np.ravel(b)), rtol=0)


def test_spearman_extremes():
    a = np.arange(10.0)
    assert spearman(a, a ** 3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert np.isnan(spearman(a, np.ones(10)))  # a constant has no ranking (scipy: NaN too)


def test_sanity_correlation_ignores_the_sign(rng):
    heatmap = rng.normal(size=(6, 6))
    assert sanity_correlation(heatmap, -heatmap) == pytest.approx(1.0)
    independent = sanity_correlation(rng.random((32, 32)), rng.random((32, 32)))
    assert abs(independent) < 0.15


def test_random_heatmap_is_seeded_uniform_noise():
    first, again, other = (random_heatmap((32, 24), seed) for seed in (3, 3, 4))
    assert first.shape == (32, 24) and 0 <= first.min() and first.max() < 1
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_bad_inputs_get_clear_errors(rng):
    image, region = np.ones((8, 8, 1)), np.eye(8, dtype=bool)
    predict = region_share_model(region)
    with pytest.raises(ValueError, match=r"the heatmap has shape \(4, 4\) but the image is "
                                         r"8x8; pass one value per pixel, shape \(8, 8\)"):
        deletion_curve(predict, image, np.ones((4, 4)), 1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        insertion_curve(predict, image, np.ones((8, 8)), 1, steps=0)
    with pytest.raises(ValueError, match=r"baseline must be a number or an image of the "
                                         r"image's shape \(8, 8, 1\)"):
        deletion_curve(predict, image, np.ones((8, 8)), 1, baseline=np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"one image of shape \(height, width, channels\)"):
        deletion_curve(predict, image[..., 0], np.ones((8, 8)), 1)
    with pytest.raises(TypeError, match="the mask must be boolean"):
        pointing_game(np.ones((8, 8)), region.astype(int))
    with pytest.raises(ValueError, match="tolerance must be a number of pixels >= 0"):
        pointing_game(np.ones((8, 8)), region, tolerance=-1)
    with pytest.raises(ValueError, match=r"spearman compares two arrays of the same shape"):
        spearman(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="auc needs a curve of at least 2 points"):
        auc(np.ones(1))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        deletion_curve(predict, image, np.ones((8, 8)), 1, batch_size=0)
    with pytest.raises(ValueError, match="sigma is the blur's standard deviation in pixels"):
        blurred(image, sigma=0)
