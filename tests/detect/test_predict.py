"""``ildl detect predict``: outputs never land on an input, images of the same name in different
subfolders keep their own outputs, bad thresholds are refused before anything is written, and
boxes are drawn legibly on big images."""

import json
import os

import numpy as np
import pytest

pytest.importorskip("torch")
from PIL import Image  # noqa: E402

from ildl.cli import main  # noqa: E402


@pytest.fixture
def images(tmp_path):
    """A folder of images: a/x.png, a/x.jpg and b/x.png, each of its own size."""
    sizes = {"a/x.png": (40, 30), "a/x.jpg": (50, 30), "b/x.png": (60, 30)}
    for name, size in sizes.items():
        (tmp_path / "images" / os.path.dirname(name)).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (90, 120, 150)).save(tmp_path / "images" / name)
    return tmp_path / "images", sizes


def predict(weights, source, out, *options) -> int:
    return main(["detect", "predict", "--weights", weights, "--source", str(source), "--out",
                 str(out), *options])


def test_images_of_the_same_name_in_subfolders_keep_their_own_outputs(
        images, tmp_path, make_checkpoint, capsys):
    folder, sizes = images
    weights = make_checkpoint(tmp_path / "best.pt")
    out = tmp_path / "out"
    assert predict(weights, folder, out) == 0
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())
    # a/x.png and a/x.jpg would both be a/x.png: they keep their whole name
    assert written == ["a/x.jpg.png", "a/x.png.png", "b/x.png", "detections.json"]
    for output, source in (("a/x.jpg.png", "a/x.jpg"), ("a/x.png.png", "a/x.png"),
                           ("b/x.png", "b/x.png")):
        with Image.open(out / output) as image:  # each drawn on its own source
            assert image.size == sizes[source]
    records = json.loads((out / "detections.json").read_text())
    assert sorted(os.path.relpath(r["source"], folder) for r in records) == sorted(sizes)
    assert "3 image(s)/frame(s)" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["is", "is inside", "contains"])
def test_an_out_that_overlaps_the_source_folder_is_refused(
        where, images, tmp_path, make_checkpoint, file_hashes, capsys):
    folder, _ = images
    weights = make_checkpoint(tmp_path / "best.pt")
    out = {"is": folder, "is inside": folder / "a" / "predictions", "contains": tmp_path}[where]
    before = file_hashes(tmp_path)
    assert predict(weights, folder, out) == 2
    error = capsys.readouterr().err
    assert error == (f"ildl: error: --out {out.resolve()} {where} the source folder "
                     f"{folder.resolve()}: annotated images would be written among the inputs; "
                     "choose an --out outside it\n")
    assert file_hashes(tmp_path) == before


def test_an_annotated_copy_that_would_replace_its_source_file_is_refused(
        images, tmp_path, make_checkpoint, file_hashes, capsys):
    folder, _ = images
    weights = make_checkpoint(tmp_path / "best.pt")
    before = file_hashes(tmp_path)
    assert predict(weights, folder / "b" / "x.png", folder / "b") == 2
    assert "would replace the source" in capsys.readouterr().err
    assert file_hashes(tmp_path) == before


@pytest.mark.parametrize("options, message", [
    (["--conf", "2"], "--conf 2.0 is not valid: score_threshold must be a number from 0 to 1"),
    (["--conf", "nan"], "--conf nan is not valid: score_threshold must be a number from 0 to 1"),
    (["--iou", "-1"], "--iou -1.0 is not valid: iou_threshold must be a number from 0 to 1"),
])
def test_bad_thresholds_are_refused_before_anything_is_written(
        options, message, images, tmp_path, make_checkpoint, capsys):
    folder, _ = images
    weights = make_checkpoint(tmp_path / "best.pt")
    assert predict(weights, folder, tmp_path / "out", *options) == 2
    assert capsys.readouterr().err == f"ildl: error: {message}\n"
    assert not (tmp_path / "out").exists()


