"""The training advice: each rule against splits whose numbers are worked out by hand."""

from pathlib import Path

import numpy as np

from ildl.detect.advice import (
        batch_advice,
    crowded_images_advice,
    imbalance_advice,
    object_sides,
    training_advice,
    young_model_advice,
)
from ildl.detect.dataset import Example, Split
from ildl.detect.inference import MAX_DETECTIONS


def split_of(*images) -> Split:
    """A split of (size, boxes cx cy w h, classes) images; no files are read."""
    return Split("train", ["tree", "bush"], [
        Example(Path(f"{index}.png"), Path(f"{index}.txt"), size,
                np.asarray(classes, np.int64), np.asarray(boxes, np.float32).reshape(-1, 4))
        for index, (size, boxes, classes) in enumerate(images)])


def test_object_sides_are_in_pixels_of_the_letterboxed_input():
    # 800x400 image at imgsz 320: scale 0.4; a box 0.1 x 0.1 of it is 80x40 px -> 32x16
    split = split_of(((800, 400), [[0.5, 0.5, 0.1, 0.1]], [0]), ((100, 100), [], []))
    np.testing.assert_allclose(object_sides(split, 320), [[32.0, 16.0]])


def test_small_objects_ask_for_a_larger_input_or_tiles():
    # 2000x2000 orthophoto, crowns of 20 px -> 3.2 px at 320: below 8
    split = split_of(((2000, 2000), [[0.5, 0.5, 0.01, 0.01]] * 3, [0, 0, 0]))
    advice = training_advice(split, imgsz=320, batch=1)
    assert len(advice) == 1 and "3.2 pixels or less" in advice[0]
    # 320 * 8 / 3.2 = 800, a multiple of 32
    assert "--imgsz 800" in advice[0] and "ildl detect convert --tile 320" in advice[0]
    assert training_advice(split, imgsz=800, batch=1) == []  # 8.0 px: enough


def test_crowded_images_batch_and_imbalance():
    assert crowded_images_advice([10, MAX_DETECTIONS]) is None
    advice = crowded_images_advice([574, 10, 301])
    assert advice.startswith("2 training image(s) hold more than 300 objects (up to 574)")
    assert batch_advice(64, 32) is None
    assert batch_advice(36, 32) == ("--batch 32 with 36 training images gives 1 optimizer "
                                    "step(s) per epoch: few steps per minute of training; "
                                    "try --batch 9")
    assert imbalance_advice({"tree": 100, "bush": 11}) is None
    assert imbalance_advice({"tree": 100, "bush": 10, "rock": 0}).startswith(
        "class 'bush' has 10 training objects and 'tree' 100")
    assert imbalance_advice({"tree": 100, "bush": 0}) is None  # one class present


def test_a_detector_below_map50_0_05_is_called_too_young_to_detect():
    young = young_model_advice([{"epoch": 1, "map50": 0.0}, {"epoch": 2, "map50": 0.049}])
    assert young.startswith("the best validation mAP50 after 2 epoch(s) is 0.049: this "
                            "detector is too young to detect") and "--epochs 100" in young
    assert young_model_advice([{"epoch": 1, "map50": 0.0}, {"epoch": 2, "map50": 0.05}]) is None
    # Unmeasured (a val split without labels) or no history: nothing to judge by.
    assert young_model_advice([{"epoch": 1, "map50": float("nan")}]) is None
    assert young_model_advice([]) is None
