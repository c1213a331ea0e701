"""The run folder of ``ildl detect train``: args.yaml, results.csv (against the checkpoints' own
evaluation and the schedule worked out by hand), results.png, the training and validation
mosaics, and a resume that neither repeats nor loses an epoch."""

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
yaml = pytest.importorskip("yaml")

from PIL import Image  # noqa: E402

from ildl.data.shapes import write_dataset  # noqa: E402
from ildl.detect.checkpoint import load_checkpoint, load_detector  # noqa: E402
from ildl.detect.config import TrainConfig  # noqa: E402
from ildl.detect.dataset import DetectionDataset  # noqa: E402
from ildl.detect.run_report import write_results, write_train_batch  # noqa: E402
from ildl.detect.train import Trainer, evaluate, train  # noqa: E402
from ildl.graphics import SERIES_COLORS  # noqa: E402

# Ultralytics' names, in its order (it also has val losses, which ildl does not compute)
COLUMNS = ["epoch", "time", "train/box_loss", "train/obj_loss", "train/cls_loss",
           "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)",
           "metrics/mAP50-95(B)", "lr/pg0", "lr/pg1"]
TRAIN_IMAGES, VAL_IMAGES, SIDE, BATCH = 24, 6, 64, 8


def read_results(folder) -> list[dict]:
    with open(folder / "results.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two epochs of 3 batches (24 images, batch 8) on 64-pixel shapes; 6 val images."""
    data = str(write_dataset(tmp_path_factory.mktemp("shapes"), n_train=TRAIN_IMAGES,
                             n_val=VAL_IMAGES, size=SIDE, seed=0))
    out = tmp_path_factory.mktemp("run")
    result = train(data, epochs=2, imgsz=SIDE, batch=BATCH, out=str(out), verbose=False)
    return data, out, result


def test_args_yaml_loads_back_to_the_run_configuration(run):
    data, out, _ = run
    written = yaml.safe_load((out / "args.yaml").read_text())
    assert list(written) == [name for name in TrainConfig.__dataclass_fields__]  # all, in order
    assert TrainConfig(**written) == TrainConfig(data, epochs=2, imgsz=SIDE, batch=BATCH,
                                                 out=str(out))


def test_results_csv_has_a_row_per_epoch_with_the_documented_columns(run):
    _, out, result = run
    rows = read_results(out)
    assert list(rows[0]) == COLUMNS
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for row, entry in zip(rows, result["history"]):
        for column, key in (("train/box_loss", "box"), ("train/obj_loss", "obj"),
                            ("train/cls_loss", "cls")):
            assert float(row[column]) == pytest.approx(entry[key], rel=1e-5)
            assert float(row[column]) > 0
    assert 0 < float(rows[0]["time"]) < float(rows[1]["time"])
    # 3 steps per epoch, warm-up int(2.0 epochs * 3) = 6 steps: the factor after the last step
    # of epoch 1 is 3/6, of epoch 2 6/6, times the peak 4e-3; both groups share it
    for row, expected in zip(rows, (0.002, 0.004)):
        assert float(row["lr/pg0"]) == float(row["lr/pg1"]) == pytest.approx(expected)


def test_results_csv_metrics_are_those_of_the_saved_checkpoints(run):
    """last.pt holds epoch 2's weights and best.pt those of its own epoch: evaluated again,
    each gives the numbers of its row."""
    data, out, _ = run
    rows = read_results(out)
    dataset = DetectionDataset(data, "val", SIDE)
    for name in ("last.pt", "best.pt"):
        epoch = load_checkpoint(out / name)["epoch"]  # 0-based
        metrics = evaluate(load_detector(out / name)[0], dataset)
        row = rows[epoch]
        for column, value in (("metrics/precision(B)", metrics.mean_precision),
                              ("metrics/recall(B)", metrics.mean_recall),
                              ("metrics/mAP50(B)", metrics.map50),
                              ("metrics/mAP50-95(B)", metrics.map50_95)):
            assert float(row[column]) == pytest.approx(value, rel=1e-5, abs=1e-9), (name, column)


def test_the_figures_and_mosaics_have_the_expected_sizes(run):
    _, out, _ = run
    assert Image.open(out / "results.png").size == (1200, 550)  # 12 x 5.5 inches at 100 dpi
    # 64-pixel images enlarged 5 times (to >= 320), 3-pixel borders; 8 images: 3 x 3 grid
    tile = SIDE * 5 + 3
    for index in range(3):
        assert Image.open(out / f"train_batch{index}.jpg").size == (3 * tile + 3, 3 * tile + 3)
    # 6 validation images: 3 across, 2 down
    for name in ("val_batch0_labels.jpg", "val_batch0_pred.jpg"):
        assert Image.open(out / name).size == (3 * tile + 3, 2 * tile + 3)


def test_a_training_batch_is_drawn_where_its_labels_say(tmp_path):
    """One black 64-pixel image, one label of class 0 centred at (0.5, 0.25), 0.25 x 0.125:
    corners (24, 12) and (40, 20) pixels, times 5 in the mosaic, after its 3-pixel border."""
    images = torch.zeros(1, 3, 64, 64)
    targets = torch.tensor([[0, 0, 0.5, 0.25, 0.25, 0.125]])
    path = write_train_batch(str(tmp_path), 0, images, targets, ["circle"])
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    colour = np.array([int(SERIES_COLORS[0][i:i + 2], 16) for i in (1, 3, 5)])
    x1, y1, x2, y2 = (3 + 5 * v for v in (24, 12, 40, 20))
    # the 2-pixel outline (320 / 160) lies inside the box: x1 and x1 + 1, ..., y2 - 1 and y2
    for x, y in (((x1 + x2) // 2, y2), (x1, (y1 + y2) // 2), (x2 - 1, (y1 + y2) // 2)):
        assert np.abs(pixels[y, x] - colour).max() < 40, (x, y)  # JPEG moves colours a little
    assert pixels[(y1 + y2) // 2, (x1 + x2) // 2].max() < 40  # inside the box: the black image
    assert pixels[y2 + 20, x2 + 20].max() < 40  # outside it too


def test_results_csv_from_a_history_without_the_newer_keys(tmp_path):
    """A checkpoint of an older ildl has epochs without precision, recall, lr and time: their
    cells are empty, the others written to six significant digits (as Ultralytics)."""
    history = [{"epoch": 1, "box": 0.5, "obj": 0.25, "cls": 1 / 3, "map50": 0.5,
                "map50_95": 0.25},
               {"epoch": 2, "box": 0.4, "obj": 0.2, "cls": 0.1, "map50": 0.6, "map50_95": 0.3,
                "precision": 0.75, "recall": 0.5, "lr": [0.001, 0.002], "time": 12.5}]
    write_results(str(tmp_path), history)
    assert (tmp_path / "results.csv").read_text() == (
        ",".join(COLUMNS) + "\n"
        "1,,0.5,0.25,0.333333,,,0.5,0.25,,\n"
        "2,12.5,0.4,0.2,0.1,0.75,0.5,0.6,0.3,0.001,0.002\n")
    assert (tmp_path / "results.png").exists()


def test_resume_appends_the_missing_epochs_once(make_dataset, tmp_path):
    data, out = make_dataset(), tmp_path / "run"
    options = {"imgsz": 32, "batch": 2, "out": str(out)}
    train(data, epochs=1, verbose=False, **options)
    first = read_results(out)
    # as if the run had been killed after logging an epoch whose checkpoint was lost
    with open(out / "results.csv", "a") as file:
        file.write("2,99,1,1,1,0,0,0,0,0.001,0.001\n")
    Trainer(TrainConfig(data, epochs=3, **options), resume=True, verbose=False).run()
    rows = read_results(out)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert rows[0] == first[0]  # the resumed epoch's row is kept as it was
    assert float(rows[1]["time"]) != 99 and not math.isnan(float(rows[2]["time"]))
    assert yaml.safe_load((out / "args.yaml").read_text())["epochs"] == 3  # this run's
