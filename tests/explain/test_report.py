"""The report of one explained photo: its figure and JSON record, written atomically."""

import json
import os

import matplotlib
import numpy as np

from ildl.explain.explanation import Explanation
from ildl.explain.report import PhotoReport, report_files

matplotlib.use("Agg")

PROBABILITIES = np.array([0.05, 0.5, 0.02, 0.3, 0.08, 0.01, 0.04])
NAMES = ["a", "b", "c", "d", "e", "f", "g"]


def made_up(target, method, seconds, evaluations):
    return Explanation(np.random.default_rng(target).random((8, 8)), target, PROBABILITIES,
                       seconds, evaluations, method, np.zeros((8, 8, 3)), NAMES[target])


def report(converted=None):
    rows = [[made_up(target, "gradcam", 0.04, 1), made_up(target, "lime", 12.5, 500)]
            for target in (1, 3)]
    return PhotoReport("photos/cat.jpg", "efficientnet-lite0", rows, PROBABILITIES, NAMES,
                       converted, {"lime": {"samples": 500}},
                       {"shap": "shap needs cv2, not installed here"})


def test_the_record_lists_the_top_classes_and_every_map():
    record = report("CMYK, converted to RGB").record("cat_explained.png")
    assert record["photo"] == "photos/cat.jpg" and record["model"] == "efficientnet-lite0"
    assert record["converted"] == "CMYK, converted to RGB"
    assert record["image_size"] == [8, 8] and record["figure"] == "cat_explained.png"
    # the five most probable, sorted by hand: b 0.5, d 0.3, e 0.08, a 0.05, g 0.04
    assert [(row["class"], row["name"], row["probability"]) for row in
            record["top_classes"]] == [(1, "b", 0.5), (3, "d", 0.3), (4, "e", 0.08),
                                       (0, "a", 0.05), (6, "g", 0.04)]
    assert [(row["method"], row["class"], row["name"], row["seconds"], row["evaluations"],
             row["options"]) for row in record["maps"]] == [
        ("gradcam", 1, "b", 0.04, 1, {}), ("lime", 1, "b", 12.5, 500, {"samples": 500}),
        ("gradcam", 3, "d", 0.04, 1, {}), ("lime", 3, "d", 12.5, 500, {"samples": 500})]
    assert record["maps"][2]["probability"] == 0.3
    assert record["skipped_methods"] == {"shap": "shap needs cv2, not installed here"}


def test_write_leaves_the_figure_and_the_json_and_nothing_else(tmp_path):
    from PIL import Image

    record = report().write(str(tmp_path), "cat", theme="light")
    figure, record_file = report_files(str(tmp_path), "cat")
    assert sorted(os.listdir(tmp_path)) == ["cat_explained.json", "cat_explained.png"]
    assert "maps_file" not in record
    with open(record_file, encoding="utf-8") as file:
        assert json.load(file) == record
    with Image.open(figure) as image:
        assert image.format == "PNG" and image.size[0] > 600 and image.size[1] > 400
        # the light theme: a white background in the top-left corner
        assert image.convert("RGB").getpixel((2, 2)) == (255, 255, 255)


def test_the_maps_file_holds_every_map_as_computed(tmp_path):
    made = report()
    record = made.write(str(tmp_path), "cat", maps=True)
    assert record["maps_file"] == "cat_explained.npz"
    with np.load(tmp_path / "cat_explained.npz") as saved:  # no pickle needed
        assert saved["heatmaps"].shape == (2, 2, 8, 8) and saved["image"].shape == (8, 8, 3)
        assert list(saved["classes"]) == [1, 3] and list(saved["methods"]) == ["gradcam", "lime"]
        np.testing.assert_allclose(saved["heatmaps"][1, 0], made.rows[1][0].heatmap, rtol=1e-6)
