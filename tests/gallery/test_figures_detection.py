"""The object_detection figure: quick render, the cached detector is reused or resumed, the
video's mAP is measured against the video's own ground truth, and the full video's GIF keeps
the README's promise of under 4 MB."""

import os

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions
from ildl.gallery.render import render_one

pytest.importorskip("torch")
from ildl.data.shapes import make_video  # noqa: E402
from ildl.gallery import figures_detection  # noqa: E402
from ildl.gallery.figures_detection import (  # noqa: E402
    QUICK_DATASET,
    QUICK_TRAINING,
    VIDEO,
    trained_detector,
    video_map50,
    write_annotated_video,
)

matplotlib.use("Agg")
NAMES = ["circle", "square", "triangle"]


def test_quick_render_writes_the_animation_and_the_summary(tmp_path):
    outcome = render_one("object_detection", str(tmp_path), RenderOptions(quick=True))
    assert outcome.error is None, outcome.error
    assert outcome.files == ["object_detection.gif", "object_detection.png"]
    with Image.open(tmp_path / "object_detection.gif") as image:
        assert image.size == (160, 160)
    with Image.open(tmp_path / "object_detection.png") as image:
        assert image.format == "PNG"
    assert FIGURES["object_detection"].requires == ("torch",)


def test_a_finished_detector_is_reused_and_an_interrupted_one_resumes(tmp_path):
    import torch

    from ildl.detect.train import load_checkpoint, save_checkpoint

    two_epochs = {**QUICK_TRAINING, "epochs": 2}
    best, history = trained_detector(str(tmp_path), QUICK_DATASET, two_epochs)
    written = os.path.getmtime(best)
    again, same_history = trained_detector(str(tmp_path), QUICK_DATASET, two_epochs)
    assert again == best and os.path.getmtime(best) == written and same_history == history
    # Pretend the run stopped after its first epoch: it must train only the second one.
    last = os.path.join(os.path.dirname(best), "last.pt")
    checkpoint = load_checkpoint(last)
    checkpoint.update(epoch=0, history=checkpoint["history"][:1])
    checkpoint["history"][0]["box"] = 123.0  # a mark that only a resumed run keeps
    save_checkpoint(last, checkpoint)
    _, resumed = trained_detector(str(tmp_path), QUICK_DATASET, two_epochs)
    assert [row["epoch"] for row in resumed] == [1, 2] and resumed[0]["box"] == 123.0
    # Another configuration (a longer schedule) starts over.
    _, longer = trained_detector(str(tmp_path), QUICK_DATASET, {**QUICK_TRAINING, "epochs": 3})
    assert [row["epoch"] for row in longer] == [1, 2, 3] and longer[0]["box"] != 123.0
    assert torch.is_tensor(load_checkpoint(best)["ema"]["stem.0.weight"])


def _truth_as_detections(video, shift=0.0):
    height, width = video.frames[0].shape[:2]
    scale = np.array([width, height, width, height])
    found = []
    for boxes, classes in zip(video.boxes, video.classes):
        pixels = boxes * scale
        corners = np.concatenate([pixels[:, :2] - pixels[:, 2:] / 2,
                                  pixels[:, :2] + pixels[:, 2:] / 2], axis=1)
        corners[:, [0, 2]] += shift * pixels[:, 2:3]  # move right by a fraction of the width
        found.append({"boxes": corners, "scores": np.ones(len(classes)), "classes": classes})
    return found


def test_video_map50_is_one_for_the_truth_and_zero_for_boxes_moved_off_it():
    video = make_video(n_frames=5, size=160, seed=3)
    assert video_map50(_truth_as_detections(video), video, NAMES) == pytest.approx(1.0)
    # moved by 80% of their width, boxes overlap their object by IoU 0.2/1.8 < 0.5: all misses
    assert video_map50(_truth_as_detections(video, 0.8), video, NAMES) == pytest.approx(0.0)


def test_the_training_still_to_do_is_announced_until_the_detector_is_cached(tmp_path,
                                                                             monkeypatch):
    two_epochs = {**QUICK_TRAINING, "epochs": 2}
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path))
    monkeypatch.setattr(figures_detection, "TRAINING", two_epochs)
    long_work = FIGURES["object_detection"].long_work
    assert long_work(RenderOptions()).startswith("trains a detector on synthetic shapes for 2 "
                                                 "epochs: about ")
    folder = tmp_path / "gallery" / "object_detection"
    best, _ = trained_detector(str(folder), QUICK_DATASET, two_epochs)
    assert long_work(RenderOptions()) == ""
    # Interrupted after its first epoch: one epoch is left to train.
    from ildl.detect.train import load_checkpoint, save_checkpoint

    last = os.path.join(os.path.dirname(best), "last.pt")
    checkpoint = load_checkpoint(last)
    checkpoint.update(epoch=0, history=checkpoint["history"][:1])
    save_checkpoint(last, checkpoint)
    assert " for 1 epoch: about a minute or less on" in long_work(RenderOptions())


@pytest.mark.slow
def test_the_full_video_with_a_box_on_every_object_is_a_gif_under_4_mb(tmp_path):
    """The README promises every GIF under 4 MB; the gallery's video, noisy in every frame,
    came to 5.4 MB. Here its true boxes stand in for the detector's (as many, labelled)."""
    video = make_video(**VIDEO)
    path = str(tmp_path / "object_detection.gif")
    drawn = write_annotated_video(video.frames, _truth_as_detections(video), NAMES, path,
                                  VIDEO["fps"])
    assert len(drawn) == VIDEO["n_frames"]
    assert os.path.getsize(path) < 4_000_000
    with Image.open(path) as gif:
        assert gif.n_frames == VIDEO["n_frames"] and gif.size == (VIDEO["size"],) * 2
