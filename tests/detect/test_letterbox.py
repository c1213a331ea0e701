"""ildl.detect.letterbox: images fitted into the square, boxes mapped there and back.
"""

import numpy as np
import pytest
from detect_dataset_files import GOOD_LABEL, cxcywh_to_xyxy, make_dataset, tiny_dataset
from PIL import Image

from ildl.detect.dataset import DetectionDataset
from ildl.detect.letterbox import Letterbox, letterbox

pytest.importorskip("yaml")


def test_letterbox_pads_the_short_side_and_boxes_follow(tmp_path):
    # a 40 x 30 image with an object filling its middle half; letterboxed to 80 px
    path = tiny_dataset(tmp_path, ["1 0.5 0.5 0.5 0.5\n"], size=(40, 30))
    data = DetectionDataset(path, imgsz=80, augment=False)
    image, targets = data.sample(0)
    assert image.shape == (80, 80, 3)
    assert np.all(image[:10] == 114) and np.all(image[-10:] == 114)  # 30 * 2 = 60 rows + 2 * 10
    np.testing.assert_allclose(targets, [[1, 0.5, 0.5, 0.5, 0.375]], atol=1e-6)
    fit = data.letterbox_of(0)
    assert fit == Letterbox((40, 30), (80, 60), 0, 10)
    back = fit.to_original(cxcywh_to_xyxy(targets[:, 1:], 80, 80))
    np.testing.assert_allclose(back, [[10, 7.5, 30, 22.5]], atol=1e-5)


def test_letterbox_function_on_a_tall_image():
    square, fit = letterbox(np.zeros((100, 50, 3), np.uint8), 64)
    assert square.shape == (64, 64, 3) and fit.resized == (32, 64) and fit.pad_x == 16



def test_boxes_reaching_into_the_padding_map_back_clipped_to_the_original():
    fit = Letterbox.fit((40, 30), 80)  # scaled by 2 to 80 x 60, 10 grey rows above and below
    assert fit == Letterbox((40, 30), (80, 60), 0, 10)
    square = np.array([[-4.0, 0, 84, 80], [20, 20, 60, 50]])
    # (x - 0) / 2 and (y - 10) / 2: the first is (-2, -5, 42, 35), cut to the 40 x 30 image
    np.testing.assert_array_equal(fit.to_original(square), [[0, 0, 40, 30], [10, 5, 30, 20]])
    np.testing.assert_array_equal(fit.to_square(np.array([[0.5, 0.5, 1.0, 1.0]])),
                                  [[0, 10, 80, 70]])


@pytest.mark.parametrize("size", [(4000, 2), (2, 4000), (3, 1000)])
def test_extreme_aspect_ratios_are_letterboxed(tmp_path, size):
    strip = Image.new("RGB", size, (0, 0, 0))
    label = "0 0.5 0.5 0.5 1.0\n" if size[0] > size[1] else "0 0.5 0.5 1.0 0.5\n"
    path = make_dataset(tmp_path, train={"strip.png": (strip, label),
                                         "z.png": (Image.new("RGB", (40, 30)), GOOD_LABEL)})
    square, fit = letterbox(np.zeros((size[1], size[0], 3), np.uint8), 64)
    # the longer side becomes 64 px, the other 1 px (not 0), centred in the square
    painted = np.argwhere((square != 114).any(axis=2))
    long_axis = 1 if size[0] > size[1] else 0
    assert set(painted[:, 1 - long_axis]) == {(64 - 1) // 2}
    assert len(set(painted[:, long_axis])) == 64
    for augment in (False, True):  # the mosaic, zoom and flips too
        data = DetectionDataset(path, imgsz=64, augment=augment, seed=1)
        for epoch in range(3):
            data.set_epoch(epoch)
            for i in range(len(data)):
                image, targets = data.sample(i)
                assert image.shape == (64, 64, 3) and np.isfinite(targets).all()

