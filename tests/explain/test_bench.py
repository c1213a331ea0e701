"""The explainer benchmark end to end: quick runs write a readable report whose numbers are the
metrics of the explanations; models come from files; the command line runs it."""

import csv
import sys

import numpy as np
import pytest

from ildl import nn
from ildl.cli import main
from ildl.explain import explain
from ildl.explain.bench import run_benchmark
from ildl.explain.bench_report import COLUMNS
from ildl.explain.metrics import auc, deletion_curve, insertion_curve
from ildl.explain.shapes_task import default_task
from ildl.explain.sources import load_model_file

# TorchScript is deprecated in recent torch, but it is the torch format that loads without pickle
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_quick_benchmark_writes_table_csv_and_curves(tmp_path):
    rows = run_benchmark(images=3, methods=["gradcam", "occlusion"], out_dir=tmp_path,
                         quick=True, verbose=0)
    assert [row["method"] for row in rows] == ["gradcam", "occlusion", "random"]
    assert all(list(row) == list(COLUMNS) and row["images"] == 3 for row in rows)
    gradcam, occlusion, floor = rows
    # occlusion: 15 x 15 windows of 4 pixels, stride 2, plus the image itself
    assert (gradcam["evaluations"], occlusion["evaluations"], floor["evaluations"]) == \
        (1, 226, 0)
    assert floor["sanity_rank_correlation"] == 1.0  # the same noise whatever the model
    for row in rows:
        for key in ("deletion_auc", "insertion_auc", "pointing_game", "energy_in_mask"):
            assert 0 <= row[key] <= 1
    table = (tmp_path / "explain_bench.md").read_text()
    assert "| method | images | seconds | evaluations | deletion AUC ↓ |" in table
    assert "| occlusion | 3 |" in table and "quick mode" in table
    assert [line["method"] for line in read_csv(tmp_path / "explain_bench.csv")] == \
        ["gradcam", "occlusion", "random"]
    assert float(read_csv(tmp_path / "explain_bench.csv")[0]["insertion_auc"]) == \
        pytest.approx(gradcam["insertion_auc"])
    assert (tmp_path / "explain_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_row_is_the_mean_of_each_images_metrics(tmp_path):
    """Recomputed here image by image: the labelled class, curves seeded by seed + index."""
    rows = run_benchmark(images=2, methods=["saliency"], out_dir=tmp_path, quick=True,
                         seed=7, verbose=0)
    task = default_task(quick=True, verbose=0)
    deletions, insertions = [], []
    for index in range(2):
        image, label = task.images[index], int(task.labels[index])
        heatmap = explain(task.model, image, label, "saliency").heatmap
        predict = task.model.predict
        deletions.append(auc(deletion_curve(predict, image, heatmap, label, seed=7 + index)))
        insertions.append(auc(insertion_curve(predict, image, heatmap, label, seed=7 + index)))
    assert rows[0]["deletion_auc"] == pytest.approx(np.mean(deletions), rel=1e-6)
    assert rows[0]["insertion_auc"] == pytest.approx(np.mean(insertions), rel=1e-6)


def test_a_missing_optional_package_skips_its_method(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "lime.lime_image", None)  # import lime.lime_image fails
    rows = run_benchmark(images=1, methods=["lime", "gradcam"], out_dir=tmp_path, quick=True,
                         verbose=0)
    assert [row["method"] for row in rows] == ["gradcam", "random"]
    assert "Note: lime was skipped: method='lime' needs 'lime.lime_image'" in \
        (tmp_path / "explain_bench.md").read_text()


def test_an_ildl_model_file(tmp_path):
    path = tmp_path / "shapes.ildl"
    default_task(quick=True, verbose=0).model.save(str(path))
    rows = run_benchmark(str(path), images=1, methods=["gradcam"], out_dir=tmp_path,
                         quick=True, verbose=0)
    assert rows[0]["method"] == "gradcam"
    assert f"model: {path}, accuracy" in (tmp_path / "explain_bench.md").read_text()


def small_torch_classifier(torch):
    """A random torch CNN for 32x32 RGB images and the task's 3 classes."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
        torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(4 * 8 * 8, 3), torch.nn.Softmax(dim=1))


def test_a_torchscript_file(tmp_path, torch):
    path = tmp_path / "classifier.pt"
    torch.jit.save(torch.jit.script(small_torch_classifier(torch)), str(path))
    rows = run_benchmark(str(path), images=1, methods=["gradcam", "saliency", "shap_gradient"],
                         out_dir=tmp_path, quick=True, verbose=0)
    assert [row["method"] for row in rows] == ["saliency", "shap_gradient", "random"]
    assert "Note: gradcam was skipped: a TorchScript module runs its layers in compiled code" \
        in (tmp_path / "explain_bench.md").read_text()


def test_model_files_that_cannot_be_used(tmp_path, torch):
    pickled = tmp_path / "pickled.pt"
    torch.save(small_torch_classifier(torch), str(pickled))
    with pytest.raises(ValueError, match="is not a TorchScript file .* never does"):
        load_model_file(pickled)
    with pytest.raises(FileNotFoundError, match="no model file at"):
        load_model_file(tmp_path / "missing.pt")
    with pytest.raises(nn.ModelFileError):
        load_model_file(tmp_path / "missing.ildl")


def test_models_that_do_not_fit_the_task(tmp_path):
    small = nn.Sequential([nn.Flatten(input_shape=(28, 28, 1)), nn.Dense(3, "softmax")])
    with pytest.raises(ValueError, match=r"takes images of shape \(28, 28, 1\) but the "
                                         r"benchmark's images have shape \(32, 32, 3\)"):
        run_benchmark(small, images=1, out_dir=tmp_path, quick=True, verbose=0)
    ten = nn.Sequential([nn.Flatten(input_shape=(32, 32, 3)), nn.Dense(10, "softmax")])
    with pytest.raises(ValueError, match="gives probabilities of 10 classes but the "
                                         "benchmark's images hold 3"):
        run_benchmark(ten, images=1, out_dir=tmp_path, quick=True, verbose=0)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['gradcan'\]"):
        run_benchmark(methods=["gradcan"], out_dir=tmp_path, quick=True, verbose=0)
    with pytest.raises(ValueError, match="images must be a whole number from 1 to 24"):
        run_benchmark(images=25, out_dir=tmp_path, quick=True, verbose=0)


def test_command_line_quick_run(tmp_path, capsys):
    assert main(["explain", "bench", "--quick", "--images", "2", "--methods", "gradcam",
                 "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "| gradcam | 2 |" in output and "| random | 2 |" in output
    assert (tmp_path / "explain_bench.csv").exists()


@pytest.mark.slow
def test_every_method_beats_the_random_floor(tmp_path):
    """On the default task (its model trained here once), pointing game and insertion AUC."""
    rows = {row["method"]: row for row in run_benchmark(images=30, out_dir=tmp_path,
                                                         verbose=0)}
    floor = rows.pop("random")
    for method, row in rows.items():
        assert row["pointing_game"] > floor["pointing_game"], method
        assert row["insertion_auc"] > floor["insertion_auc"], method
