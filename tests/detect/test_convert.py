"""ildl detect convert (detect/convert.py): tiles and their YOLO lines against values worked out
by hand, the split by source image, the checks before writing, and the result read back by
DetectionDataset."""

import os
from pathlib import Path

import numpy as np
import pytest
from label_files import deepforest_data, voc_xml, write_image

from ildl.cli import main
from ildl.detect.convert import convert_dataset, split_sources
from ildl.detect.formats import SourceImage
from ildl.detect.problems import DatasetError
from ildl.errors import ArgumentError, OverwriteError

pytest.importorskip("yaml")


def labels_of(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


def voc_source(tmp_path: Path, objects: list[tuple], width=100, height=40, stem="a") -> Path:
    source = tmp_path / "voc"
    write_image(source / f"{stem}.png", width, height)
    (source / f"{stem}.xml").write_text(voc_xml(f"{stem}.png", objects, size=(width, height)))
    return source


# A 100 x 40 image in tiles of 64 with overlap 0.25: stride 64 - 16 = 48, so x starts at 0 and
# at 100 - 64 = 36 (moved back to the edge); the height fits one tile: (0, 0, 64, 40) and
# (36, 0, 100, 40). Three boxes, worked out by hand in each tile's pixels (width 64, height 40):
#   A x 40..60 y 10..30, inside the overlap: whole in both tiles (x 40..60, then 4..24)
#   B x 50..80 y 0..20: tile 1 keeps x 50..64, 14/30 = 0.47 of it (dropped at min-area 0.5);
#                       tile 2 x 14..44, whole
#   C x 20..70 y 25..35: tile 1 x 20..64 (0.88 kept), tile 2 x 0..34 (0.68 kept)
OBJECTS = [("a", 40, 10, 60, 30), ("b", 50, 0, 80, 20), ("c", 20, 25, 70, 35)]
TILE_1 = [[0, 50 / 64, 20 / 40, 20 / 64, 20 / 40],
          [2, 42 / 64, 30 / 40, 44 / 64, 10 / 40]]
TILE_2 = [[0, 14 / 64, 20 / 40, 20 / 64, 20 / 40],
          [1, 29 / 64, 10 / 40, 30 / 64, 20 / 40],
          [2, 17 / 64, 30 / 40, 34 / 64, 10 / 40]]
B_IN_TILE_1 = [1, 57 / 64, 10 / 40, 14 / 64, 20 / 40]


def test_tiles_clip_boxes_and_drop_small_parts(tmp_path):
    result = convert_dataset(voc_source(tmp_path, OBJECTS), tmp_path / "out", "voc", tile=64,
                             overlap=0.25, val=0)
    labels = tmp_path / "out" / "labels" / "train"
    assert sorted(os.listdir(labels)) == ["a_x0_y0.txt", "a_x36_y0.txt"]
    np.testing.assert_allclose(labels_of(labels / "a_x0_y0.txt"), TILE_1, atol=5e-7)
    np.testing.assert_allclose(labels_of(labels / "a_x36_y0.txt"), TILE_2, atol=5e-7)
    # B's sliver in tile 1 goes; B itself is whole in tile 2, so no box is lost
    assert result.dropped == {"box parts < min-area at a tile edge": 1}
    assert result.tiles["train"] == 2 and result.boxes["train"] == {"a": 2, "b": 1, "c": 2}
    from PIL import Image
    with Image.open(tmp_path / "out" / "images" / "train" / "a_x36_y0.png") as tile:
        assert tile.size == (64, 40)


def test_min_area_keeps_the_part_above_it(tmp_path):
    convert_dataset(voc_source(tmp_path, OBJECTS), tmp_path / "out", "voc", tile=64,
                    overlap=0.25, min_area=0.4, val=0)
    np.testing.assert_allclose(labels_of(tmp_path / "out/labels/train/a_x0_y0.txt"),
                               sorted(TILE_1 + [B_IN_TILE_1]), atol=5e-7)


def test_without_tiles_the_image_is_copied_and_labels_normalised(tmp_path):
    source = voc_source(tmp_path, [("cat", 10, 20, 50, 30)])
    result = convert_dataset(source, tmp_path / "out", "voc", val=0)
    assert (tmp_path / "out/images/train/a.png").read_bytes() == (source / "a.png").read_bytes()
    # cx = 30 / 100, cy = 25 / 40, w = 40 / 100, h = 10 / 40
    assert labels_of(tmp_path / "out/labels/train/a.txt") == [[0, 0.3, 0.625, 0.4, 0.25]]
    assert result.names == ["cat"]


def test_map_merges_and_names_fix_the_order(tmp_path):
    source = voc_source(tmp_path, [("Alive", 1, 1, 5, 5), ("Dead", 10, 10, 20, 20),
                                   ("car", 30, 1, 40, 9)])
    result = convert_dataset(source, tmp_path / "out", "voc", names=["bird", "tree"],
                             mapping={"Alive": "tree", "Dead": "tree"}, val=0)
    assert result.names == ["bird", "tree"] and result.boxes["train"] == {"tree": 2}
    (problem,) = result.problems
    assert problem.reason == "class not in --names" and "<object> 3 ('car')" in str(problem)
    assert "--map car=NEW" in str(problem)
    assert [line[0] for line in labels_of(tmp_path / "out/labels/train/a.txt")] == [1, 1]
    text = (tmp_path / "out/data.yaml").read_text()
    assert '0: "bird"' in text and '1: "tree"' in text


def test_a_map_of_no_class_refused(tmp_path):
    with pytest.raises(ArgumentError, match=r"no box has class 'Alve' \(did you mean 'Alive'"):
        convert_dataset(voc_source(tmp_path, [("Alive", 1, 1, 5, 5)]), tmp_path / "out", "voc",
                        mapping={"Alve": "tree"}, val=0)


def sources(count: int) -> list[SourceImage]:
    return [SourceImage(Path(f"img{i}.png"), 10, 10) for i in range(count)]


def test_split_draws_a_share_of_the_images():
    splits = split_sources(sources(10), 0.3, 0, None)
    assert splits.count("val") == 3 and splits == split_sources(sources(10), 0.3, 0, None)
    assert splits != split_sources(sources(10), 0.3, 1, None)  # another seed, another draw
    assert split_sources(sources(3), 0.01, 0, None).count("val") == 1  # at least one
    assert split_sources(sources(2), 0.9, 0, None).count("train") == 1  # one left to train
    assert split_sources(sources(4), None, 0, ["img2", "img3.png"]) == \
        ["train", "train", "val", "val"]
    with pytest.raises(ArgumentError, match=r"'img9' is not one of the source images"):
        split_sources(sources(4), None, 0, ["img9"])
    with pytest.raises(ArgumentError, match="needs two source images or more"):
        split_sources(sources(1), 0.2, 0, None)


def test_no_source_image_on_both_sides(tmp_path):
    source = tmp_path / "voc"
    for i in range(6):
        write_image(source / f"s{i}.png", 100, 40)
        (source / f"s{i}.xml").write_text(voc_xml(f"s{i}.png", OBJECTS, size=(100, 40)))
    result = convert_dataset(source, tmp_path / "out", "voc", tile=64, overlap=0.25, val=0.5,
                             seed=3)
    stems = {split: {name.split("_x")[0] for name in os.listdir(tmp_path / "out/images" / split)}
             for split in ("train", "val")}
    assert len(stems["train"]) == len(stems["val"]) == 3 and not stems["train"] & stems["val"]
    assert result.tiles == {"train": 6, "val": 6}


def test_strict_refuses_before_writing(tmp_path):
    source = voc_source(tmp_path, [("cat", 1, 1, 5, 5), ("cat", 50, 1, 500, 5)])
    with pytest.raises(DatasetError, match=r"a.xml: box outside image: <object> 2"):
        convert_dataset(source, tmp_path / "out", "voc", val=0, strict=True)
    assert not (tmp_path / "out").exists()


def test_an_image_of_another_size_than_labelled_is_skipped(tmp_path):
    source = voc_source(tmp_path, [("cat", 1, 1, 5, 5)])
    (source / "a.xml").write_text(voc_xml("a.png", [("cat", 1, 1, 5, 5)], size=(200, 40)))
    write_image(source / "b.png", 50, 50)
    (source / "b.xml").write_text(voc_xml("b.png", [("cat", 1, 1, 5, 5)], size=(50, 50)))
    result = convert_dataset(source, tmp_path / "out", "voc", val=0)
    (problem,) = result.problems
    assert problem.reason == "size mismatch" and "200 x 40" in problem.detail
    assert result.sources["train"] == 1


def test_out_checked(tmp_path):
    source = voc_source(tmp_path, [("cat", 1, 1, 5, 5)])
    convert_dataset(source, tmp_path / "out", "voc", val=0)
    with pytest.raises(OverwriteError, match="is not empty; pass --overwrite"):
        convert_dataset(source, tmp_path / "out", "voc", val=0)
    (tmp_path / "out" / "labels" / "train" / "stale.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    convert_dataset(source, tmp_path / "out", "voc", val=0, overwrite=True)
    assert not (tmp_path / "out" / "labels" / "train" / "stale.txt").exists()
    with pytest.raises(OverwriteError, match="holds an input"):
        convert_dataset(source, tmp_path, "voc", val=0, overwrite=True)
    # labels in out/labels, images elsewhere: --overwrite would have deleted the labels
    labels = tmp_path / "project" / "labels"
    labels.mkdir(parents=True)
    (labels / "a.xml").write_text((source / "a.xml").read_text())
    with pytest.raises(OverwriteError, match="holds an input"):
        convert_dataset(labels, tmp_path / "project", "voc", images=source, val=0,
                        overwrite=True)
    assert (labels / "a.xml").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(OverwriteError, match="is a file"):
        convert_dataset(source, tmp_path / "file", "voc", val=0)


@pytest.mark.parametrize("options, message", [
    ({"source_format": "xml"}, "format 'xml' is not known"),
    ({"tile": 16}, "tile size must be"),
    ({"tile": 64, "overlap": 0.9}, "tile overlap must be"),
    ({"min_area": 1.5}, "min_area"),
    ({"val": 1.0}, "val"),
    ({"val": 0.2, "val_images": ["a"]}, "not both"),
    ({"names": ["a", "a"]}, "each once"),
    ({"seed": -1}, "seed"),
])
def test_arguments_checked_before_reading(tmp_path, options, message):
    arguments = {"source_format": "voc", **options}
    with pytest.raises(ArgumentError, match=message):
        convert_dataset(tmp_path / "nothing-read", tmp_path / "out", **arguments) if \
            "source_format" in options else convert_dataset(
                voc_source(tmp_path, []), tmp_path / "out", **arguments)
    assert not (tmp_path / "out").exists()


def test_cli_end_to_end_read_by_detection_dataset(tmp_path, capsys):
    pytest.importorskip("torch")
    from ildl.detect.dataset import DetectionDataset

    source = tmp_path / "voc"
    for i, stem in enumerate(("big", "small")):
        write_image(source / f"{stem}.png", 100 - 40 * i, 40)
        (source / f"{stem}.xml").write_text(voc_xml(f"{stem}.png", [("Dead", 10, 10, 30, 30),
                                                                    ("Alive", 40, 5, 60, 25)],
                                                    size=(100 - 40 * i, 40)))
    out = tmp_path / "trees"
    assert main(["detect", "convert", "--from", "voc", str(source), "--out", str(out),
                 "--map", "Alive=tree", "Dead=tree", "--tile", "64", "--overlap", "0.25",
                 "--val-images", "small"]) == 0
    printed = capsys.readouterr().out
    assert "train: 1 source images -> 2 images" in printed
    assert "val: 1 source images -> 1 images, 2 boxes (tree 2)" in printed
    for split in ("train", "val"):
        dataset = DetectionDataset(out / "data.yaml", split, imgsz=64)
        assert not dataset.split.problems
    assert main(["detect", "convert", "--from", "voc", str(source), "--out", str(out),
                 "--overlap", "0.2"]) == 2
    assert "--overlap and --min-area apply to tiles" in capsys.readouterr().err


def test_deepforest_soap_with_alive_and_dead_as_tree(tmp_path):
    data = deepforest_data()
    result = convert_dataset(data / "SOAP_061.xml", tmp_path / "soap", "voc",
                             mapping={"Alive": "tree", "Dead": "tree"}, val=0)
    assert result.names == ["tree"] and result.boxes["train"] == {"tree": 37}
    # the first box, x 149..173, y 105..129 in 400 x 400 pixels
    first = labels_of(tmp_path / "soap/labels/train/SOAP_061.txt")[0]
    np.testing.assert_allclose(first, [0, 161 / 400, 117 / 400, 24 / 400, 24 / 400], atol=5e-7)


def test_a_box_kept_in_no_tile_is_counted_as_lost(tmp_path):
    # 100 x 40 in tiles of 64, overlap 0.25: tiles x 0..64 and 36..100. A box x 20..80 keeps
    # 44/60 = 0.73 of itself in tile 1 and 44/60 in tile 2: at min-area 0.8 it is in no tile.
    result = convert_dataset(voc_source(tmp_path, [("a", 20, 5, 80, 15)]), tmp_path / "out",
                             "voc", tile=64, overlap=0.25, min_area=0.8, val=0)
    assert result.dropped == {"box parts < min-area at a tile edge": 2,
                              "boxes in no tile (every part < min-area)": 1}


def test_names_stay_unique_whatever_the_case_and_suffixes(tmp_path):
    source = tmp_path / "csv"
    rows = ["image_path,xmin,ymin,xmax,ymax,label"]
    for name in ("x/a-2.png", "x/a.png", "y/a.png", "y/A.png"):
        write_image(source / name, 20, 20)
        rows.append(f"{name},1,1,5,5,cat")
    (source / "boxes.csv").write_text("\n".join(rows) + "\n")
    result = convert_dataset(source / "boxes.csv", tmp_path / "out", "csv", val=0)
    written = sorted(name.casefold() for name in os.listdir(tmp_path / "out/images/train"))
    assert result.tiles["train"] == 4 and len(set(written)) == 4


def test_one_image_named_two_ways_is_one_image(tmp_path):
    """A CSV naming i0.png and ./i0.png: one photo, with both boxes, on one side only."""
    source = tmp_path / "csv"
    rows = ["image_path,xmin,ymin,xmax,ymax,label"]
    for index in range(4):
        write_image(source / f"i{index}.png", 20, 20)
        rows += [f"i{index}.png,1,1,5,5,cat", f"./i{index}.png,10,10,15,15,cat"]
    (source / "boxes.csv").write_text("\n".join(rows) + "\n")
    result = convert_dataset(source / "boxes.csv", tmp_path / "out", "csv", val=0.5, seed=2)
    assert result.sources == {"train": 2, "val": 2}
    for split in ("train", "val"):
        for label in (tmp_path / "out/labels" / split).iterdir():
            assert len(label.read_text().splitlines()) == 2