def test_a_missing_source_or_an_out_that_is_a_file_is_refused(images, tmp_path, make_checkpoint,
                                                               capsys):
    folder, _ = images
    weights = make_checkpoint(tmp_path / "best.pt")
    assert predict(weights, tmp_path / "nothing", tmp_path / "out") == 2
    assert "--source" in capsys.readouterr().err and not (tmp_path / "out").exists()
    (tmp_path / "notes.txt").write_text("keep me")
    assert predict(weights, folder, tmp_path / "notes.txt") == 2
    assert "notes.txt' is a file" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_big_image_gets_large_labels_and_many_boxes_get_outlines_only():
    from ildl.detect.predict import MAX_LABELLED, draw_detections

    def drawn(side, boxes):
        found = {"boxes": np.array(boxes, dtype=float), "scores": np.full(len(boxes), 0.5),
                 "classes": np.zeros(len(boxes), dtype=int)}
        return draw_detections(np.zeros((side, side, 3), np.uint8), found, ["tree"]).any(axis=2)

    # one box at y 100..140: its label is a filled band just above it, as tall as the text
    def label_height(side):
        column = drawn(side, [[100, 100, 140, 140]])[:100, 102]
        return int(column.sum())

    assert label_height(320) < 20 and label_height(2560) > 2 * label_height(320)
    # past MAX_LABELLED boxes, nothing is drawn outside the boxes
    grid = [[x, y, x + 20, y + 20] for x in range(40, 1000, 60) for y in range(40, 600, 60)]
    assert len(grid) > MAX_LABELLED
    painted = drawn(1000, grid)
    inside = np.zeros_like(painted)
    for x1, y1, x2, y2 in grid:
        inside[y1:y2 + 1, x1:x2 + 1] = True
    assert painted.any() and not (painted & ~inside).any()
    # lines no thicker than a tenth of a 20-pixel box (2 px), though the image asks for 6
    assert painted[50, 40:50].sum() == 2


def test_a_label_at_the_top_or_right_edge_is_moved_into_the_image_whole():
    from ildl.detect.predict import draw_detections

    def drawn(box, side=200):
        found = {"boxes": np.array([box], dtype=float), "scores": np.array([0.5]),
                 "classes": np.array([0])}
        return draw_detections(np.zeros((side, side, 3), np.uint8), found, ["triangle"])

    # the reference: the label of a box in the middle, on the box's top edge above it
    middle = drawn([60, 80, 140, 140])
    painted = middle[:80].any(axis=2)
    rows, columns = np.nonzero(painted.any(axis=1))[0], np.nonzero(painted.any(axis=0))[0]
    label = middle[rows[0]:80, columns[0]:columns[-1] + 1]
    height, width = label.shape[:2]
    assert rows[-1] == 79 and columns[0] == 60 and 8 < height < 20 and width > 40
    # a box touching the top: the same label, inside the box under its top edge
    np.testing.assert_array_equal(drawn([60, 0, 140, 60])[:height, 60:60 + width], label)
    # a box touching the right side: the same label, ending at the image's last column
    np.testing.assert_array_equal(drawn([170, 80, 199, 140])[80 - height:80, 200 - width:], label)


def test_labels_of_close_boxes_do_not_cover_each_other():
    from ildl.detect.boxes import box_intersection
    from ildl.detect.predict import label_positions

    size = np.array([[40.0, 10.0]])
    # alone with room above: on the top edge; at the image's top: inside the box, at its top
    assert label_positions(np.array([[50.0, 50, 90, 90]]), size, (200, 200)).tolist() == \
        [[50, 40]]
    assert label_positions(np.array([[50.0, 4, 90, 90]]), size, (200, 200)).tolist() == [[50, 4]]
    # off the right side: shifted left; wider than the image: its start shows
    assert label_positions(np.array([[180.0, 50, 199, 90]]), size, (200, 200)).tolist() == \
        [[160, 40]]
    assert label_positions(np.array([[10.0, 50, 30, 90]]), size, (200, 30)).tolist() == [[0, 40]]
    # four boxes on the same spot: above, inside at the top, under, inside at the bottom, the
    # most confident first (order)
    same = np.array([[50.0, 50, 90, 90]] * 4)
    placed = label_positions(same, np.repeat(size, 4, axis=0), (200, 200),
                             order=np.array([2, 0, 3, 1]))
    assert placed[:, 1].tolist() == [50, 80, 40, 90]
    corners = np.hstack([placed, placed + size])
    overlaps = box_intersection(corners, corners)
    assert np.all(overlaps[~np.eye(4, dtype=bool)] == 0)
    # a fifth has no free spot: it takes the least covered one, never off the image
    fifth = label_positions(np.array([[50.0, 50, 90, 90]] * 5), np.repeat(size, 5, axis=0),
                            (200, 200))
    assert ((fifth >= 0) & (fifth + size <= 200)).all()


def test_a_lower_scored_box_on_the_same_spot_labels_itself_under_its_box():
    from ildl.detect.predict import draw_detections

    found = {"boxes": np.array([[60.0, 60, 100, 100], [61.0, 61, 101, 101]]),
             "scores": np.array([0.3, 0.9]), "classes": np.array([0, 1])}
    painted = draw_detections(np.zeros((200, 200, 3), np.uint8), found, ["a", "b"])
    filled = painted.any(axis=2)  # a label is a filled band with black text on it
    # the 0.9 label over the boxes' top edges, the 0.3 label under their bottom edges
    assert filled[50:60, 62:85].mean() > 0.6 and filled[103:112, 62:85].mean() > 0.6
    alone = draw_detections(np.zeros((200, 200, 3), np.uint8),
                            {key: value[1:] for key, value in found.items()}, ["a", "b"])
    assert alone[103:112, 62:85].any(axis=2).mean() == 0
