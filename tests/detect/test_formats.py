"""The readers of labelling tools' formats (detect/formats): boxes read from small files written
here, against coordinates worked out by hand, and every bad input reported with its place."""

import json
from pathlib import Path

import numpy as np
import pytest
from label_files import deepforest_data, voc_xml, write_image

from ildl.detect.formats import read_coco, read_csv, read_voc, read_yolo
from ildl.detect.problems import DatasetError

# --- VOC ---------------------------------------------------------------------------------------

def test_voc_boxes_as_written_and_difficult_left_out(tmp_path):
    write_image(tmp_path / "a.png", 100, 80)
    (tmp_path / "a.xml").write_text(voc_xml("a.png", [("cat", 10, 20, 50, 60),
                                                      ("dog", 0, 0, 100, 80),
                                                      ("cat", 5, 5, 9, 9, 1)]))
    found = read_voc(tmp_path)
    (image,) = found.images
    assert (image.width, image.height) == (100, 80) and image.path == tmp_path / "a.png"
    np.testing.assert_array_equal(image.boxes, [[10, 20, 50, 60], [0, 0, 100, 80]])
    assert image.names == ["cat", "dog"]
    assert found.left_out == {"difficult (VOC)": 1} and not found.problems


def test_voc_images_apart_and_size_read_from_the_image(tmp_path):
    write_image(tmp_path / "photos" / "b.jpg", 64, 48)
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "b.xml").write_text(voc_xml("b.jpg", [("cat", 1, 2, 3, 4)], size=None))
    (image,) = read_voc(tmp_path / "xml", images=tmp_path / "photos").images
    assert (image.width, image.height) == (64, 48)


@pytest.mark.parametrize("box, reason", [((10, 20, 150, 60), "box outside image"),
                                         ((50, 20, 10, 60), "non-positive size"),
                                         ((10, 20, 10, 60), "non-positive size"),
                                         (("ten", 20, 50, 60), "malformed annotation")])
def test_voc_bad_object_reported_with_its_element(tmp_path, box, reason):
    write_image(tmp_path / "a.png", 100, 80)
    (tmp_path / "a.xml").write_text(voc_xml("a.png", [("cat", 1, 1, 5, 5), ("dog", *box)]))
    found = read_voc(tmp_path)
    (problem,) = found.problems
    assert problem.reason == reason and problem.path == str(tmp_path / "a.xml")
    assert str(problem).startswith(f"{tmp_path / 'a.xml'}: {reason}: <object> 2 ('dog'): ")
    assert found.images[0].names == ["cat"]  # the file's good object kept


def test_voc_missing_image_malformed_xml_and_no_size(tmp_path):
    (tmp_path / "gone.xml").write_text(voc_xml("gone.png", [("cat", 1, 1, 5, 5)]))
    (tmp_path / "broken.xml").write_text("<annotation>\n<filename>x.png</filename>\n<size>")
    (tmp_path / "nosize.png").write_bytes(b"not an image")
    (tmp_path / "nosize.xml").write_text(voc_xml("nosize.png", [], size=None))
    (tmp_path / "other.xml").write_text("<svg></svg>")
    found = read_voc(tmp_path)
    problems = {Path(p.path).name: p for p in found.problems}
    assert not found.images
    assert problems["broken.xml"].reason == "malformed XML" and problems["broken.xml"].line == 3
    assert problems["gone.xml"].reason == "missing image" and "--images" in \
        problems["gone.xml"].detail
    assert problems["nosize.xml"].reason == "no image size" and "<size>" in \
        problems["nosize.xml"].detail
    assert problems["other.xml"].reason == "not a VOC annotation"


def test_voc_empty_folder_refused(tmp_path):
    with pytest.raises(DatasetError, match="holds no .xml files"):
        read_voc(tmp_path)


def test_voc_deepforest_soap():
    found = read_voc(deepforest_data() / "SOAP_061.xml")
    (image,) = found.images
    assert (image.width, image.height) == (400, 400) and len(image.names) == 37
    assert sorted(set(image.names)) == ["Alive", "Dead"]
    np.testing.assert_array_equal(image.boxes[:2], [[149, 105, 173, 129], [382, 4, 395, 20]])


# --- COCO --------------------------------------------------------------------------------------

def coco_file(tmp_path: Path, annotations: list, images: list | None = None) -> Path:
    write_image(tmp_path / "images" / "a.png", 100, 80)
    write_image(tmp_path / "images" / "empty.png", 50, 50)
    content = {"images": images or [{"id": 1, "file_name": "a.png", "width": 100, "height": 80},
                                    {"id": 2, "file_name": "images/empty.png", "width": 50,
                                     "height": 50}],
               "categories": [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}],
               "annotations": annotations}
    path = tmp_path / "annotations" / "instances.json"
    path.parent.mkdir()
    path.write_text(json.dumps(content, indent=1))
    return path


def test_coco_boxes_crowds_segmentation_and_empty_images(tmp_path):
    path = coco_file(tmp_path, [
        {"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 20, 40, 30], "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 7, "bbox": [], "iscrowd": 0,
         "segmentation": [[60, 10, 90, 15, 70, 40]]},
        {"id": 3, "image_id": 1, "category_id": 7, "bbox": [0, 0, 100, 80], "iscrowd": 1}])
    found = read_coco(path)
    a, empty = found.images
    np.testing.assert_array_equal(a.boxes, [[10, 20, 50, 50], [60, 10, 90, 40]])
    assert a.names == ["cat", "dog"] and len(empty.names) == 0 and empty.width == 50
    assert found.left_out == {"crowd (COCO iscrowd)": 1} and not found.problems


