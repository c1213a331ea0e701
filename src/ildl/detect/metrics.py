"""Detection metrics as COCO defines them: AP, mAP@0.5, mAP@0.5:0.95, precision, recall, confusion.

A detector answers "what is where, and how sure am I?" with boxes, classes and scores. To grade it
we decide, image by image, which detections found a real object (true positives, TP) and which did
not (false positives, FP); objects nobody found are false negatives (FN). Then:

- **precision** = TP / (TP + FP): of the boxes we drew, the fraction that were right;
- **recall** = TP / (TP + FN) = TP / (number of objects): of the objects, the fraction we found.

**Matching** (per image and class, as pycocotools' ``COCOeval`` does): detections are taken in
descending score order; each claims the still-unclaimed ground-truth box (GT) of its class with
the highest IoU, if that IoU is at least the threshold (equal IoUs: the later GT in the list wins,
as in COCOeval). A GT is claimed once, so a duplicate detection of an object is a false positive.
Only the ``max_detections`` (100) highest-scoring detections per image and class count.

**Average precision (AP)** of a class summarises every score threshold at once: sort all its
detections over the data set by score, walk down the list, and after each one write down
(recall, precision). That is the precision-recall (PR) curve. AP is the area under it, computed the
COCO way: first make precision non-increasing (replace each value by the best precision at any
higher recall, since a user would simply pick that better operating point), then read it at the
101 recalls 0, 0.01, ..., 1 and average. Recalls the detector never reaches count as precision 0.
Sampling at fixed points (rather than at every detection) makes the number stable against tiny
wiggles in the curve and identical across implementations; 101 points is COCO's choice (Pascal VOC
2007 used 11).

**mAP** is the mean AP over classes. Classes with no ground-truth box in the data set are left out
(their recall is undefined), as COCO does. ``mAP@0.5`` matches at IoU >= 0.5, ``mAP@0.75`` at 0.75,
and ``mAP@0.5:0.95`` (COCO's main number) averages the APs at the ten IoU thresholds
0.50, 0.55, ..., 0.95, rewarding boxes that fit tightly.

**Precision and recall** as single numbers need one score threshold. Like Ultralytics' ``val``, we
choose the threshold that maximises the F1 score (2PR / (P + R)) averaged over classes, at IoU 0.5,
and report every class's P and R there (Ultralytics reads smoothed curves on a 1000-point grid; we
try every detection score exactly, so the numbers can differ a little). Pass ``score_threshold``
to fix it instead.

The **confusion matrix** (rows: true class, columns: predicted class, last row and column:
background) uses the same threshold and the IoU-0.5 matches: a true positive of class c adds to
cell (c, c). A leftover detection that overlaps (IoU >= 0.5) a leftover object of another class
counts as that confusion (largest IoU first); remaining objects are missed (true class, predicted
background) and remaining detections are false alarms (true background, predicted class). So the
diagonal divided by the row sum is each class's recall, and divided by the column sum its
precision, exactly as reported.

Everything is NumPy; boxes are xyxy in pixels (see ``ildl.detect.boxes``). A flipped box
(x2 < x1 or y2 < y1) has area 0 and matches nothing (COCOeval would give it a negative area).

>>> result = evaluate_detections(predictions, targets, ["circle", "square"])  # doctest: +SKIP
>>> print(result.table())                                                     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from .boxes import box_iou

#: COCO's IoU thresholds 0.50, 0.55, ..., 0.95 (linspace, as COCOeval: arange drifts off 0.95).
IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
#: COCO's 101 recall points 0, 0.01, ..., 1 at which precision is read.
RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)
#: COCO's limit on detections per image and class (COCOeval's largest maxDets).
MAX_DETECTIONS = 100

_IOU_50 = 0  # index of IoU 0.5 in IOU_THRESHOLDS
_IOU_75 = 5  # index of IoU 0.75


# ----------------------------------------------------------------------------------------------
# Reading inputs


def _field(item, name: str):
    """``item[name]`` for a mapping (dict), ``item.name`` for any other object."""
    if isinstance(item, Mapping):
        return item[name]
    return getattr(item, name)


def _read_image(item, num_classes: int, with_scores: bool, what: str):
    """Boxes (N, 4) float64, classes (N,) int64 and, for predictions, scores (N,) float64."""
    boxes = np.asarray(_field(item, "boxes"), dtype=np.float64).reshape(-1, 4)
    classes = np.asarray(_field(item, "classes")).reshape(-1)
    if classes.size and not np.all(classes == np.round(classes)):
        raise ArgumentError(f"{what}: class ids must be whole numbers, got {classes}")
    classes = classes.astype(np.int64)
    if len(classes) != len(boxes):
        raise ArgumentError(f"{what}: {len(boxes)} boxes but {len(classes)} classes")
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ArgumentError(f"{what}: class ids must be in [0, {num_classes}), got {classes}")
    if not with_scores:
        return boxes, classes
    scores = np.asarray(_field(item, "scores"), dtype=np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ArgumentError(f"{what}: {len(boxes)} boxes but {len(scores)} scores")
    return boxes, classes, scores


# ----------------------------------------------------------------------------------------------
# Matching and average precision


def match_detections(ious: np.ndarray, iou_thresholds: np.ndarray = IOU_THRESHOLDS) -> np.ndarray:
    """COCO's greedy matching of one image and class.

    ``ious`` is the (D, G) IoU matrix of D detections, already sorted by descending score, and G
    ground-truth boxes. Returns a (T, D) array: for each IoU threshold, the index of the GT each
    detection matched, or -1 for a false positive.
    """
    num_dets, num_gts = ious.shape
    num_thresholds = len(iou_thresholds)
    matches = np.full((num_thresholds, num_dets), -1, dtype=np.int64)
    if num_gts == 0:
        return matches
    # COCOeval caps a threshold of 1 just below it, so that a perfect box still matches there.
    needed = np.minimum(iou_thresholds, 1 - 1e-10)
    # Each threshold is a separate matching; the rows of `claimed` run them side by side.
    claimed = np.zeros((num_thresholds, num_gts), dtype=bool)
    rows = np.arange(num_thresholds)
    for d in range(num_dets):
        available = np.where(claimed, -1.0, ious[d])  # (T, G): IoUs with still-free GTs
        # Among equal best IoUs COCOeval keeps the last GT it saw: search the reversed rows.
        best_gt = num_gts - 1 - np.argmax(available[:, ::-1], axis=1)
        hit = available[rows, best_gt] >= needed
        claimed[rows[hit], best_gt[hit]] = True
        matches[hit, d] = best_gt[hit]
    return matches


def precision_recall_curve(scores: np.ndarray, true_positive: np.ndarray,
                           num_gt: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw PR curve of one class over the data set.

    ``scores`` (D,) and ``true_positive`` (T, D) hold every detection of the class; ``num_gt`` > 0
    is the number of ground-truth boxes. Returns scores sorted descending, precision (T, D) and
    recall (T, D): entry i is measured over the i + 1 highest-scoring detections.
    """
    # A stable sort keeps equal scores in input order (image by image), as COCOeval's mergesort.
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(true_positive[:, order], axis=1, dtype=np.float64)
    fp = np.cumsum(~true_positive[:, order], axis=1, dtype=np.float64)
    return scores[order], tp / np.maximum(tp + fp, 1), tp / num_gt


