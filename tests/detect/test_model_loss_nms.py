"""Detector model and its decoding, target assignment, loss and NMS: shapes, hand values, naive
references. (The box arithmetic they use is tested in test_boxes.py.)"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ildl.detect.boxes import box_iou_torch  # noqa: E402
from ildl.detect.loss import SIZE_RANGES, DetectionLoss, assign_targets  # noqa: E402
from ildl.detect.model import (  # noqa: E402
    STRIDES,
    Detector,
    decode_boxes,
    decode_outputs,
    grid_centers,
)
from ildl.detect.nms import decode, non_max_suppression  # noqa: E402


@pytest.mark.parametrize("size", ["n", "s"])
def test_model_outputs_one_map_per_stride(size):
    model = Detector(num_classes=3, size=size)
    outputs = model(torch.zeros(2, 3, 160, 160))
    assert [tuple(o.shape) for o in outputs] == [(2, 8, 160 // s, 160 // s) for s in STRIDES]


def test_model_refuses_unknown_sizes_and_no_classes():
    with pytest.raises(ValueError, match="size"):
        Detector(3, size="xxl")
    with pytest.raises(ValueError, match="num_classes"):
        Detector(0)


def test_grid_centers_are_cell_centres_in_pixels():
    centers, strides = grid_centers([(2, 3)], (8,))
    assert centers.tolist() == [[4, 4], [12, 4], [20, 4], [4, 12], [12, 12], [20, 12]]
    assert strides.tolist() == [8.0] * 6


def test_decode_boxes_uses_softplus_distances_times_stride():
    raw = torch.full((1, 4), np.log(np.e - 1))  # softplus = 1 -> one stride each side
    boxes = decode_boxes(raw, torch.tensor([[20.0, 30.0]]), torch.tensor([8.0]))
    assert torch.allclose(boxes, torch.tensor([[12.0, 22.0, 28.0, 38.0]]))


def test_decode_outputs_reads_every_cell_of_every_grid_in_order():
    generator = torch.Generator().manual_seed(0)
    raw = [torch.randn(2, 4 + 1 + 3, 160 // s, 160 // s, generator=generator) for s in STRIDES]
    cells = decode_outputs(raw, STRIDES)
    assert cells.predictions.shape == (2, 2100, 8)  # 40*40 + 20*20 + 10*10 cells
    assert cells.boxes.shape == (2, 2100, 4)
    assert cells.centers.shape == (2100, 2) and cells.cell_strides.shape == (2100,)
    # Cell by cell, by hand: grid by grid, row by row; softplus(x) = log(1 + e^x).
    first_cell = 0
    for grid, stride in zip(raw, STRIDES):
        height, width = grid.shape[-2:]
        for image, row, column in [(0, 0, 0), (1, height - 1, 2), (1, 3, width - 1)]:
            index = first_cell + row * width + column
            x, y = (column + 0.5) * stride, (row + 0.5) * stride
            left, top, right, bottom = np.log1p(np.exp(grid[image, :4, row, column].numpy()))
            expected = [x - left * stride, y - top * stride,
                        x + right * stride, y + bottom * stride]
            np.testing.assert_allclose(cells.boxes[image, index].numpy(), expected, rtol=1e-5)
            assert cells.predictions[image, index].tolist() == grid[image, :, row, column].tolist()
            assert cells.centers[index].tolist() == [x, y]
            assert cells.cell_strides[index] == stride
        first_cell += height * width


def test_old_import_paths_still_work():
    # decoding moved from loss to model, box arithmetic from loss and nms to boxes
    from ildl.detect import boxes, loss, model, nms

    assert loss.decode_boxes is model.decode_boxes
    assert loss.grid_centers is model.grid_centers
    assert loss.flatten_predictions is model.flatten_predictions
    assert loss.box_area is boxes.box_area_torch
    assert loss.paired_giou is boxes.paired_giou_torch
    assert nms.box_iou is boxes.box_iou_torch


def test_every_object_gets_cells_on_the_grid_that_suits_its_size():
    centers, strides = grid_centers([(160 // s, 160 // s) for s in STRIDES], STRIDES)
    boxes = torch.tensor([[10.0, 10, 30, 30], [40, 40, 140, 140], [100, 20, 104, 24]])
    owner = assign_targets(centers, strides, boxes)
    assert set(strides[owner == 0].tolist()) <= {float(s) for s in STRIDES[:2]}  # small: fine
    assert set(strides[owner == 1].tolist()) == {float(STRIDES[-1])}  # large: coarse grid
    for index in (0, 1):
        cells = owner == index
        assert cells.any()
        inside = centers[cells]
        assert ((inside >= boxes[index, :2]) & (inside <= boxes[index, 2:])).all()
        reach = torch.cat([inside - boxes[index, :2], boxes[index, 2:] - inside], 1).max(1).values
        for stride, distance in zip(strides[cells].tolist(), reach.tolist()):
            low, high = SIZE_RANGES[int(stride)]
            assert low <= distance <= high
    assert (owner == 2).sum() == 1  # a 4-pixel object still gets its nearest cell


def test_no_objects_means_all_background():
    centers, strides = grid_centers([(4, 4)], (8,))
    assert (assign_targets(centers, strides, torch.zeros(0, 4)) == -1).all()


def naive_nms(boxes, scores, classes, threshold):
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    kept = []
    for i in order:
        if all(classes[i] != classes[j] or iou_pair(boxes[i], boxes[j]) <= threshold
               for j in kept):
            kept.append(i)
    return kept


def iou_pair(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rows_at_once", [256, 7])  # one block of the IoU matrix, or nine
def test_nms_equals_a_naive_greedy_loop(seed, rows_at_once, monkeypatch):
    monkeypatch.setattr("ildl.detect.nms.IOU_ROWS", rows_at_once)
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, 100, size=(60, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(5, 40, size=(60, 2))], axis=1)
    scores = rng.random(60)
    classes = rng.integers(0, 3, 60)
    kept = non_max_suppression(torch.tensor(boxes), torch.tensor(scores), torch.tensor(classes),
                               0.45)
    assert kept.tolist() == naive_nms(boxes.tolist(), scores, classes, 0.45)
    first_five = non_max_suppression(torch.tensor(boxes), torch.tensor(scores),
                                     torch.tensor(classes), 0.45, max_kept=5)
    assert first_five.tolist() == kept.tolist()[:5]


def test_nms_keeps_degenerate_boxes_and_handles_no_boxes():
    # zero-area boxes overlap nothing, not even themselves: each is kept once
    boxes = torch.tensor([[5.0, 5, 5, 5], [5.0, 5, 5, 5], [0.0, 0, 10, 10]])
    kept = non_max_suppression(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.zeros(3), 0.5)
    assert kept.tolist() == [0, 1, 2]
    empty = non_max_suppression(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0), 0.5)
    assert empty.tolist() == []


def test_box_iou_matrix_matches_pairs():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 50, size=(7, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(1, 30, size=(7, 2))], axis=1)
    matrix = box_iou_torch(torch.tensor(boxes), torch.tensor(boxes)).numpy()
    expected = [[iou_pair(a, b) for b in boxes] for a in boxes]
    np.testing.assert_allclose(matrix, expected, rtol=1e-9)


def test_a_few_steps_fit_one_image_and_decode_finds_the_object():
    torch.manual_seed(0)
    image = torch.zeros(1, 3, 160, 160)
    image[:, :, 40:80, 60:100] = 1.0  # one 40x40 bright square, class 1
    targets = torch.tensor([[0, 1, 80 / 160, 60 / 160, 40 / 160, 40 / 160]])
    model = Detector(num_classes=2)
    loss_function = DetectionLoss(2, model.strides)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        loss, parts = loss_function(model(image), targets, 160)
        first = first if first is not None else float(loss.detach())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < first / 3
    model.eval()
    detections = decode(model(image), model.strides, score_threshold=0.2)[0]
    assert len(detections["boxes"]) >= 1
    best = detections["boxes"][0]
    assert iou_pair(best.tolist(), [60, 40, 100, 80]) > 0.6
    assert int(detections["classes"][0]) == 1


def test_agnostic_decoding_keeps_one_box_where_two_classes_claim_one_object():
    # Two neighbouring cells of an 8-pixel grid, centres (4, 4) and (12, 4), each a box reaching
    # 3 strides (24 px) to every side: (-20, -20, 28, 28) and (-12, -20, 36, 28), IoU
    # 40 * 48 / (2 * 48 * 48 - 40 * 48) = 0.71. Cell one says class 0 (score 0.88 * 0.88),
    # cell two class 1 (0.88 * 0.73).
    three_strides = float(np.log(np.e ** 3 - 1))  # softplus(x) = 3
    raw = torch.full((1, 4 + 1 + 2, 1, 2), three_strides)
    raw[0, 4] = 2.0  # objectness: sigmoid 0.88
    raw[0, 5:, 0, 0] = torch.tensor([2.0, -5.0])
    raw[0, 5:, 0, 1] = torch.tensor([-5.0, 1.0])
    per_class = decode([raw], (8,), score_threshold=0.1)[0]
    assert per_class["classes"].tolist() == [0, 1]
    agnostic = decode([raw], (8,), score_threshold=0.1, agnostic=True)[0]
    assert agnostic["classes"].tolist() == [0]
    assert agnostic["boxes"].tolist() == [[-20.0, -20.0, 28.0, 28.0]]
