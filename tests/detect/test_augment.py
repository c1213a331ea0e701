"""ildl.detect.augment: every augmentation must move boxes exactly as it moves pixels.

The reference is the pixels themselves: each object's mask goes through the same step, and the
box around what remains of it must be the box the step returned.
"""

import numpy as np
import pytest
from detect_dataset_files import cxcywh_to_xyxy

from ildl.data.shapes import make_scene, mask_boxes
from ildl.detect.augment import colour_jitter, flip_left_right, flip_up_down, mosaic, random_affine


def scene_with_objects(seed):
    return make_scene(np.random.default_rng(seed), size=96, empty_probability=0, max_objects=4)


def mask_pixels_box(mask):
    """Pixel box of a bool mask, or None when empty."""
    if not mask.any():
        return None
    return cxcywh_to_xyxy(mask_boxes(mask[None]), mask.shape[1], mask.shape[0])[0]


def test_flips_move_boxes_with_the_pixels():
    image, boxes, _, masks = scene_with_objects(1)
    xyxy = cxcywh_to_xyxy(boxes, 96, 96)
    for flip in (flip_left_right, flip_up_down):
        flipped, flipped_boxes = flip(image, xyxy)
        assert np.array_equal(flip(flipped, flipped_boxes)[0], image)
        for mask, box in zip(masks, flipped_boxes):
            mask_image = flip(np.repeat(mask[..., None], 3, axis=2), xyxy)[0][..., 0]
            np.testing.assert_allclose(box, mask_pixels_box(mask_image), atol=1e-4)


@pytest.mark.parametrize("scale, shift", [(1.0, (0, 0)), (0.6, (5, -7)), (1.4, (-9.5, 3)),
                                          (1.0, (20, 20))])
def test_scale_and_translate_move_boxes_with_the_pixels(scale, shift):
    tolerance = 1 + scale  # a source pixel: thin tips can fade below the threshold
    for seed in range(6):
        image, boxes, _, masks = scene_with_objects(seed)
        xyxy = cxcywh_to_xyxy(boxes, 96, 96)
        ids = np.arange(len(boxes))  # passed as classes: they tell which boxes were kept
        _, kept_ids, kept = random_affine(image, ids, xyxy, scale, shift)
        for i, box in zip(kept_ids, kept):
            mask_image = np.repeat(masks[i][..., None] * 255, 3, axis=2).astype(np.uint8)
            moved_mask = random_affine(mask_image, ids[:1], xyxy[:1], scale, shift)[0][..., 0]
            expected = mask_pixels_box(moved_mask > 127)
            moved_box = scale * (xyxy[i] - 48) + 48 + np.array([*shift, *shift])
            if moved_box.min() >= 0 and moved_box.max() <= 96:  # not cut by the border
                np.testing.assert_allclose(box, expected, atol=tolerance)
            else:  # cut: the clipped box holds what remains (loosely, unless a rectangle)
                assert np.all(box[:2] <= expected[:2] + tolerance)
                assert np.all(box[2:] >= expected[2:] - tolerance)


@pytest.mark.parametrize("scale, shift", [(1.0, (7, -3)), (2.0, (0, 0)), (0.5, (4, 2))])
def test_scale_and_translate_are_exact_for_rectangles(scale, shift):
    # pixel edges map to pixel edges here, so the moved rectangle is exactly the moved box
    image = np.zeros((96, 96, 3), np.uint8)
    image[30:50, 40:60] = 255
    moved, _, kept = random_affine(image, np.array([0]), np.array([[40.0, 30, 60, 50]]), scale,
                                   shift)
    np.testing.assert_allclose(kept[0], mask_pixels_box(moved[..., 0] > 127), atol=1e-4)


def test_boxes_that_leave_the_image_are_dropped():
    image = np.zeros((100, 100, 3), np.uint8)
    boxes = np.array([[10.0, 10, 20, 20], [45, 45, 55, 55]])
    _, classes, kept = random_affine(image, np.array([0, 1]), boxes, 1.0, (85, 0))
    # the first moves to x 95..105: 5 of 10 px remain (kept, clipped); the second leaves
    assert classes.tolist() == [0]
    np.testing.assert_allclose(kept, [[95, 10, 100, 20]])


def test_mosaic_puts_each_image_in_its_quarter():
    side = 64
    backgrounds = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0)]
    tiles = []
    for k, colour in enumerate(backgrounds):
        image = np.full((side, side, 3), colour, dtype=np.uint8)
        box = np.array([[8.0 * k + 4, 20, 8.0 * k + 24, 44]])  # a rectangle in the tile's colour
        image[20:44, int(box[0, 0]):int(box[0, 2])] = (255, 255, 10 * k)
        tiles.append((image, np.array([k]), box))
    markers = [tile[0][20, 8 * k + 4] for k, tile in enumerate(tiles)]
    for seed in range(25):
        canvas, classes, boxes = mosaic(tiles, np.random.default_rng(seed))
        assert canvas.shape == (side, side, 3)
        for k, (colour, marker) in enumerate(zip(backgrounds, markers)):
            own = np.all(canvas == colour, axis=-1) | np.all(canvas == marker, axis=-1)
            marker_pixels = np.all(canvas == marker, axis=-1)
            if k in classes.tolist():
                box = boxes[classes.tolist().index(k)]
                # the box is exactly the visible rectangle, inside this image's quarter
                np.testing.assert_allclose(box, mask_pixels_box(marker_pixels), atol=1e-4)
                x0, y0, x1, y1 = box.astype(int)
                assert own[y0:y1, x0:x1].all()
            else:  # dropped: at most a sliver of it shows
                sides = mask_pixels_box(marker_pixels)
                assert sides is None or min(sides[2:] - sides[:2]) < 2 or \
                    marker_pixels.sum() < 0.1 * 20 * 24


def test_colour_jitter_keeps_greys_and_matches_hsv_for_pure_colours():
    import colorsys

    image = scene_with_objects(2)[0]
    assert np.array_equal(colour_jitter(image, 0.0, 1.0, 1.0), image)
    grey = np.full((4, 4, 3), 114, np.uint8)
    assert np.abs(colour_jitter(grey, 0.3, 1.5, 1.0).astype(int) - 114).max() <= 1
    assert colour_jitter(image, 0.0, 1.0, 0.5).mean() < image.mean() * 0.6
    # a third of a turn takes red to green and green to blue, as in HSV
    for rgb, expected in [((200, 0, 0), (0, 200, 0)), ((0, 200, 0), (0, 0, 200))]:
        turned = colour_jitter(np.array([[rgb]], np.uint8), 1 / 3, 1.0, 1.0)[0, 0] / 200
        np.testing.assert_allclose(turned, np.array(expected) / 200, atol=0.01)
        hue = colorsys.rgb_to_hsv(*turned)[0]
        assert hue == pytest.approx((colorsys.rgb_to_hsv(*np.array(rgb) / 200)[0] + 1 / 3) % 1,
                                    abs=0.01)
    # a small turn moves the HSV hue of a saturated colour by about as much
    orange = np.array([[[230, 120, 30]]], np.uint8)
    before = colorsys.rgb_to_hsv(*(orange[0, 0] / 255))[0]
    after = colorsys.rgb_to_hsv(*(colour_jitter(orange, 0.02, 1.0, 1.0)[0, 0] / 255))[0]
    assert after - before == pytest.approx(0.02, abs=0.01)