def interpolated_precision(precision: np.ndarray, recall: np.ndarray,
                           recall_points: np.ndarray = RECALL_THRESHOLDS) -> np.ndarray:
    """COCO's interpolated precision of one PR curve (1-D arrays) at ``recall_points``.

    The curve is first made non-increasing from the right (each precision becomes the best one
    at equal or higher recall); then, for each recall point r, we take the first detection whose
    recall reaches r. Recall points beyond the curve's final recall get precision 0.
    """
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    index = np.searchsorted(recall, recall_points, side="left")
    reached = index < len(recall)
    sampled = np.zeros(len(recall_points))
    sampled[reached] = envelope[index[reached]]
    return sampled


def best_f1_threshold(scores: Sequence[np.ndarray], true_positive: Sequence[np.ndarray],
                      num_gt: np.ndarray) -> float:
    """The score threshold maximising the mean F1 over classes that have ground truth.

    ``scores[k]`` and ``true_positive[k]`` hold class k's detections (any order) and whether each
    matched at IoU 0.5. Every detection score is tried as a threshold (keep scores >= it); among
    equal F1s the highest threshold wins (fewer boxes for the same quality). Returns 0.0 when
    there are no detections.
    """
    all_scores = np.concatenate([np.asarray(s, dtype=np.float64) for s in scores] + [[]])
    if all_scores.size == 0:
        return 0.0
    candidates = np.unique(all_scores)[::-1]  # descending
    f1_sum = np.zeros(len(candidates))
    for class_scores, class_tp, n_gt in zip(scores, true_positive, num_gt):
        if n_gt == 0 or len(class_scores) == 0:
            continue  # no GT: left out of the mean; no detections: F1 is 0 at every threshold
        precision, recall = _precision_recall_at(class_scores, class_tp, n_gt, candidates)
        f1_sum += _f1(precision, recall)
    return float(candidates[int(np.argmax(f1_sum))])


