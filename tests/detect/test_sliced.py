"""Sliced inference (``ildl detect predict --tile``, ``val --tile``): an image of four copies of a
scene gives the scene's objects four times, boxes come back to the image's pixels exactly, a box
cut by a tile's edge gives way to the whole one, one tile equals no tiling, the model never sees
more than ``batch`` tiles, and bad options get their one-line message.

Most tests use ``PaintedBoxDetector``, a fake detector whose answer is known: every patch of one
colour (red channel > 0, green 0) is an object, its box is the patch's bounding box exactly, its
class is the red value's parity, and its score falls with its width (so a partial box outscores
the whole one, the hard case for a merge).
"""

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from PIL import Image  # noqa: E402

from ildl.cli import main  # noqa: E402
from ildl.detect.model import STRIDES  # noqa: E402
from ildl.detect.nms import non_max_suppression  # noqa: E402
from ildl.detect.sliced import (  # noqa: E402
    cut_by_tile_edge,
    detect_tiled,
    evaluate_tiled,
    merge_tiles,
)
from ildl.detect.tiles import tile_grid  # noqa: E402


class PaintedBoxDetector(torch.nn.Module):
    """Outputs that decode (``nms.decode``) to one box per painted patch of its input."""

    strides = STRIDES
    num_classes = 2

    def __init__(self):
        super().__init__()
        self.batch_sizes = []

    def forward(self, images):
        self.batch_sizes.append(len(images))
        side = images.shape[-1]
        raw = [torch.zeros(len(images), 5 + self.num_classes, side // s, side // s)
               for s in self.strides]
        for level in raw:
            level[:, 4:] = -30.0  # no object, no class: score ~ 0
        finest, stride = raw[0], self.strides[0]
        pixels = (images * 255).round().long()
        for index, image in enumerate(pixels):
            painted = (image[0] > 0) & (image[1] == 0)
            for red in image[0][painted].unique().tolist():
                ys, xs = torch.nonzero((image[0] == red) & painted, as_tuple=True)
                x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                # the cell of the finest grid under the box's centre answers for it
                column, row = int((x1 + x2) / 2 // stride), int((y1 + y2) / 2 // stride)
                cx, cy = (column + 0.5) * stride, (row + 0.5) * stride
                distances = torch.tensor([cx - x1, cy - y1, x2 - cx, y2 - cy]) / stride
                finest[index, :4, row, column] = torch.log(torch.expm1(distances))  # softplus^-1
                finest[index, 4, row, column] = 3.0 - float(x2 - x1) / 50
                finest[index, 5 + red % 2, row, column] = 30.0
        return raw


def paint(image, box, red):
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = (red, 0, 0)


# A 64 x 64 scene: (box, red) of three objects; red's parity is the class.
SCENE = [((6, 8, 26, 24), 11), ((38, 6, 58, 22), 20), ((14, 34, 46, 56), 31)]


def four_copies() -> tuple[np.ndarray, list]:
    """A 128 x 128 image of the scene 2 x 2, each copy in its own reds (an object is one patch
    of one colour); and every object's (box, class) in the image."""
    image = np.zeros((128, 128, 3), dtype=np.uint8)
    objects = []
    for copy, (dx, dy) in enumerate([(0, 0), (64, 0), (0, 64), (64, 64)]):
        for (x1, y1, x2, y2), red in SCENE:
            box = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
            paint(image, box, red + 40 * copy)  # + an even number: the same class
            objects.append((box, red % 2))
    return image, objects


def as_rows(found) -> list:
    return sorted((tuple(np.round(box, 3)), int(c)) for box, c in zip(found["boxes"],
                                                                      found["classes"]))


def test_four_copies_of_a_scene_give_its_objects_four_times():
    image, objects = four_copies()
    model = PaintedBoxDetector()
    # tiles of 64 at overlap 0.25 start at 0, 48 and 64: nine tiles, and tile edges at 48, 64
    # and 112 cut objects of every copy; each object is whole in at least one tile
    found = detect_tiled(model, image, imgsz=64, tile=64, overlap=0.25)
    assert as_rows(found) == sorted((tuple(float(v) for v in box), c) for box, c in objects)
    assert sum(model.batch_sizes) == 9


def test_boxes_come_back_to_the_image_pixels_exactly():
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    paint(image, (150, 30, 171, 47), 7)  # only in the last column of tiles
    found = detect_tiled(PaintedBoxDetector(), image, imgsz=64, tile=64, overlap=0.2)
    assert found["boxes"] == pytest.approx(np.array([[150, 30, 171, 47]]), abs=1e-3)
    assert found["classes"].tolist() == [1]


def test_a_box_cut_by_a_tile_edge_gives_way_to_the_whole_box_of_the_neighbour():
    # tiles A = (0, 0, 64, 64) and B = (48, 0, 112, 64) of a 112 x 64 image. An object at
    # x 40..56 is whole in A and cut by B's left edge (x = 48): B sees x 48..56 and, being
    # narrower, scores higher; its IoU with the whole box is 8 / 16 = 0.5, which NMS at 0.5
    # would keep. The third box (x 90..110) lies inside B alone, away from its inner edge.
    tiles = [(0, 0, 64, 64), (48, 0, 112, 64)]
    boxes = np.array([[40, 10, 56, 30], [48, 10, 56, 30], [90, 5, 110, 20]], dtype=float)
    scores, classes = np.array([0.6, 0.9, 0.8]), np.array([0, 0, 0])
    tile_of_box = np.array([0, 1, 1])
    cut = np.concatenate([cut_by_tile_edge(boxes[tile_of_box == t], tile, (112, 64), 1.0)
                          for t, tile in enumerate(tiles)])
    assert cut.tolist() == [False, True, False]
    assert merge_tiles(boxes, scores, classes, tile_of_box, cut, 0.5).tolist() == [2, 0]
    plain_nms = non_max_suppression(torch.tensor(boxes), torch.tensor(scores),
                                    torch.tensor(classes), 0.5)
    assert plain_nms.tolist() == [1, 2, 0]  # what NMS alone keeps: the partial box, first
    # a whole box of another class does not stand for the cut one; nor does nothing at all
    assert merge_tiles(boxes, scores, np.array([1, 0, 0]), tile_of_box, cut, 0.5).tolist() \
        == [1, 2, 0]
    assert merge_tiles(boxes[1:], scores[1:], classes[1:], tile_of_box[1:], cut[1:],
                       0.5).tolist() == [0, 1]
    # class-agnostic, the whole box of the other class stands for the cut one after all
    assert merge_tiles(boxes, scores, np.array([1, 0, 0]), tile_of_box, cut, 0.5,
                       agnostic=True).tolist() == [2, 0]


def test_the_image_border_cuts_nothing_and_inner_edges_cut_within_the_margin():
    tile, size = (48, 0, 112, 64), (112, 64)  # its left edge is inside the image, the rest not
    boxes = [[48, 0, 60, 10], [50.5, 5, 60, 10], [51.5, 5, 60, 10], [100, 54, 112, 64]]
    assert cut_by_tile_edge(boxes, tile, size, 3.0).tolist() == [True, True, False, False]


def test_a_partial_box_that_outscores_the_whole_one_is_dropped_by_the_tiled_detection():
    image = np.zeros((64, 112, 3), dtype=np.uint8)
    paint(image, (40, 10, 56, 30), 4)  # tiles of 64 at overlap 0.25: x 0..64 and 48..112
    found = detect_tiled(PaintedBoxDetector(), image, imgsz=64, tile=64, overlap=0.25)
    assert found["boxes"] == pytest.approx(np.array([[40, 10, 56, 30]]), abs=1e-3)


def test_the_model_never_sees_more_than_batch_tiles():
    image, _ = four_copies()
    model = PaintedBoxDetector()
    detect_tiled(model, image, imgsz=64, tile=64, overlap=0.25, batch=4)
    assert model.batch_sizes == [4, 4, 1]


def test_a_progress_bar_counts_tiles_for_an_image_of_several(capsys):
    image, _ = four_copies()
    detect_tiled(PaintedBoxDetector(), image, imgsz=64, tile=64, overlap=0.25, title="x.png")
    line = capsys.readouterr().out
    assert line.startswith("x.png [") and "9/9" in line and "tiles/s" in line
    detect_tiled(PaintedBoxDetector(), image, imgsz=64, tile=128, title="x.png")
    assert capsys.readouterr().out == ""  # one tile: no bar


def test_tiled_val_of_full_images_scores_the_merged_detections(tmp_path):
    pytest.importorskip("yaml")
    from ildl.detect.dataset import DetectionDataset

    image, objects = four_copies()
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    Image.fromarray(image).save(tmp_path / "images" / "a.png")
    # label lines: class cx cy w h, in fractions of the 128-pixel image
    lines = [f"{c} {(x1 + x2) / 256} {(y1 + y2) / 256} {(x2 - x1) / 128} {(y2 - y1) / 128}"
             for (x1, y1, x2, y2), c in objects]
    (tmp_path / "labels" / "a.txt").write_text("\n".join(lines))
    (tmp_path / "data.yaml").write_text(f"path: {tmp_path}\ntrain: images\nval: images\n"
                                        "names: [even, odd]\n")
    dataset = DetectionDataset(str(tmp_path / "data.yaml"), "val", imgsz=64)
    metrics = evaluate_tiled(PaintedBoxDetector(), dataset, tile=64, overlap=0.25,
                             verbose=False)
    assert metrics.map50_95 == 1.0 and metrics.instances.tolist() == [4, 8]
    # tiles of 48 without overlap (edges at 48, 80 and 96) cut the 22-pixel-tall third object
    # of the scene in every tile that holds it: its partial boxes stay, and the score drops
    small_tiles = DetectionDataset(str(tmp_path / "data.yaml"), "val", imgsz=48)
    cut_everywhere = evaluate_tiled(PaintedBoxDetector(), small_tiles, tile=48, overlap=0.0,
                                    verbose=False)
    assert cut_everywhere.map50_95 < 1.0


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def noise_image(tmp_path):
    """A 90 x 70 image of noise: an untrained detector's scores (about 1e-4) are above --conf 0
    everywhere, so it finds plenty of boxes in it."""
    path = tmp_path / "images" / "noise.png"
    path.parent.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def predict(weights, source, out, *options) -> int:
    return main(["detect", "predict", "--weights", str(weights), "--source", str(source),
                 "--out", str(out), "--conf", "0", *options])


def test_predict_with_a_tile_as_large_as_the_image_equals_predict_without(
        noise_image, tmp_path, make_checkpoint):
    weights = make_checkpoint(tmp_path / "best.pt")
    assert predict(weights, noise_image, tmp_path / "whole") == 0
    assert predict(weights, noise_image, tmp_path / "tiled", "--tile", "90") == 0
    whole = json.loads((tmp_path / "whole" / "detections.json").read_text())
    tiled = json.loads((tmp_path / "tiled" / "detections.json").read_text())
    assert len(whole[0]["boxes"]) > 10 and tiled == whole
    drawn = [(tmp_path / folder / "noise.png").read_bytes() for folder in ("whole", "tiled")]
    assert drawn[0] == drawn[1]


def test_max_det_caps_the_detections_per_tile(noise_image, tmp_path, make_checkpoint):
    weights = make_checkpoint(tmp_path / "best.pt")
    assert predict(weights, noise_image, tmp_path / "one", "--max-det", "3") == 0
    assert len(json.loads((tmp_path / "one" / "detections.json").read_text())[0]["boxes"]) == 3
    # tiles of 48 over 90 x 70 start at x 0, 38, 42 and y 0, 22: six tiles, at most 3 each
    assert tile_grid(90, 70, 48, 0.2) == [(0, 0, 48, 48), (38, 0, 86, 48), (42, 0, 90, 48),
                                          (0, 22, 48, 70), (38, 22, 86, 70), (42, 22, 90, 70)]
    assert predict(weights, noise_image, tmp_path / "six", "--max-det", "3", "--tile",
                   "48") == 0
    found = json.loads((tmp_path / "six" / "detections.json").read_text())[0]["boxes"]
    assert 3 < len(found) <= 18


@pytest.mark.parametrize("options, message", [
    (["--tile", "16"], "tile size must be a whole number of pixels >= 32, got 16; pick one near "
                       "the model's input size (e.g. --tile 640)"),
    (["--tile", "64", "--overlap", "0.7"], "tile overlap must be a share of the tile between 0 "
                                           "and 0.5, got 0.7; 0.2 keeps objects up to a fifth "
                                           "of a tile whole in at least one tile"),
    (["--overlap", "0.3"], "--overlap 0.3 needs --tile SIZE (the tiles it overlaps); add "
                           "--tile, e.g. --tile 640, or leave out --overlap"),
    (["--max-det", "0"], "--max-det: detections kept per image must be an integer >= 1, got 0 "
                         "(int)"),
])
@pytest.mark.parametrize("command", ["predict", "val"])
def test_bad_tile_options_get_one_line_and_nothing_is_written(
        command, options, message, noise_image, tmp_path, make_checkpoint, file_hashes,
        capsys):
    weights = make_checkpoint(tmp_path / "best.pt")
    before = file_hashes(tmp_path)
    where = ["--source", str(noise_image)] if command == "predict" else \
        ["--data", str(tmp_path / "data.yaml")]
    assert main(["detect", command, "--weights", weights, *where, "--out",
                 str(tmp_path / "out"), *options]) == 2
    assert capsys.readouterr().err == f"ildl: error: {message}\n"
    assert file_hashes(tmp_path) == before


def test_val_with_tiles_prints_the_table_of_val(tmp_path, make_checkpoint, make_dataset,
                                                capsys):
    data = make_dataset(size=64)
    weights = make_checkpoint(tmp_path / "best.pt", imgsz=32)
    assert main(["detect", "val", "--weights", weights, "--data", data, "--out",
                 str(tmp_path / "val"), "--tile", "32", "--overlap", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "| Class | Images |" in out and os.path.exists(tmp_path / "val" / "pr_curves.png")


def test_the_python_api_takes_the_tiling_too(noise_image, tmp_path, make_checkpoint):
    from ildl.detect.predict import predict as predict_api

    weights = make_checkpoint(tmp_path / "best.pt")
    records = predict_api(weights, str(noise_image), str(tmp_path / "out"), 0.0, tile=48,
                          verbose=False)
    assert records[0]["source"] == str(noise_image) and records[0]["boxes"]
    with Image.open(tmp_path / "out" / "noise.png") as drawn:
        assert drawn.size == (90, 70)


def two_overlapping_objects_of_two_classes(tmp_path):
    """A 64 x 64 image with two painted objects of different classes (reds 11 and 20) whose
    boxes, (8, 8, 48, 40) and (16, 8, 56, 40), overlap with IoU 0.67 and whose centres fall in
    different cells of the finest grid: class-aware NMS keeps both, class-agnostic NMS one."""
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    paint(image, (8, 8, 48, 40), 11)
    paint(image, (16, 8, 18, 10), 20)  # the second object is two corner patches of one red:
    paint(image, (54, 38, 56, 40), 20)  # its box spans them, and the first keeps its extent
    path = tmp_path / "pair.png"
    Image.fromarray(image).save(path)
    return path


@pytest.mark.parametrize("tile", [[], ["--tile", "64"]])
def test_predict_agnostic_keeps_one_box_per_object_whatever_its_class(tile, tmp_path,
                                                                      monkeypatch):
    from ildl.detect import predict as predict_module

    source = two_overlapping_objects_of_two_classes(tmp_path)
    checkpoint = {"names": ["even", "odd"], "train_config": {"imgsz": 64}}
    monkeypatch.setattr(predict_module, "load_detector",
                        lambda weights: (PaintedBoxDetector(), checkpoint))
    found = {}
    for agnostic in ([], ["--agnostic"]):
        out = tmp_path / f"out{len(agnostic)}"
        assert predict("unused.pt", source, out, "--conf", "0.25", *tile, *agnostic) == 0
        found[bool(agnostic)] = json.loads((out / "detections.json").read_text())[0]
    assert sorted(found[False]["names"]) == ["even", "odd"]
    assert len(found[True]["boxes"]) == 1
