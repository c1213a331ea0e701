"""ildl.data.shapes: synthetic detection scenes, YOLO datasets and videos.

Boxes must be the boxes of the visible pixels, classes must not be guessable from colour, the
written files must read back unchanged, and everything must repeat with a seed.
"""

import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from ildl.data.shapes import (
    DEFAULT_CLASSES,
    SHAPES,
    Shape,
    instance_map,
    make_scene,
    make_video,
    mask_boxes,
    read_masks,
    render,
    write_dataset,
)


def scenes(count, seed=0, **options):
    rng = np.random.default_rng(seed)
    return [make_scene(rng, **options) for _ in range(count)]


def box_of(mask):
    """The box around a mask's pixels, in pixels: (x0, y0, x1, y1), pixel edges."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=float)


def test_scene_shapes_and_types():
    image, boxes, classes, masks = make_scene(np.random.default_rng(1), size=(96, 128))
    assert image.shape == (96, 128, 3) and image.dtype == np.uint8
    assert boxes.shape == (len(classes), 4) and boxes.dtype == np.float32
    assert classes.dtype == np.int64 and masks.shape == (len(classes), 96, 128)
    assert masks.dtype == bool


def test_same_seed_same_scene_and_other_seed_other_scene():
    first, again, other = scenes(3, seed=7), scenes(3, seed=7), scenes(3, seed=8)
    for a, b in zip(first, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0].image, other[0].image)


def test_boxes_are_the_boxes_of_the_visible_pixels():
    for image, boxes, classes, masks in scenes(40, seed=2):
        height, width = image.shape[:2]
        assert len(boxes) == len(classes) == len(masks)
        assert masks.sum(axis=0).max(initial=0) <= 1  # visible parts never overlap
        for box, mask in zip(boxes, masks):
            cx, cy, w, h = box
            corners = np.array([(cx - w / 2) * width, (cy - h / 2) * height,
                                (cx + w / 2) * width, (cy + h / 2) * height])
            np.testing.assert_allclose(corners, box_of(mask), atol=1.0)
            assert mask.sum() >= 12 and 0 < w <= 1 and 0 < h <= 1


def test_objects_are_painted_where_their_masks_are():
    # the pixels of a visible mask differ from the background around them: a drawn object
    image, _, _, masks = make_scene(np.random.default_rng(3), clutter=False, max_objects=1,
                                    empty_probability=0, min_scale=0.3)
    assert len(masks) == 1
    inside = image[masks[0]].astype(float).mean(axis=0)
    outside = image[~masks[0]].astype(float).mean(axis=0)
    assert np.linalg.norm(inside - outside) > 20


def test_a_hidden_object_is_neither_labelled_nor_painted():
    rng = np.random.default_rng(0)
    square = SHAPES["square"](rng)
    base = dict(outline=square, angle=0.0, squash=1.0, style="solid", direction=0.0,
                second=np.zeros(3))
    bottom = Shape(label=0, x=50, y=50, radius=10, colour=np.array([255.0, 0, 0]), **base)
    top = Shape(label=1, x=50, y=50, radius=30, colour=np.array([0, 0, 255.0]), **base)
    background = np.full((100, 100, 3), 128.0)
    image, masks, labels, kept = render([bottom, top], background)
    assert kept == [1] and labels.tolist() == [1] and len(masks) == 1
    assert not np.any(np.all(image == [255, 0, 0], axis=-1))  # no red pixel anywhere
    # moved aside, it is only partly hidden: both count and the red shows
    bottom.x = 85
    image, masks, labels, kept = render([bottom, top], background)
    assert kept == [0, 1] and np.any(np.all(image == [255, 0, 0], axis=-1))
    assert not np.any(masks[0] & masks[1])


def test_classes_are_balanced_and_images_sometimes_empty():
    found = scenes(300, seed=4)
    counts = np.bincount(np.concatenate([s.classes for s in found]), minlength=3)
    assert counts.sum() > 600
    assert np.all(counts / counts.sum() > 0.27), counts
    empty = sum(len(s.classes) == 0 for s in found)
    assert 5 <= empty <= 60  # 8% are drawn empty; a few more lose every object to occlusion
    assert all(len(s.classes) == 0 for s in scenes(5, empty_probability=1.0))


def test_scales_range_from_small_to_large():
    sides = np.concatenate([np.maximum(s.boxes[:, 2], s.boxes[:, 3]) for s in scenes(150)])
    assert sides.min() < 0.08 and sides.max() > 0.4


def test_class_cannot_be_told_from_colour():
    # nearest-centroid on an object's mean colour should be no better than chance (1/3)
    colours, labels = [], []
    for image, _, classes, masks in scenes(200, seed=5):
        for label, mask in zip(classes, masks):
            colours.append(image[mask].mean(axis=0))
            labels.append(label)
    colours, labels = np.array(colours), np.array(labels)
    half = len(labels) // 2
    centroids = np.array([colours[:half][labels[:half] == k].mean(axis=0) for k in range(3)])
    guess = np.argmin(((colours[half:, None] - centroids) ** 2).sum(axis=-1), axis=1)
    assert np.mean(guess == labels[half:]) < 0.45


def test_more_classes_and_bad_options():
    names = ("star", "cross", "hexagon", "circle")
    classes = np.concatenate([s.classes for s in scenes(60, classes=names)])
    assert set(classes.tolist()) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="classes"):
        make_scene(np.random.default_rng(0), classes=("circle", "blob"))
    with pytest.raises(ValueError, match="32"):
        make_scene(np.random.default_rng(0), size=16)
    with pytest.raises(ValueError, match="max_objects"):
        make_scene(np.random.default_rng(0), max_objects=0)


def test_instance_map_round_trip(tmp_path):
    _, _, _, masks = make_scene(np.random.default_rng(6), empty_probability=0)
    Image.fromarray(instance_map(masks)).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_masks(tmp_path / "m.png"), masks)


def test_write_dataset_layout_labels_and_masks(tmp_path):
    yaml = pytest.importorskip("yaml")
    path = write_dataset(tmp_path / "shapes", n_train=10, n_val=4, size=64, seed=3)
    config = yaml.safe_load(path.read_text())
    assert config["train"] == "images/train" and config["val"] == "images/val"
    assert config["nc"] == 3 and config["names"] == dict(enumerate(DEFAULT_CLASSES))
    root = tmp_path / "shapes"
    assert len(list((root / "images" / "train").glob("*.png"))) == 10
    assert len(list((root / "labels" / "val").glob("*.txt"))) == 4
    for label in (root / "labels" / "train").glob("*.txt"):
        lines = [line.split() for line in label.read_text().splitlines()]
        masks = read_masks(root / "masks" / "train" / (label.stem + ".png"))
        assert len(lines) == len(masks)
        for fields, box in zip(lines, mask_boxes(masks)):
            assert len(fields) == 5 and all(len(f.split(".")[1]) == 6 for f in fields[1:])
            np.testing.assert_allclose([float(f) for f in fields[1:]], box, atol=1e-6)
        image = Image.open(root / "images" / "train" / (label.stem + ".png"))
        assert image.size == (64, 64) and image.mode == "RGB"


def test_write_dataset_is_deterministic_and_val_does_not_depend_on_train(tmp_path):
    write_dataset(tmp_path / "a", n_train=3, n_val=2, size=48, seed=1)
    write_dataset(tmp_path / "b", n_train=5, n_val=2, size=48, seed=1, workers=1)
    for name in ("images/val/000001.png", "labels/val/000001.txt", "images/train/000002.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_write_dataset_refuses_to_overwrite_unless_asked(tmp_path):
    write_dataset(tmp_path, n_train=4, n_val=1, size=48)
    with pytest.raises(FileExistsError, match="overwrite"):
        write_dataset(tmp_path, n_train=2, n_val=1, size=48)
    write_dataset(tmp_path, n_train=2, n_val=1, size=48, overwrite=True, image_format="jpg")
    assert sorted(p.name for p in (tmp_path / "images" / "train").iterdir()) == \
        ["000000.jpg", "000001.jpg"]  # nothing left over from the first, larger dataset
    assert not list(tmp_path.glob(".tmp-*"))


def test_write_dataset_is_fast(tmp_path):
    start = time.perf_counter()
    write_dataset(tmp_path, n_train=100, n_val=0, size=160)
    assert time.perf_counter() - start < 5  # 1000 images take about 8 s on 2 cores


def test_video_moves_objects_and_repeats(tmp_path):
    video = make_video(tmp_path / "v.gif", n_frames=12, size=96, n_objects=3, seed=2)
    again = make_video(n_frames=12, size=96, n_objects=3, seed=2)
    assert len(video.frames) == len(video.boxes) == len(video.tracks) == 12
    assert video.frames[0].shape == (96, 96, 3)
    assert all(np.array_equal(a, b) for a, b in zip(video.frames, again.frames))
    assert (tmp_path / "v.gif").stat().st_size > 1000
    assert not np.array_equal(video.frames[0], video.frames[-1])
    # a track's box moves a little from one frame to the next (no teleporting)
    for before, after, tb, ta in zip(video.boxes, video.boxes[1:], video.tracks,
                                     video.tracks[1:]):
        for track in set(tb.tolist()) & set(ta.tolist()):
            step = np.abs(before[tb == track][0, :2] - after[ta == track][0, :2])
            assert step.max() < 0.2
    assert set(np.concatenate(video.classes).tolist()) == {0, 1, 2}


def test_a_video_path_that_is_not_gif_or_mp4_is_refused_before_any_frame(tmp_path, monkeypatch):
    import ildl.data.shapes

    monkeypatch.setattr(ildl.data.shapes, "render", None)  # drawing a frame would fail
    with pytest.raises(ValueError, match=r"must end in \.gif or \.mp4, got .*v\.avi"):
        make_video(tmp_path / "v.avi", n_frames=2)
    assert list(tmp_path.iterdir()) == []


def test_shapes_does_not_import_torch():
    code = "import sys, ildl.data.shapes; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
