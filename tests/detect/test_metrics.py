"""ildl.detect.metrics against the reference evaluator, pycocotools' COCOeval, plus hand values.

Each case is a list of images; the same boxes go to our evaluator and, converted to COCO's json
layout, to COCOeval. mAP@0.5:0.95, mAP@0.5, mAP@0.75 and every class's 101-point precision array
must agree to within 0.001 (in practice they agree to ~1e-15).
"""

import contextlib
import io

import numpy as np
import pytest

from ildl.detect.boxes import box_iou, xyxy_to_xywh
from ildl.detect.metrics import (
    DetectionEvaluator,
    evaluate_detections,
    interpolated_precision,
    match_detections,
    plot_confusion_matrix,
    plot_pr_curves,
)

TOLERANCE = 1e-3


def image(boxes=(), classes=(), scores=None):
    """One image's boxes as the dict the evaluator reads (scores given: a prediction)."""
    entry = {"boxes": np.asarray(boxes, dtype=float).reshape(-1, 4),
             "classes": np.asarray(classes, dtype=int)}
    if scores is not None:
        entry["scores"] = np.asarray(scores, dtype=float)
    return entry


def coco_eval(predictions, targets, num_classes):
    """COCOeval (bbox) on the same data, or None when there is no detection at all (loadRes
    cannot take an empty list)."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    annotations = []
    for index, target in enumerate(targets):
        for box, cls in zip(xyxy_to_xywh(target["boxes"]), target["classes"]):
            # Ids start at 1: COCOeval stores "matched GT id", and 0 means "no match".
            annotations.append({"id": len(annotations) + 1, "image_id": index + 1,
                                "category_id": int(cls) + 1, "bbox": box.tolist(),
                                "area": float(box[2] * box[3]), "iscrowd": 0})
    detections = [{"image_id": index + 1, "category_id": int(cls) + 1, "bbox": box.tolist(),
                   "score": float(score)}
                  for index, prediction in enumerate(predictions)
                  for box, cls, score in zip(xyxy_to_xywh(prediction["boxes"]),
                                             prediction["classes"], prediction["scores"])]
    if not detections:
        return None
    with contextlib.redirect_stdout(io.StringIO()):  # COCO prints its progress
        ground_truth = COCO()
        ground_truth.dataset = {
            "images": [{"id": i + 1, "width": 1000, "height": 1000} for i in range(len(targets))],
            "categories": [{"id": c + 1, "name": str(c)} for c in range(num_classes)],
            "annotations": annotations}
        ground_truth.createIndex()
        evaluation = COCOeval(ground_truth, ground_truth.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def assert_agrees_with_coco(predictions, targets, num_classes):
    """Compare with COCOeval; returns our result for further checks."""
    ours = evaluate_detections(predictions, targets, [f"c{k}" for k in range(num_classes)])
    reference = coco_eval(predictions, targets, num_classes)
    if reference is None:  # no detections at all: every AP is 0 where there is ground truth
        assert np.all(ours.ap[:, ours.has_gt] == 0)
        return ours
    stats = reference.stats
    if stats[0] == -1:  # no ground truth anywhere: COCO prints -1, we give NaN
        assert np.isnan(ours.map50_95) and np.isnan(ours.map50)
        return ours
    assert abs(ours.map50_95 - stats[0]) < TOLERANCE
    assert abs(ours.map50 - stats[1]) < TOLERANCE
    assert abs(ours.map75 - stats[2]) < TOLERANCE
    # Per class: COCOeval's precision array [T, R, K, area, maxDets], area "all", maxDets 100.
    coco_precision = reference.eval["precision"][:, :, :, 0, 2]
    for k in range(num_classes):
        if ours.has_gt[k]:
            np.testing.assert_allclose(ours.precision_curves[:, :, k], coco_precision[:, :, k],
                                       atol=TOLERANCE)
        else:
            assert np.all(coco_precision[:, :, k] == -1)
            assert np.all(np.isnan(ours.precision_curves[:, :, k]))
    return ours


# ----------------------------------------------------------------------------------------------
# Hand-built cases

BOX_A = [10, 10, 50, 50]
BOX_B = [60, 60, 100, 120]
BOX_C = [120, 10, 180, 40]


def test_perfect_predictions_score_one():
    targets = [image([BOX_A, BOX_B], [0, 1]), image([BOX_C], [2])]
    predictions = [image([BOX_A, BOX_B], [0, 1], [0.9, 0.8]), image([BOX_C], [2], [0.7])]
    result = assert_agrees_with_coco(predictions, targets, 3)
    assert result.map50_95 == pytest.approx(1.0)
    assert result.map50 == pytest.approx(1.0)
    np.testing.assert_allclose(result.precision, 1.0)
    np.testing.assert_allclose(result.recall, 1.0)
    np.testing.assert_array_equal(result.confusion, np.diag([1, 1, 1, 0]))


def test_a_missed_object_caps_recall():
    targets = [image([BOX_A, BOX_B], [0, 0])]
    predictions = [image([BOX_A], [0], [0.9])]
    result = assert_agrees_with_coco(predictions, targets, 1)
    # Precision 1 at recalls 0, 0.01, ..., 0.50 (51 of the 101 points), 0 beyond.
    assert result.map50 == pytest.approx(51 / 101)
    assert result.recall[0] == pytest.approx(0.5)
    assert result.confusion[0, 1] == 1  # the missed object: true class 0, predicted background


def test_a_duplicate_detection_is_a_false_positive():
    targets = [image([BOX_A], [0])]
    predictions = [image([BOX_A, BOX_A], [0, 0], [0.9, 0.8])]
    result = assert_agrees_with_coco(predictions, targets, 1)
    assert result.map50 == pytest.approx(1.0)  # found before the duplicate: AP is untouched
    assert result.score_threshold == pytest.approx(0.9)  # F1 is best without the duplicate
    # A duplicate scored above the true detection costs precision at every recall.
    predictions = [image([BOX_A, BOX_A], [0, 0], [0.8, 0.9])]
    assert_agrees_with_coco(predictions, targets, 1)
    result = evaluate_detections(predictions, targets, ["a"], score_threshold=0.5)
    assert result.precision[0] == pytest.approx(0.5)
    assert result.confusion[1, 0] == 1  # the duplicate: true background, predicted class 0


def test_duplicate_with_lower_iou_and_higher_score_takes_the_object():
    targets = [image([[0, 0, 100, 100]], [0])]
    # The loose box (IoU 0.64) outranks the tight one: at IoU >= 0.65 the tight one still matches.
    predictions = [image([[0, 0, 80, 80], [0, 0, 100, 100]], [0, 0], [0.9, 0.6])]
    assert_agrees_with_coco(predictions, targets, 1)


def test_wrong_class_scores_zero_and_shows_in_the_confusion_matrix():
    targets = [image([BOX_A], [0])]
    predictions = [image([BOX_A], [1], [0.9])]
    result = assert_agrees_with_coco(predictions, targets, 2)
    assert result.map50 == 0.0
    assert result.has_gt.tolist() == [True, False]  # class 1 is left out of the mean
    assert result.confusion[0, 1] == 1


def test_a_low_iou_box_counts_only_at_loose_thresholds():
    targets = [image([[0, 0, 100, 100]], [0])]
    predictions = [image([[0, 0, 100, 62]], [0], [0.9])]  # IoU 0.62
    result = assert_agrees_with_coco(predictions, targets, 1)
    np.testing.assert_allclose(result.ap[:, 0], [1, 1, 1] + [0] * 7)
    assert result.map50_95 == pytest.approx(0.3)


def test_crowded_image_of_overlapping_objects():
    rng = np.random.default_rng(7)
    # Twenty boxes on a tight staircase: neighbours overlap with IoU around 0.5-0.8.
    starts = np.arange(20)[:, None] * np.array([6.0, 4.0])
    gt = np.hstack([starts, starts + 40])
    targets = [image(gt, rng.integers(0, 2, 20))]
    jitter = rng.normal(0, 3, gt.shape)
    predictions = [image(np.vstack([gt + jitter, gt[::3] + 8]),
                         np.concatenate([targets[0]["classes"], rng.integers(0, 2, 7)]),
                         rng.uniform(0, 1, 27))]
    assert_agrees_with_coco(predictions, targets, 2)


def test_empty_images_with_false_positives():
    targets = [image([BOX_A], [0]), image(), image()]
    predictions = [image([BOX_A], [0], [0.5]), image([BOX_B], [0], [0.9]),
                   image([BOX_C, BOX_A], [0, 1], [0.7, 0.6])]
    result = assert_agrees_with_coco(predictions, targets, 2)
    assert result.map50 < 1.0  # the confident false alarms come before the true positive
    assert result.images.tolist() == [1, 0]


def test_no_ground_truth_anywhere_gives_nan():
    targets = [image(), image()]
    predictions = [image([BOX_A], [0], [0.5]), image(scores=[])]
    result = assert_agrees_with_coco(predictions, targets, 1)
    assert np.isnan(result.map50)
    assert "nan" in result.table()


def test_no_predictions_at_all_gives_zero():
    targets = [image([BOX_A], [0])]
    result = assert_agrees_with_coco([image(scores=[])], targets, 1)
    assert result.map50 == 0.0 and result.recall[0] == 0.0 and result.precision[0] == 0.0


def test_a_class_predicted_but_absent_from_ground_truth_is_ignored():
    targets = [image([BOX_A, BOX_B], [0, 0])]
    predictions = [image([BOX_A, BOX_B, BOX_C], [0, 0, 2], [0.9, 0.8, 0.95])]
    result = assert_agrees_with_coco(predictions, targets, 3)
    assert result.map50 == pytest.approx(1.0)  # class 2's false alarm touches no AP
    assert result.confusion[3, 2] == 1


def test_a_class_never_predicted_counts_as_zero():
    targets = [image([BOX_A, BOX_B], [0, 1])]
    predictions = [image([BOX_A], [0], [0.9])]
    result = assert_agrees_with_coco(predictions, targets, 2)
    assert result.map50 == pytest.approx(0.5)  # (1 + 0) / 2


def test_equal_ious_go_to_the_later_ground_truth_as_in_coco():
    # The first detection sits midway between two objects (equal IoU); COCOeval gives it the
    # later one, which leaves the earlier one for the second detection.
    targets = [image([[0, 0, 10, 10], [2, 0, 12, 10]], [0, 0])]
    predictions = [image([[1, 0, 11, 10], [0, 0, 10, 10]], [0, 0], [0.9, 0.8])]
    result = assert_agrees_with_coco(predictions, targets, 1)
    assert result.ap50[0] == pytest.approx(1.0)


def test_equal_scores_across_images_keep_image_order_as_in_coco():
    targets = [image([BOX_A], [0]), image([BOX_A], [0])]
    predictions = [image([BOX_B], [0], [0.5]), image([BOX_A], [0], [0.5])]
    assert_agrees_with_coco(predictions, targets, 1)


def test_only_the_100_best_detections_per_image_and_class_count():
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 900, (150, 2))
    gt = np.hstack([corners, corners + 30])
    targets = [image(gt, np.zeros(150, int))]
    # Scores rise with the index, so the first 50 boxes are the ones COCOeval drops.
    predictions = [image(gt, np.zeros(150, int), np.linspace(0.01, 0.99, 150))]
    result = assert_agrees_with_coco(predictions, targets, 1)
    assert result.recall[0] == pytest.approx(100 / 150)


# ----------------------------------------------------------------------------------------------
# Random cases


def random_case(rng, num_images, num_classes, integer_boxes, coarse_scores):
    """Ground truth of 0..30 objects per image; predictions are jittered copies (some dropped,
    some with the wrong class) plus false alarms, with random scores."""
    predictions, targets = [], []
    for _ in range(num_images):
        count = int(rng.integers(0, 31))
        corners = rng.uniform(0, 400, (count, 2))
        gt = np.hstack([corners, corners + rng.uniform(8, 120, (count, 2))])
        gt_classes = rng.integers(0, num_classes, count)
        kept = rng.random(count) > 0.2
        found = gt[kept] + rng.normal(0, 4, (kept.sum(), 4))
        # Keep x2 > x1 and y2 > y1: COCO gives a flipped box a negative area, we give it 0.
        found[:, 2:] = np.maximum(found[:, 2:], found[:, :2] + 1)
        found_classes = np.where(rng.random(kept.sum()) < 0.1,
                                 rng.integers(0, num_classes, kept.sum()), gt_classes[kept])
        extra = int(rng.integers(0, 8))
        corners = rng.uniform(0, 400, (extra, 2))
        false = np.hstack([corners, corners + rng.uniform(8, 120, (extra, 2))])
        boxes = np.vstack([found, false])
        if integer_boxes:  # exact IoU ties and IoUs exactly on a threshold
            gt, boxes = np.round(gt), np.round(boxes)
        scores = rng.random(len(boxes))
        if coarse_scores:  # many equal scores
            scores = np.round(scores, 1)
        predictions.append(image(boxes, np.concatenate([found_classes,
                                                        rng.integers(0, num_classes, extra)]),
                                 scores))
        targets.append(image(gt, gt_classes))
    return predictions, targets


@pytest.mark.parametrize("seed", range(30))
def test_random_cases_agree_with_cocoeval(seed):
    rng = np.random.default_rng(seed)
    num_classes = int(rng.integers(1, 5))
    predictions, targets = random_case(rng, int(rng.integers(1, 9)), num_classes,
                                       integer_boxes=seed % 3 == 0, coarse_scores=seed % 2 == 0)
    assert_agrees_with_coco(predictions, targets, num_classes)


# ----------------------------------------------------------------------------------------------
# Pieces, consistency, output


def test_interpolated_precision_hand_values():
    # Detections: TP, FP, TP out of 2 objects -> precision 1, 1/2, 2/3 at recall 0.5, 0.5, 1.
    sampled = interpolated_precision(np.array([1, 0.5, 2 / 3]), np.array([0.5, 0.5, 1.0]))
    np.testing.assert_allclose(sampled[:51], 1.0)  # recalls 0..0.5: best precision is 1
    np.testing.assert_allclose(sampled[51:], 2 / 3)  # the dip to 1/2 is filled in
    assert sampled.mean() == pytest.approx((51 + 50 * 2 / 3) / 101)


def test_match_detections_claims_each_object_once():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    dets = np.array([[0, 0, 10, 10], [0, 0, 10, 11], [20, 0, 30, 10]], float)
    matches = match_detections(box_iou(dets, gt))
    assert matches[0].tolist() == [0, -1, 1]


def test_confusion_matrix_agrees_with_precision_and_recall():
    rng = np.random.default_rng(11)
    predictions, targets = random_case(rng, 10, 3, integer_boxes=False, coarse_scores=False)
    result = evaluate_detections(predictions, targets, ["a", "b", "c"])
    diagonal = np.diag(result.confusion)[:3]
    np.testing.assert_allclose(diagonal / result.confusion[:3].sum(axis=1), result.recall)
    np.testing.assert_allclose(diagonal / result.confusion[:, :3].sum(axis=0), result.precision)
    assert result.confusion[:3].sum() == result.instances.sum()  # every object is in a row
    assert result.confusion[3, 3] == 0


def test_f1_threshold_is_the_best_over_all_scores():
    rng = np.random.default_rng(5)
    predictions, targets = random_case(rng, 6, 2, integer_boxes=False, coarse_scores=False)
    best = evaluate_detections(predictions, targets, ["a", "b"])
    scores = np.concatenate([p["scores"] for p in predictions])
    for threshold in scores:
        other = evaluate_detections(predictions, targets, ["a", "b"], score_threshold=threshold)
        assert np.mean(other.f1) <= np.mean(best.f1) + 1e-12
        assert other.map50 == best.map50  # AP does not depend on the threshold


def test_evaluator_adds_images_one_by_one():
    rng = np.random.default_rng(9)
    predictions, targets = random_case(rng, 5, 2, integer_boxes=False, coarse_scores=False)
    evaluator = DetectionEvaluator(["a", "b"])
    for prediction, target in zip(predictions, targets):
        evaluator.add(prediction, target)
    assert evaluator.compute().summary() == evaluate_detections(predictions, targets,
                                                                ["a", "b"]).summary()


def test_bad_inputs_get_clear_messages():
    with pytest.raises(ValueError, match=r"class ids must be in \[0, 2\)"):
        evaluate_detections([image([BOX_A], [2], [0.5])], [image()], ["a", "b"])
    with pytest.raises(ValueError, match="1 boxes but 2 scores"):
        evaluate_detections([image([BOX_A], [0], [0.5, 0.4])], [image()], ["a"])
    with pytest.raises(ValueError, match="one of each per image"):
        evaluate_detections([image(scores=[])], [], ["a"])


def test_table_lists_every_class():
    targets = [image([BOX_A, BOX_B], [0, 1])]
    predictions = [image([BOX_A], [0], [0.9])]
    result = evaluate_detections(predictions, targets, ["circle", "square", "star"])
    text = result.table()
    lines = text.splitlines()
    assert lines[0].split() == ["Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95"]
    assert lines[1].split() == ["all", "1", "2", "0.500", "0.500", "0.500", "0.500"]
    assert lines[4].split() == ["star", "0", "0", "-", "-", "-", "-"]
    assert result.table(markdown=True).splitlines()[2].startswith("| all | 1 | 2 |")


def test_figures_are_written(tmp_path):
    rng = np.random.default_rng(4)
    predictions, targets = random_case(rng, 4, 3, integer_boxes=False, coarse_scores=False)
    result = evaluate_detections(predictions, targets, ["circle", "square", "triangle"])
    for path in (plot_pr_curves(result, tmp_path / "pr.png"),
                 plot_confusion_matrix(result, tmp_path / "confusion.png")):
        with open(path, "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"
