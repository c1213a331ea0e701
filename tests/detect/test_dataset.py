"""ildl.detect.dataset: reading YOLO-layout datasets, validating them, augmenting and batching.

Every kind of bad label or image gets a message naming the file and the line; strict mode
raises it, the default skips the item and counts it. Augmentations must move boxes exactly as
they move pixels.
"""

import numpy as np
import pytest
from PIL import Image

from ildl.data.shapes import make_scene, mask_boxes, read_masks, write_dataset
from ildl.detect.boxes import cxcywh_to_xyxy as _corners
from ildl.detect.boxes import normalized_to_pixels, pixels_to_normalized
from ildl.detect.boxes import xyxy_to_cxcywh as _centres
from ildl.detect.dataset import (
    Augment,
    DatasetError,
    DetectionDataset,
    Letterbox,
    colour_jitter,
    flip_left_right,
    flip_up_down,
    label_path,
    letterbox,
    load_data_yaml,
    mosaic,
    parse_label_line,
    random_affine,
)

pytest.importorskip("yaml")
NAMES = ["circle", "square", "triangle"]
YAML = "path: {root}\ntrain: images/train\nval: images/val\nnames: [circle, square, triangle]\n"


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """A small synthetic dataset: 8 train and 4 val images of 64 px."""
    return write_dataset(tmp_path_factory.mktemp("shapes"), n_train=8, n_val=4, size=64, seed=5)