def _precision_recall_at(scores: np.ndarray, true_positive: np.ndarray, num_gt: int,
                         thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of one class keeping detections with score >= each threshold."""
    order = np.argsort(-scores, kind="mergesort")
    tp_cumulative = np.concatenate([[0], np.cumsum(true_positive[order])])
    # -scores is ascending, so the count of scores >= c is a right-side binary search for -c.
    kept = np.searchsorted(-scores[order], -np.asarray(thresholds, dtype=np.float64), side="right")
    tp = tp_cumulative[kept]
    precision = np.divide(tp, kept, out=np.zeros(len(kept)), where=kept > 0)
    recall = tp / num_gt if num_gt > 0 else np.zeros(len(kept))
    return precision, recall


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)


# ----------------------------------------------------------------------------------------------
# The result


@dataclass
class DetectionMetrics:
    """Evaluation of a detector on a data set (K classes, T = 10 IoU thresholds, R = 101 recalls).

    Per-class arrays hold NaN for classes without ground truth; the ``map*`` means skip them.
    """

    class_names: tuple[str, ...]
    #: (T, R, K) interpolated precision at RECALL_THRESHOLDS (COCOeval's ``eval['precision']``).
    precision_curves: np.ndarray
    #: (T, K) average precision per IoU threshold and class.
    ap: np.ndarray
    #: (K,) precision and recall at ``score_threshold`` and IoU 0.5.
    precision: np.ndarray
    recall: np.ndarray
    score_threshold: float
    #: (K + 1, K + 1) counts; rows true class, columns predicted class, index K = background.
    confusion: np.ndarray
    #: (K,) images containing the class, and its number of ground-truth boxes.
    images: np.ndarray
    instances: np.ndarray
    num_images: int
    iou_thresholds: np.ndarray = field(default_factory=lambda: IOU_THRESHOLDS.copy())
    recall_thresholds: np.ndarray = field(default_factory=lambda: RECALL_THRESHOLDS.copy())

    @property
    def has_gt(self) -> np.ndarray:
        """(K,) True for classes with at least one ground-truth box (those in the means)."""
        return self.instances > 0

    @property
    def ap50(self) -> np.ndarray:
        return self.ap[_IOU_50]

    @property
    def ap75(self) -> np.ndarray:
        return self.ap[_IOU_75]

    @property
    def ap50_95(self) -> np.ndarray:
        return self.ap.mean(axis=0)

    @property
    def f1(self) -> np.ndarray:
        return _f1(self.precision, self.recall)

    def _mean(self, values: np.ndarray) -> float:
        # NaN when no class has ground truth (COCOeval prints -1 there).
        return float(values[self.has_gt].mean()) if self.has_gt.any() else float("nan")

    @property
    def map50(self) -> float:
        """mAP@0.5: mean AP at IoU 0.5 over classes with ground truth (COCOeval's stats[1])."""
        return self._mean(self.ap50)

    @property
    def map75(self) -> float:
        """mAP@0.75 (COCOeval's stats[2])."""
        return self._mean(self.ap75)

    @property
    def map50_95(self) -> float:
        """mAP@0.5:0.95, mean over classes and the ten IoU thresholds (COCOeval's stats[0])."""
        return self._mean(self.ap50_95)

    @property
    def mean_precision(self) -> float:
        return self._mean(self.precision)

    @property
    def mean_recall(self) -> float:
        return self._mean(self.recall)

    def summary(self) -> dict[str, float]:
        """The overall numbers as a flat dict (for logs, JSON and early stopping)."""
        return {"precision": self.mean_precision, "recall": self.mean_recall,
                "mAP50": self.map50, "mAP75": self.map75, "mAP50-95": self.map50_95,
                "score_threshold": self.score_threshold}

    def table(self, markdown: bool = False) -> str:
        """Per-class results like Ultralytics' ``val`` output: class, images, instances, P, R,
        mAP50, mAP50-95; first row "all" (means over classes with ground truth). Classes without
        ground truth show "-" (they are left out of the means, as COCO does)."""
        header = ["Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95"]
        rows = [["all", str(self.num_images), str(int(self.instances.sum())),
                 *(_number(v) for v in (self.mean_precision, self.mean_recall, self.map50,
                                        self.map50_95))]]
        for k, name in enumerate(self.class_names):
            values = (self.precision[k], self.recall[k], self.ap50[k], self.ap50_95[k])
            rows.append([name, str(int(self.images[k])), str(int(self.instances[k])),
                         *(_number(v) if self.has_gt[k] else "-" for v in values)])
        if markdown:
            lines = ["| " + " | ".join(header) + " |",
                     "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
        else:
            width = max(12, *(len(row[0]) for row in rows))
            widths = [width] + [10] * (len(header) - 1)
            lines = ["".join(cell.rjust(w) for cell, w in zip(line, widths))
                     for line in [header, *rows]]
        return "\n".join(lines)


def _number(value: float) -> str:
    return "nan" if np.isnan(value) else f"{value:.3f}"


# ----------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class _Image:
    """What the evaluator keeps per image after matching."""

    det_boxes: np.ndarray  # (D, 4) detections that count (top max_detections per class)
    det_classes: np.ndarray  # (D,)
    det_scores: np.ndarray  # (D,)
    matches: np.ndarray  # (T, D) index of the matched GT in gt_boxes, or -1
    gt_boxes: np.ndarray  # (G, 4)
    gt_classes: np.ndarray  # (G,)


class DetectionEvaluator:
    """Collects predictions and ground truth image by image, then computes the metrics.

    >>> evaluator = DetectionEvaluator(["circle", "square"])                  # doctest: +SKIP
    >>> for prediction, target in zip(predictions, targets):                  # doctest: +SKIP
    ...     evaluator.add(prediction, target)
    >>> result = evaluator.compute()                                          # doctest: +SKIP

    A prediction has ``boxes`` (N, 4, xyxy pixels), ``scores`` (N,) and ``classes`` (N,); a target
    has ``boxes`` (M, 4) and ``classes`` (M,): dict keys or attributes, any array-like.
    ``max_detections``: the highest-scoring detections per image and class that count (COCO's
    100); ``None`` counts them all (a tiled aerial photo holds hundreds of trees).
    """

    def __init__(self, class_names: Sequence[str], max_detections: int | None = MAX_DETECTIONS):
        self.class_names = tuple(class_names)
        self.max_detections = max_detections
        self._images: list[_Image] = []

    def add(self, prediction, target) -> None:
        """Match one image's predictions to its ground truth and keep the result."""
        what = f"image {len(self._images)}"
        num_classes = len(self.class_names)
        boxes, classes, scores = _read_image(prediction, num_classes, True, what + " prediction")
        gt_boxes, gt_classes = _read_image(target, num_classes, False, what + " target")
        kept_parts, match_parts = [], []
        for c in np.unique(classes):
            index = np.flatnonzero(classes == c)
            # Highest score first (stable for ties, as COCOeval), at most max_detections.
            index = index[np.argsort(-scores[index], kind="mergesort")][: self.max_detections]
            gt_index = np.flatnonzero(gt_classes == c)
            matched = match_detections(box_iou(boxes[index], gt_boxes[gt_index]))
            # Translate "k-th GT of this class" back to the GT's index in the image.
            in_image = np.full(matched.shape, -1, dtype=np.int64)
            in_image[matched >= 0] = gt_index[matched[matched >= 0]]
            match_parts.append(in_image)
            kept_parts.append(index)
        kept = np.concatenate(kept_parts + [np.zeros(0, dtype=np.int64)])
        matches = np.concatenate(match_parts + [np.zeros((len(IOU_THRESHOLDS), 0), np.int64)],
                                 axis=1)
        self._images.append(_Image(boxes[kept], classes[kept], scores[kept], matches,
                                   gt_boxes, gt_classes))

    def compute(self, score_threshold: float | None = None) -> DetectionMetrics:
        """The metrics over every image added so far (see the module docstring)."""
        num_classes = len(self.class_names)
        instances = np.zeros(num_classes, dtype=np.int64)
        images = np.zeros(num_classes, dtype=np.int64)
        for image in self._images:
            instances += np.bincount(image.gt_classes, minlength=num_classes)
            images[np.unique(image.gt_classes)] += 1
        scores, true_positive = zip(*(self._class_detections(c) for c in range(num_classes)))

        curves = np.full((len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS), num_classes), np.nan)
        for c in range(num_classes):
            if instances[c] == 0:
                continue
            _, precision, recall = precision_recall_curve(scores[c], true_positive[c],
                                                          instances[c])
            for t in range(len(IOU_THRESHOLDS)):
                curves[t, :, c] = interpolated_precision(precision[t], recall[t])
        ap = curves.mean(axis=1)

        tp50 = [tp[_IOU_50] for tp in true_positive]
        if score_threshold is None:
            score_threshold = best_f1_threshold(scores, tp50, instances)
        precision_at = np.full(num_classes, np.nan)
        recall_at = np.full(num_classes, np.nan)
        for c in range(num_classes):
            if instances[c] > 0:
                p, r = _precision_recall_at(scores[c], tp50[c], instances[c], [score_threshold])
                precision_at[c], recall_at[c] = p[0], r[0]
        return DetectionMetrics(
            class_names=self.class_names, precision_curves=curves, ap=ap,
            precision=precision_at, recall=recall_at, score_threshold=float(score_threshold),
            confusion=self._confusion(score_threshold), images=images, instances=instances,
            num_images=len(self._images))

    def _class_detections(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores (D,) and true-positive flags (T, D) of class c's detections over all images,
        in image order (COCOeval concatenates them by image id before its stable sort, so ties
        between images resolve the same way)."""
        scores = [np.zeros(0)]
        hits = [np.zeros((len(IOU_THRESHOLDS), 0), dtype=bool)]
        for image in self._images:
            mine = image.det_classes == c
            scores.append(image.det_scores[mine])
            hits.append(image.matches[:, mine] >= 0)
        return np.concatenate(scores), np.concatenate(hits, axis=1)

    def _confusion(self, score_threshold: float) -> np.ndarray:
        num_classes = len(self.class_names)
        matrix = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
        for image in self._images:
            keep = image.det_scores >= score_threshold
            _confusion_of_image(matrix, image.det_boxes[keep], image.det_classes[keep],
                                image.matches[_IOU_50, keep], image.gt_boxes, image.gt_classes)
        return matrix


def _confusion_of_image(matrix: np.ndarray, boxes: np.ndarray, classes: np.ndarray,
                        matches: np.ndarray, gt_boxes: np.ndarray, gt_classes: np.ndarray,
                        iou_threshold: float = 0.5) -> None:
    """Add one image's counts to ``matrix`` (see the module docstring for the rules)."""
    background = matrix.shape[0] - 1
    gt_free = np.ones(len(gt_boxes), dtype=bool)
    gt_free[matches[matches >= 0]] = False
    det_free = matches < 0
    np.add.at(matrix, (classes[~det_free], classes[~det_free]), 1)
    # Leftover detections on leftover objects (necessarily of another class): largest IoU first.
    det_left, gt_left = np.flatnonzero(det_free), np.flatnonzero(gt_free)
    ious = box_iou(boxes[det_left], gt_boxes[gt_left])
    for flat in np.argsort(-ious, axis=None, kind="mergesort"):
        d, g = np.unravel_index(flat, ious.shape)
        if ious[d, g] < iou_threshold:
            break
        if det_free[det_left[d]] and gt_free[gt_left[g]]:
            det_free[det_left[d]] = gt_free[gt_left[g]] = False
            matrix[gt_classes[gt_left[g]], classes[det_left[d]]] += 1
    np.add.at(matrix, (gt_classes[gt_free], background), 1)
    np.add.at(matrix, (background, classes[det_free]), 1)


def evaluate_detections(predictions: Iterable, targets: Iterable, class_names: Sequence[str], *,
                        score_threshold: float | None = None,
                        max_detections: int = MAX_DETECTIONS) -> DetectionMetrics:
    """Evaluate a detector's predictions against ground truth, one entry per image in each.

    See ``DetectionEvaluator`` for the input format and the module docstring for the
    definitions. ``score_threshold`` fixes the threshold for precision, recall and the confusion
    matrix (default: the one maximising mean F1); AP and mAP never depend on it.
    """
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ArgumentError(f"{len(predictions)} predictions but {len(targets)} targets: "
                            "give one of each per image")
    evaluator = DetectionEvaluator(class_names, max_detections=max_detections)
    for prediction, target in zip(predictions, targets):
        evaluator.add(prediction, target)
    return evaluator.compute(score_threshold=score_threshold)


# ----------------------------------------------------------------------------------------------
# Figures


def _class_colors(count: int) -> list:
    from matplotlib import colormaps

    from ..graphics import SERIES_COLORS

    if count <= len(SERIES_COLORS):
        return list(SERIES_COLORS[:count])
    return [colormaps["tab20"](i % 20) for i in range(count)]


def pr_curves_figure(result: DetectionMetrics, theme: str = "dark"):
    """Left: each class's interpolated PR curve at IoU 0.5 (the area under it is AP@0.5) and their
    mean. Right: each class's AP against the IoU threshold (its mean is AP@0.5:0.95).
    Returns a matplotlib Figure (not registered with pyplot)."""
    from matplotlib.figure import Figure

    from ..graphics import themed

    shown = np.flatnonzero(result.has_gt)
    colors = _class_colors(len(result.class_names))
    with themed(theme):
        figure = Figure(figsize=(11, 4.8), layout="constrained")
        pr_axes, iou_axes = figure.subplots(1, 2)
        legend = len(shown) <= 20  # more names than that would hide the curves
        for k in shown:
            label = f"{result.class_names[k]}  {result.ap50[k]:.3f}"
            pr_axes.plot(result.recall_thresholds, result.precision_curves[_IOU_50, :, k],
                         color=colors[k], linewidth=1.2, label=label)
            iou_axes.plot(result.iou_thresholds, result.ap[:, k], marker="o", markersize=3,
                          color=colors[k], linewidth=1.2,
                          label=f"{result.class_names[k]}  {result.ap50_95[k]:.3f}")
        if len(shown):
            mean_curve = result.precision_curves[_IOU_50][:, shown].mean(axis=1)
            pr_axes.plot(result.recall_thresholds, mean_curve, color="#4285f4", linewidth=3,
                         label=f"all classes  mAP@0.5 = {result.map50:.3f}")
            iou_axes.plot(result.iou_thresholds, result.ap[:, shown].mean(axis=1), marker="o",
                          color="#4285f4", linewidth=3,
                          label=f"all classes  mAP@0.5:0.95 = {result.map50_95:.3f}")
        pr_axes.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision",
                    title="Precision-recall curves at IoU 0.5 (101-point interpolated)")
        iou_axes.set(xlim=(0.48, 0.97), ylim=(0, 1.02), xlabel="IoU threshold",
                     ylabel="average precision", title="AP as the match gets stricter")
        for axes, title in ((pr_axes, "AP@0.5"), (iou_axes, "AP@0.5:0.95")):
            axes.grid(alpha=0.3)
            if legend and len(shown):
                axes.legend(loc="lower left", fontsize=8, title=title, title_fontsize=8)
    return figure


def confusion_matrix_figure(result: DetectionMetrics, normalize: bool = True,
                            theme: str = "dark"):
    """The confusion matrix as a heat map: rows true class, columns predicted class, with a
    background row (false alarms) and column (missed objects). ``normalize`` divides each row by
    its sum (so a class's diagonal cell is its recall); cells show the counts too.
    Returns a matplotlib Figure (not registered with pyplot)."""
    from matplotlib.figure import Figure

    from ..graphics import SURFACE_CMAP, themed

    names = [*result.class_names, "background"]
    counts = result.confusion
    row_sums = counts.sum(axis=1, keepdims=True)
    values = np.divide(counts, row_sums, out=np.zeros(counts.shape), where=row_sums > 0) \
        if normalize else counts.astype(np.float64)
    size = min(4 + 0.6 * len(names), 16)
    with themed(theme):
        figure = Figure(figsize=(size + 1.5, size), layout="constrained")
        axes = figure.subplots()
        image = axes.imshow(values, cmap=SURFACE_CMAP, vmin=0,
                            vmax=1 if normalize else max(1, values.max()))
        figure.colorbar(image, ax=axes, shrink=0.8,
                        label="fraction of the true class's row" if normalize else "count")
        if len(names) <= 16:  # beyond that the numbers no longer fit in the cells
            for (row, column), count in np.ndenumerate(counts):
                if count == 0:
                    continue
                text = f"{values[row, column]:.2f}\n({count})" if normalize else str(count)
                dark_cell = values[row, column] < 0.6 * (1 if normalize else values.max())
                axes.text(column, row, text, ha="center", va="center", fontsize=8,
                          color="white" if dark_cell else "black")
        axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
        axes.set_yticks(range(len(names)), names)
        axes.set(xlabel="predicted class", ylabel="true class",
                 title=f"Confusion matrix (IoU >= 0.5, score >= {result.score_threshold:.3f})")
    return figure


def plot_pr_curves(result: DetectionMetrics, path: str | os.PathLike,
                   theme: str = "dark") -> str:
    """Write ``pr_curves_figure(result)`` to ``path`` (format from its suffix); returns the path."""
    from ..graphics import save_figure

    return save_figure(pr_curves_figure(result, theme=theme), path, dpi=110)


def plot_confusion_matrix(result: DetectionMetrics, path: str | os.PathLike,
                          normalize: bool = True, theme: str = "dark") -> str:
    """Write ``confusion_matrix_figure(result)`` to ``path``; returns the path."""
    from ..graphics import save_figure

    return save_figure(confusion_matrix_figure(result, normalize=normalize, theme=theme), path,
                       dpi=110)
