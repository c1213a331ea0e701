"""Box conversions (hand values and round trips) and the IoU matrix (hand values, a reference);
the torch twins against the NumPy functions, pycocotools and GIoU's definition."""

import subprocess
import sys

import numpy as np
import pytest

from ildl.detect.boxes import (
    box_area,
    box_area_torch,
    box_intersection,
    box_iou,
    box_iou_torch,
    clip_boxes,
    cxcywh_to_xyxy,
    cxcywh_to_xyxy_torch,
    normalized_to_pixels,
    paired_giou_torch,
    pixels_to_normalized,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_cxcywh_torch,
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


def test_intersection_hand_values():
    # a 10 x 10 square against: its corner overlap (5 x 5), a box inside it (4 x 3), a box apart
    found = box_intersection([[0, 0, 10, 10]], [[5, 5, 15, 15], [2, 2, 6, 5], [11, 0, 12, 1]])
    assert found.tolist() == [[25.0, 12.0, 0.0]]
    assert box_intersection(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_iou_matrix_matches_pycocotools():
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(2)
    a, b = random_xyxy(rng, 7), random_xyxy(rng, 5)
    reference = mask.iou(xyxy_to_xywh(a).tolist(), xyxy_to_xywh(b).tolist(), [0] * 5)
    np.testing.assert_allclose(box_iou(a, b), reference, atol=1e-12)


# --- the torch twins ------------------------------------------------------------------------------

# Boxes that break careless formulas: identical, zero width, zero height, a point, corners the
# wrong way round (area 0), touching, apart, one inside another, a tiny one (area 1e-4).
DEGENERATE = np.array([
    [0, 0, 2, 2], [0, 0, 2, 2], [1, 0, 1, 2], [0, 1, 2, 1], [5, 5, 5, 5], [3, 3, 1, 1],
    [2, 0, 4, 2], [50, 50, 60, 70], [0.5, 0.5, 1.5, 1.5], [-10, -10, 100, 100],
    [7, 7, 7.01, 7.01],
], dtype=np.float64)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def boxes_to_test(seed, n=40):
    """Random boxes followed by the degenerate ones: (n + 11, 4) float64."""
    return np.vstack([random_xyxy(np.random.default_rng(seed), n), DEGENERATE])


def test_importing_boxes_does_not_import_torch():
    code = "import sys, ildl.detect.boxes; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("seed", range(3))
def test_torch_conversions_equal_numpy(torch, seed):
    xyxy = boxes_to_test(seed)
    cxcywh = xyxy_to_cxcywh(xyxy)
    np.testing.assert_allclose(xyxy_to_cxcywh_torch(torch.tensor(xyxy)).numpy(), cxcywh,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(cxcywh_to_xyxy_torch(torch.tensor(cxcywh)).numpy(),
                               cxcywh_to_xyxy(cxcywh), rtol=0, atol=1e-12)
    batch = torch.tensor(xyxy[:40].reshape(4, 10, 4))  # leading axes are kept
    assert xyxy_to_cxcywh_torch(batch).shape == (4, 10, 4)
    assert cxcywh_to_xyxy_torch(torch.zeros(0, 4)).shape == (0, 4)


@pytest.mark.parametrize("seed", range(3))
def test_torch_area_equals_numpy(torch, seed):
    xyxy = boxes_to_test(seed)
    np.testing.assert_allclose(box_area_torch(torch.tensor(xyxy)).numpy(), box_area(xyxy),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_torch_iou_matrix_equals_numpy_and_pycocotools(torch, seed):
    a, b = boxes_to_test(seed, 30), boxes_to_test(seed + 10, 20)
    matrix = box_iou_torch(torch.tensor(a), torch.tensor(b)).numpy()
    assert matrix.shape == (len(a), len(b))
    np.testing.assert_allclose(matrix, box_iou(a, b), rtol=0, atol=1e-12)
    mask = pytest.importorskip("pycocotools.mask")
    # pycocotools takes xywh; a box with corners the wrong way round has no COCO equivalent.
    proper_a, proper_b = a[(a[:, 2:] >= a[:, :2]).all(1)], b[(b[:, 2:] >= b[:, :2]).all(1)]
    reference = mask.iou(xyxy_to_xywh(proper_a).tolist(), xyxy_to_xywh(proper_b).tolist(),
                         [0] * len(proper_b))
    np.testing.assert_allclose(box_iou_torch(torch.tensor(proper_a), torch.tensor(proper_b)),
                               reference, rtol=0, atol=1e-12)


def test_torch_iou_hand_values_and_empty_sets(torch):
    iou = box_iou_torch(torch.tensor(DEGENERATE[:2]), torch.tensor(DEGENERATE)).numpy()
    assert iou[0, 0] == iou[0, 1] == 1.0  # identical
    assert iou[0, 6] == 0.0  # touching edges
    assert iou[0, 8] == pytest.approx(0.25)  # 1x1 inside 2x2
    assert (iou[:, 2:6] == 0).all()  # zero-area boxes: 0, never 0/0
    assert box_iou_torch(torch.zeros(0, 4), torch.tensor(DEGENERATE)).shape == (0, 11)


def test_torch_functions_keep_dtype(torch):
    boxes = torch.tensor(DEGENERATE, dtype=torch.float32)
    for result in (cxcywh_to_xyxy_torch(boxes), xyxy_to_cxcywh_torch(boxes), box_area_torch(boxes),
                   box_iou_torch(boxes, boxes), *paired_giou_torch(boxes, boxes)):
        assert result.dtype == torch.float32


def test_giou_hand_values(torch):
    a = torch.tensor([[0.0, 0, 2, 2], [0, 0, 1, 1]])
    b = torch.tensor([[1.0, 1, 3, 3], [2, 0, 3, 1]])
    iou, giou = paired_giou_torch(a, b)
    # first pair: intersection 1, union 7, enclosing 9 -> IoU 1/7, GIoU 1/7 - 2/9
    assert torch.allclose(iou, torch.tensor([1 / 7, 0.0]))
    assert torch.allclose(giou, torch.tensor([1 / 7 - 2 / 9, 0 - (3 - 2) / 3]))


def giou_by_definition(a, b):
    """IoU and GIoU of two xyxy boxes (lists), from the definition, one pair at a time.

    A box with corners the wrong way round covers nothing; a ratio 0/0 (zero-area boxes) is 0.
    """
    def area(box):
        return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])

    overlap = [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]
    union = area(a) + area(b) - area(overlap)
    iou = area(overlap) / union if union > 0 else 0.0
    hull = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
    return iou, iou - ((area(hull) - union) / area(hull) if area(hull) > 0 else 0.0)


# Pairs (box a, box b) for GIoU, named for what makes them awkward.
GIOU_PAIRS = {
    "identical": ([0, 0, 2, 2], [0, 0, 2, 2]),
    "touching": ([0, 0, 2, 2], [2, 0, 4, 2]),
    "apart": ([0, 0, 2, 2], [50, 50, 60, 70]),
    "inside": ([0, 0, 2, 2], [0.5, 0.5, 1.5, 1.5]),
    "around": ([-10, -10, 100, 100], [0, 0, 2, 2]),
    "zero width": ([1, 0, 1, 2], [0, 0, 2, 2]),
    "two points": ([5, 5, 5, 5], [0, 0, 0, 0]),
    "one point twice": ([5, 5, 5, 5], [5, 5, 5, 5]),
    "tiny, twice": ([7, 7, 7.01, 7.01], [7, 7, 7.01, 7.01]),
    "tiny, apart": ([7, 7, 7.01, 7.01], [7.02, 7, 7.03, 7.01]),
}


@pytest.mark.parametrize("seed", range(3))
def test_paired_giou_matches_its_definition(torch, seed):
    rng = np.random.default_rng(seed)
    special = np.array(list(GIOU_PAIRS.values()), dtype=np.float64)  # (10, 2, 4)
    a = np.vstack([random_xyxy(rng, 40), special[:, 0]])
    b = np.vstack([random_xyxy(rng, 40), special[:, 1]])
    iou, giou = paired_giou_torch(torch.tensor(a), torch.tensor(b))
    expected = np.array([giou_by_definition(x.tolist(), y.tolist()) for x, y in zip(a, b)])
    np.testing.assert_allclose(iou.numpy(), expected[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(giou.numpy(), expected[:, 1], rtol=0, atol=1e-12)
    by_name = dict(zip(GIOU_PAIRS, zip(iou[40:].tolist(), giou[40:].tolist())))
    assert by_name["identical"] == (1.0, 1.0)
    assert by_name["two points"] == (0.0, -1.0)  # nothing of the enclosing 5x5 box is covered
    assert by_name["one point twice"] == (0.0, 0.0)  # 0, not 0/0
    assert by_name["tiny, twice"] == pytest.approx((1.0, 1.0))
    assert by_name["tiny, apart"] == pytest.approx((0.0, -1 / 3))  # hull 3 tiny boxes, 2 covered


def test_giou_has_a_gradient_where_iou_has_none(torch):
    apart = torch.tensor([[0.0, 0, 2, 2]], requires_grad=True)
    iou, giou = paired_giou_torch(apart, torch.tensor([[5.0, 5, 7, 7]]))
    assert float(iou.detach()) == 0.0 and float(giou.detach()) < 0
    giou.sum().backward()
    assert (apart.grad[0, 2:] > 0).all()  # growing towards the other box raises GIoU