def tiny_dataset(root, labels, size=(40, 30)):
    """A dataset with one image per entry of ``labels`` (label file text, or None for none)."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    for i, text in enumerate(labels):
        Image.new("RGB", size, (i * 40, 90, 200)).save(root / "images" / "train" / f"{i}.png")
        if text is not None:
            (root / "labels" / "train" / f"{i}.txt").write_text(text)
    Image.new("RGB", size).save(root / "images" / "val" / "0.png")
    (root / "data.yaml").write_text(YAML.format(root=root))
    return root / "data.yaml"


# --- data.yaml and file lookup ---------------------------------------------------------------


def test_synthetic_dataset_reads_back_exactly(shapes):
    data = DetectionDataset(shapes, "train", imgsz=64, augment=False)
    assert len(data) == 8 and data.names == NAMES
    root = shapes.parent
    for example in data.split.examples:
        masks = read_masks(root / "masks" / "train" / (example.image.stem + ".png"))
        np.testing.assert_allclose(example.boxes, mask_boxes(masks), atol=1e-6)
        image, targets = data.sample(data.split.examples.index(example))
        np.testing.assert_array_equal(image, np.asarray(Image.open(example.image)))
        np.testing.assert_allclose(targets[:, 1:], mask_boxes(masks), atol=1e-5)
        np.testing.assert_array_equal(targets[:, 0], example.classes)
    assert data.summary()["problems"] == {} and data.summary()["skipped_images"] == 0


def test_label_path_replaces_the_last_images_folder():
    assert label_path("/d/images/train/a.b.jpg").as_posix() == "/d/labels/train/a.b.txt"
    assert label_path("/images/x/images/train/a.png").as_posix() == "/images/x/labels/train/a.txt"
    assert label_path("/d/photos/a.png").as_posix() == "/d/photos/a.txt"


def test_yaml_variants(tmp_path):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n"])
    # names as a dict, no path (the yaml's folder), train given as a .txt list
    (tmp_path / "train.txt").write_text("./images/train/0.png\n")
    (tmp_path / "data2.yaml").write_text("train: train.txt\nval: images/val\n"
                                         "names: {0: a, 1: b, 2: c}\nnc: 3\n")
    config = load_data_yaml(tmp_path / "data2.yaml")
    assert config.names == ["a", "b", "c"] and config.root == tmp_path
    assert config.splits["train"] == [tmp_path / "images" / "train" / "0.png"]
    # a moved dataset: its absolute path is gone, the yaml's folder has the images
    path.write_text(YAML.format(root="/no/such/folder"))
    assert load_data_yaml(path).root == tmp_path


@pytest.mark.parametrize("text, message", [
    ("train: images/train\nnames: [a]\nnc: 2\n", "nc is 2"),
    ("train: images/train\nnames: {0: a, 2: b}\n", "ids must be 0..1"),
    ("train: images/train\n", "needs 'names'"),
    ("train: nowhere\nnames: [a]\n", "train: .*nowhere"),
    ("names: [a]\n", "needs 'train'"),
    ("train: [images/train\n", "data.yaml:2: not valid YAML"),
])
def test_bad_yaml_is_explained(tmp_path, text, message):
    tiny_dataset(tmp_path, [])
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_data_yaml(tmp_path / "data.yaml")


def test_missing_split_is_explained(tmp_path):
    path = tiny_dataset(tmp_path, [])
    with pytest.raises(DatasetError, match="no 'test' split"):
        DetectionDataset(path, "test")


# --- validation ------------------------------------------------------------------------------

BAD_LINES = [
    ("0 0.5 0.5 0.2", "malformed line", "expected 5 numbers"),
    ("0 0.5 0.5 0.2 0.2 0.1", "malformed line", "got 6 values"),
    ("0 a 0.5 0.2 0.2", "malformed line", "not all numbers"),
    ("0 nan 0.5 0.2 0.2", "malformed line", "not finite"),
    ("1.5 0.5 0.5 0.2 0.2", "malformed line", "integer"),
    ("3 0.5 0.5 0.2 0.2", "class out of range", r"0\.\.2 \(0 circle, 1 square, 2 triangle\)"),
    ("-1 0.5 0.5 0.2 0.2", "class out of range", "class id -1"),
    ("0 0.95 0.5 0.2 0.2", "box outside image", r"x 0\.8500\.\.1\.0500"),
    ("0 1.2 0.5 0.1 0.1", "box outside image", "must lie in"),
    ("0 0.5 0.5 0 0.2", "non-positive size", "w=0"),
    ("0 0.5 0.5 0.2 -0.1", "non-positive size", "h=-0.1"),
]


@pytest.mark.parametrize("line, reason, detail", BAD_LINES)
def test_a_bad_line_raises_in_strict_mode_with_file_and_line(tmp_path, line, reason, detail):
    path = tiny_dataset(tmp_path, [f"1 0.5 0.5 0.2 0.2\n{line}\n"])
    with pytest.raises(DatasetError, match=rf"labels/train/0\.txt:2: {reason}: .*{detail}"):
        DetectionDataset(path, strict=True)


@pytest.mark.parametrize("line, reason, detail", BAD_LINES)
def test_a_bad_line_is_skipped_and_counted_by_default(tmp_path, line, reason, detail):
    path = tiny_dataset(tmp_path, [f"1 0.5 0.5 0.2 0.2\n{line}\n2 0.3 0.3 0.1 0.1\n"])
    data = DetectionDataset(path, augment=False)
    summary = data.summary()
    assert summary["problems"] == {reason: 1} and summary["skipped_lines"] == 1
    assert summary["images"] == 1 and summary["objects"] == 2  # the good lines stay
    assert data.split.examples[0].classes.tolist() == [1, 2]
    assert data.split.problems[0].line == 2
    assert f"0.txt:2: {reason}" in data.format_summary()


def test_small_overshoot_is_clipped_and_polygons_become_boxes():
    cls, box = parse_label_line("0 0.5 0.5 1.008 0.2", NAMES)
    np.testing.assert_allclose(box, (0.5, 0.5, 1.0, 0.2))
    cls, box = parse_label_line("2 0.1 0.1 0.3 0.1 0.2 0.4", NAMES)
    assert cls == 2
    np.testing.assert_allclose(box, (0.2, 0.25, 0.2, 0.3))
    with pytest.raises(ValueError, match="class out of range"):
        parse_label_line("9 0.5 0.5 0.1 0.1", NAMES)


@pytest.mark.parametrize("content", [b"not an image at all", "truncated"])
def test_a_corrupt_image_raises_in_strict_mode_and_is_skipped_by_default(tmp_path, content):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n", "1 0.5 0.5 0.2 0.2\n"])
    bad = tmp_path / "images" / "train" / "1.png"
    if content == "truncated":
        content = bad.read_bytes()[:-20]  # the end of the PNG (its IEND chunk) is cut off
    bad.write_bytes(content)
    with pytest.raises(DatasetError, match=r"images/train/1\.png: unreadable image"):
        DetectionDataset(path, strict=True)
    data = DetectionDataset(path)
    summary = data.summary()
    assert summary["images"] == 1 and summary["skipped_images"] == 1
    assert summary["problems"] == {"unreadable image": 1} and summary["skipped_lines"] == 0
    assert "1 images" in data.format_summary().splitlines()[1]


def test_an_undecodable_label_file_skips_its_image(tmp_path):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n", None])
    (tmp_path / "labels" / "train" / "1.txt").write_bytes(b"\xff\xfe\x00garbage")
    data = DetectionDataset(path)
    assert data.summary()["problems"] == {"unreadable label file": 1} and len(data) == 1


def test_a_missing_label_file_is_an_image_without_objects(tmp_path):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n", None, ""])
    data = DetectionDataset(path, strict=True, augment=False)  # not an error, even when strict
    summary = data.summary()
    assert summary["images"] == 3 and summary["missing_label_files"] == 1
    assert summary["background_images"] == 2 and summary["problems"] == {}
    assert data.sample(1)[1].shape == (0, 5)
    assert "1 without a label file" in data.format_summary()


# --- letterbox -------------------------------------------------------------------------------


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


# --- augmentation ----------------------------------------------------------------------------


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


def test_augmented_samples_are_valid_reproducible_and_vary_by_epoch(shapes):
    data = DetectionDataset(shapes, "train", imgsz=64, seed=3)
    assert data.augment == Augment()
    first = [data.sample(i) for i in range(len(data))]
    again = [data.sample(i) for i in range(len(data))]
    data.set_epoch(1)
    other = [data.sample(i) for i in range(len(data))]
    for (image, targets), (image2, targets2) in zip(first, again):
        assert np.array_equal(image, image2) and np.array_equal(targets, targets2)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other))
    for image, targets in first + other:
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert targets.shape[1] == 5 and np.all(np.isin(targets[:, 0], [0, 1, 2]))
        corners = cxcywh_to_xyxy(targets[:, 1:], 1, 1)
        assert np.all(corners >= -1e-6) and np.all(corners <= 1 + 1e-6)
        assert np.all(targets[:, 3:] * 64 >= 2 - 1e-4)
    assert DetectionDataset(shapes, "val", imgsz=64).augment is None


def test_cache_gives_the_same_samples(shapes):
    plain = DetectionDataset(shapes, "train", imgsz=64)
    cached = DetectionDataset(shapes, "train", imgsz=64, cache=True)
    for i in range(len(plain)):
        a, b = plain.sample(i), cached.sample(i)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_box_conversions_round_trip():
    boxes = np.array([[0.5, 0.4, 0.2, 0.6], [0.1, 0.9, 0.05, 0.1]], dtype=np.float32)
    np.testing.assert_allclose(xyxy_to_cxcywh(cxcywh_to_xyxy(boxes, 40, 30), 40, 30), boxes,
                               atol=1e-6)


# --- tensors and batches ---------------------------------------------------------------------


def test_items_and_collate(shapes):
    torch = pytest.importorskip("torch")
    from ildl.detect.dataset import collate

    data = DetectionDataset(shapes, "val", imgsz=64)
    image, targets = data[0]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1
    assert targets.dtype == torch.float32 and targets.shape[1] == 5
    empty = (torch.zeros(3, 64, 64), torch.zeros(0, 5))
    two = (torch.ones(3, 64, 64), torch.tensor([[1, .5, .5, .2, .2], [2, .3, .3, .1, .1]]))
    images, rows = collate([two, empty, two])
    assert images.shape == (3, 3, 64, 64) and rows.shape == (4, 6)
    assert rows[:, 0].tolist() == [0, 0, 2, 2] and rows[2, 1:].tolist() == two[1][0].tolist()
    assert collate([empty])[1].shape == (0, 6)
    loader = torch.utils.data.DataLoader(DetectionDataset(shapes, "train", imgsz=64),
                                         batch_size=3, collate_fn=collate)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [3, 3, 2]


def test_reading_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, ildl.detect.dataset; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def cxcywh_to_xyxy(boxes, width, height):
    """Normalised centre/size -> pixel corners (composed from ildl.detect.boxes)."""
    return normalized_to_pixels(_corners(boxes), width, height)


def xyxy_to_cxcywh(boxes, width, height):
    """Pixel corners -> normalised centre/size."""
    return pixels_to_normalized(_centres(boxes), width, height)
