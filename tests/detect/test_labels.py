"""ildl.detect.labels: YOLO label lines, each bad one named with its file and line.

Strict mode raises the first bad line; the default skips it, counts it and keeps the file's
other objects. Boxes a little outside the image are clipped; polygons become their boxes.
"""

import numpy as np
import pytest
from detect_dataset_files import NAMES, tiny_dataset

from ildl.detect.dataset import DetectionDataset
from ildl.detect.labels import parse_label_line, read_labels
from ildl.detect.problems import DatasetError

pytest.importorskip("yaml")

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



@pytest.mark.parametrize("line, edges", [("0 1.005 0.5 0.002 0.2", "x 1.0000..1.0000"),
                                         ("0 0.5 -0.005 0.2 0.002", "y 0.0000..0.0000")])
def test_a_box_within_the_tolerance_but_wholly_outside_leaves_nothing_and_is_refused(line, edges):
    # inside the tolerance (edges 1.004..1.006), so clipped: nothing of it is left in the image
    with pytest.raises(ValueError, match=rf"non-positive size: nothing left inside the image: "
                                         rf".*{edges}"):
        parse_label_line(line, NAMES)


def test_read_labels_gives_arrays_and_the_problems_of_bad_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("1 0.5 0.4 0.2 0.3\n"  # as written
                    "0 0.995 0.5 0.02 0.2\n"  # x from 0.985 to 1.005: clipped to 0.985..1
                    "\n"
                    "2 0.1 0.1 0.3 0.1 0.2 0.4\n"  # a triangle: x 0.1..0.3, y 0.1..0.4
                    "5 0.5 0.5 0.1 0.1\n")
    classes, boxes, problems = read_labels(path, NAMES)
    assert classes.dtype == np.int64 and classes.tolist() == [1, 0, 2]
    assert boxes.dtype == np.float32 and boxes.shape == (3, 4)
    np.testing.assert_allclose(boxes, [[0.5, 0.4, 0.2, 0.3], [0.9925, 0.5, 0.015, 0.2],
                                       [0.2, 0.25, 0.2, 0.3]], rtol=1e-6)
    assert [(p.path, p.line, p.reason) for p in problems] == [(str(path), 5, "class out of range")]
    classes, boxes, problems = read_labels(tmp_path / "missing.txt", NAMES)  # no objects
    assert classes.shape == (0,) and boxes.shape == (0, 4) and problems == []


def test_an_undecodable_label_file_raises_naming_it(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"0 0.5 0.5 0.1 0.1\n\xff\xfe")
    with pytest.raises(DatasetError, match=r"a\.txt: unreadable label file: .*utf-8") as error:
        read_labels(path, NAMES)
    assert error.value.problem.reason == "unreadable label file"


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