def test_coco_bad_annotations_reported_by_index(tmp_path):
    path = coco_file(tmp_path, [
        {"id": 10, "image_id": 1, "category_id": 4, "bbox": [1, 1, 5, 5]},
        {"id": 11, "image_id": 9, "category_id": 3, "bbox": [1, 1, 5, 5]},
        {"id": 12, "image_id": 1, "category_id": 3, "bbox": [1, 1, 0, 5]},
        {"id": 13, "image_id": 1, "category_id": 3, "bbox": [90, 1, 20, 5]},
        {"id": 14, "image_id": 1, "category_id": 3, "segmentation": {"counts": "x", "size": []}}])
    found = read_coco(path)
    reasons = [(p.reason, p.detail.split(":")[0]) for p in found.problems]
    assert reasons == [("unknown category", "annotations[0] (id 10)"),
                       ("unknown image", "annotations[1] (id 11)"),
                       ("non-positive size", "annotations[2] (id 12)"),
                       ("box outside image", "annotations[3] (id 13)"),
                       ("no box", "annotations[4] (id 14)")]


def test_coco_missing_image_and_malformed_json(tmp_path):
    path = coco_file(tmp_path, [], images=[{"id": 1, "file_name": "nope.png"}])
    (problem,) = read_coco(path).problems
    assert problem.reason == "missing image" and "images[0]" in problem.detail
    path.write_text('{"images": [\n{"id": 1,]}')
    with pytest.raises(DatasetError, match=r"instances.json:2: not valid JSON"):
        read_coco(path)


# --- CSV ---------------------------------------------------------------------------------------

def test_csv_deepforest_layout_with_an_image_without_boxes(tmp_path):
    write_image(tmp_path / "a.png", 100, 80)
    write_image(tmp_path / "empty.png", 40, 40)
    path = tmp_path / "labels.csv"
    path.write_text("label,image_path,xmin,ymin,xmax,ymax\n"  # columns in another order
                    "cat,a.png,10,20,50,60\ndog,a.png,0,0,100,80\nTree,empty.png,0,0,0,0\n")
    found = read_csv(path)
    a, empty = found.images
    np.testing.assert_array_equal(a.boxes, [[10, 20, 50, 60], [0, 0, 100, 80]])
    assert a.names == ["cat", "dog"] and len(empty.names) == 0 and not found.problems


def test_csv_makesense_layout(tmp_path):
    write_image(tmp_path / "a.png", 100, 80)
    path = tmp_path / "labels.csv"
    path.write_text("cat,10,20,40,30,a.png,100,80\n")
    (a,) = read_csv(path).images
    np.testing.assert_array_equal(a.boxes, [[10, 20, 50, 50]])


def test_csv_bad_rows_reported_by_line(tmp_path):
    write_image(tmp_path / "a.png", 100, 80)
    path = tmp_path / "labels.csv"
    path.write_text("image_path,xmin,ymin,xmax,ymax,label\na.png,10,20,50,60,cat\n"
                    "a.png,60,20,50,60,cat\nb.png,1,1,5,5,cat\na.png,1,1,5,x,cat\n"
                    "a.png,1,1,500,5,cat\na.png,1,1\n")
    found = read_csv(path)
    assert [(p.line, p.reason) for p in found.problems] == [
        (3, "non-positive size"), (4, "missing image"), (5, "malformed annotation"),
        (6, "box outside image"), (7, "malformed row")]
    assert str(found.problems[0]).startswith(f"{path}:3: non-positive size: ")
    assert len(found.images[0].names) == 1


def test_csv_in_neither_layout_refused(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("file,x,y\n")
    with pytest.raises(DatasetError, match=r"labels.csv:1: the first row .* neither layout"):
        read_csv(path)


def test_csv_deepforest_files():
    data = deepforest_data()
    (soap,) = read_csv(data / "testfile_multi.csv").images
    assert len(soap.names) == 37 and soap.path.name == "SOAP_061.png"
    np.testing.assert_array_equal(soap.boxes[0], [149, 105, 173, 129])
    (osbs,) = read_csv(data / "OSBS_029.csv").images
    assert len(osbs.names) == 61 and set(osbs.names) == {"Tree"}


# --- YOLO --------------------------------------------------------------------------------------

def test_yolo_read_back_in_pixels(tmp_path):
    pytest.importorskip("yaml")
    write_image(tmp_path / "images" / "train" / "a.png", 100, 80)
    write_image(tmp_path / "images" / "val" / "b.png", 100, 80)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("1 0.3 0.5 0.4 0.5\n7 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("train: images/train\nval: images/val\n"
                                        "names: [cat, dog]\n")
    found = read_yolo(tmp_path / "data.yaml")
    a, b = found.images
    np.testing.assert_allclose(a.boxes, [[10, 20, 50, 60]])
    assert a.names == ["dog"] and len(b.names) == 0
    (problem,) = found.problems
    assert problem.reason == "class out of range" and problem.line == 2
