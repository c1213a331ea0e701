"""Box conversions (hand values and round trips) and the IoU matrix (hand values, a reference)."""

import numpy as np
import pytest

from ildl.detect.boxes import (
    box_area,
    box_iou,
    clip_boxes,
    cxcywh_to_xyxy,
    normalized_to_pixels,
    pixels_to_normalized,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_xywh,
)


def random_xyxy(rng, n, size=100.0):
    corner = rng.uniform(0, size, (n, 2))
    extent = rng.uniform(0.5, size / 2, (n, 2))
    return np.hstack([corner, corner + extent])


def test_conversions_hand_values():
    xyxy = np.array([[10.0, 20.0, 50.0, 80.0]])
    np.testing.assert_allclose(xyxy_to_cxcywh(xyxy), [[30, 50, 40, 60]])
    np.testing.assert_allclose(xyxy_to_xywh(xyxy), [[10, 20, 40, 60]])
    np.testing.assert_allclose(cxcywh_to_xyxy([[30, 50, 40, 60]]), xyxy)
    np.testing.assert_allclose(xywh_to_xyxy([[10, 20, 40, 60]]), xyxy)


def test_yolo_label_to_pixels():
    # A YOLO line "class 0.5 0.5 0.25 0.5" in a 640 x 480 image: centre (320, 240), 160 x 240 px.
    pixels = cxcywh_to_xyxy(normalized_to_pixels([[0.5, 0.5, 0.25, 0.5]], 640, 480))
    np.testing.assert_allclose(pixels, [[240, 120, 400, 360]])


def test_round_trips():
    rng = np.random.default_rng(0)
    xyxy = random_xyxy(rng, 50)
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(xyxy)), xyxy, atol=1e-12)
    np.testing.assert_allclose(xywh_to_xyxy(xyxy_to_xywh(xyxy)), xyxy, atol=1e-12)
    np.testing.assert_allclose(
        pixels_to_normalized(normalized_to_pixels(xyxy / 100, 640, 480), 640, 480), xyxy / 100)
    # Leading axes are kept (a batch of images of boxes).
    batch = xyxy.reshape(5, 10, 4)
    assert xyxy_to_cxcywh(batch).shape == (5, 10, 4)


def test_empty_inputs_keep_four_columns():
    assert xyxy_to_cxcywh([]).shape == (0, 4)
    assert box_iou(np.zeros((0, 4)), random_xyxy(np.random.default_rng(1), 3)).shape == (0, 3)
    assert box_iou([], []).shape == (0, 0)


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="4 numbers"):
        box_area([[1.0, 2.0, 3.0]])


def test_area_and_clip():
    np.testing.assert_allclose(box_area([[0, 0, 4, 3], [5, 5, 5, 9], [3, 3, 1, 1]]), [12, 0, 0])
    np.testing.assert_allclose(clip_boxes([[-5, 10, 700, 500]], 640, 480), [[0, 10, 640, 480]])


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),            # identical
    ([0, 0, 2, 2], [1, 0, 3, 2], 2 / 6),          # half overlap: 2 / (4 + 4 - 2)
    ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),         # one inside the other
    ([0, 0, 2, 2], [2, 0, 4, 2], 0.0),            # touching edges
    ([0, 0, 2, 2], [5, 5, 6, 6], 0.0),            # apart
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),            # two points: 0, not 0/0
    ([0, 0, 10, 10], [5, 5, 15, 15], 25 / 175),   # corner overlap
])
def test_iou_hand_values(a, b, expected):
    assert box_iou([a], [b])[0, 0] == pytest.approx(expected)
    assert box_iou([b], [a])[0, 0] == pytest.approx(expected)  # symmetric


def test_iou_matrix_matches_pycocotools():
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(2)
    a, b = random_xyxy(rng, 7), random_xyxy(rng, 5)
    reference = mask.iou(xyxy_to_xywh(a).tolist(), xyxy_to_xywh(b).tolist(), [0] * 5)
    np.testing.assert_allclose(box_iou(a, b), reference, atol=1e-12)
