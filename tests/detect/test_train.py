"""Detector training end to end on a tiny synthetic dataset: checkpoints, resume, safe loading,
and the run folder: an earlier run is never replaced silently, a resume must fit."""

import os
import pickle
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("yaml")

from ildl.cli import main  # noqa: E402
from ildl.data.shapes import write_dataset  # noqa: E402
from ildl.detect.checkpoint import load_checkpoint, load_detector  # noqa: E402
from ildl.detect.model import STRIDES  # noqa: E402
from ildl.detect.train import TrainConfig, Trainer, train  # noqa: E402


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return str(write_dataset(root, n_train=16, n_val=8, size=64, seed=0))


def test_training_writes_checkpoints_that_load_without_pickle(tiny_data, tmp_path):
    result = train(tiny_data, epochs=2, imgsz=64, batch=8, out=str(tmp_path), verbose=False)
    assert len(result["history"]) == 2
    assert {"box", "obj", "cls", "map50", "map50_95"} <= set(result["history"][0])
    model, checkpoint = load_detector(result["best"])
    assert checkpoint["names"] == ["circle", "square", "triangle"]
    assert model(torch.zeros(1, 3, 64, 64))[0].shape == (1, 8, 64 // STRIDES[0], 64 // STRIDES[0])


@pytest.mark.slow  # trains or renders for a minute under load
def test_resume_continues_from_the_last_epoch(tiny_data, tmp_path):
    train(tiny_data, epochs=1, imgsz=64, batch=8, out=str(tmp_path), verbose=False)
    trainer = Trainer(TrainConfig(tiny_data, epochs=3, imgsz=64, batch=8, out=str(tmp_path)),
                      resume=True, verbose=False)
    assert trainer.start_epoch == 1
    result = trainer.run()
    assert [row["epoch"] for row in result["history"]] == [1, 2, 3]
    assert load_checkpoint(result["last"])["epoch"] == 2


def test_checkpoints_with_arbitrary_objects_or_garbage_are_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    unsafe = tmp_path / "unsafe.pt"
    torch.save({"model": Payload()}, unsafe)
    with pytest.raises(ValueError, match="not a readable ildl detector checkpoint"):
        load_checkpoint(str(unsafe))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(pickle.dumps([1, 2, 3])[:5])
    with pytest.raises(ValueError, match="not a readable"):
        load_checkpoint(str(garbage))
    with pytest.raises(FileNotFoundError):
        load_checkpoint(str(tmp_path / "missing.pt"))


@pytest.mark.slow
def test_cli_make_dataset_then_train_then_val(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["detect", "make-dataset", "--out", str(out), "--train", "8", "--val", "4",
                 "--size", "64"]) == 0
    assert (out / "data.yaml").exists()
    run = tmp_path / "run"
    assert main(["detect", "train", "--data", str(out / "data.yaml"), "--epochs", "1",
                 "--imgsz", "64", "--batch", "4", "--out", str(run)]) == 0
    assert main(["detect", "val", "--weights", str(run / "best.pt"), "--data",
                 str(out / "data.yaml"), "--out", str(tmp_path / "val")]) == 0
    output = capsys.readouterr().out
    assert "| all |" in output and "mAP50-95" in output
    assert (tmp_path / "val" / "pr_curves.png").exists()
    assert (tmp_path / "val" / "confusion_matrix.png").exists()


def test_cli_train_skips_a_bad_label_line_and_strict_stops_at_it(tmp_path, capsys):
    from ildl.detect.dataset import DatasetError

    out = tmp_path / "ds"
    assert main(["detect", "make-dataset", "--out", str(out), "--train", "6", "--val", "2",
                 "--size", "64"]) == 0
    label = sorted((out / "labels" / "train").iterdir())[0]
    lines = label.read_text().splitlines()
    label.write_text("\n".join([*lines, "7 0.5 0.5 0.2 0.2"]) + "\n")  # class 7 of 3
    arguments = ["detect", "train", "--data", str(out / "data.yaml"), "--epochs", "1",
                 "--imgsz", "64", "--batch", "2", "--out", str(tmp_path / "run")]
    assert main(arguments) == 0
    assert "skipped 0 images and 1 label lines" in capsys.readouterr().out
    earlier_run = (tmp_path / "run" / "last.pt").read_bytes()
    assert main([*arguments, "--strict", "--overwrite"]) == 2  # one line, no traceback
    assert f"{label.name}:{len(lines) + 1}" in capsys.readouterr().err
    with pytest.raises(DatasetError, match=f"{label.name}:{len(lines) + 1}"):
        main(["--debug", *arguments, "--strict", "--overwrite"])
    # the run to be replaced is removed only once the new one has passed every check
    assert (tmp_path / "run" / "last.pt").read_bytes() == earlier_run


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train(tiny_data, epochs=1, imgsz=64, batch=8, out=str(out), verbose=False)["best"]


def test_predict_on_a_folder_and_a_gif_writes_annotations_and_json(trained, tiny_data, tmp_path):
    import json

    from ildl.data.shapes import make_video
    from ildl.detect.predict import predict

    folder = tmp_path / "images"
    folder.mkdir()
    from PIL import Image

    for index in range(3):
        Image.new("RGB", (90, 60), (index * 60, 80, 120)).save(folder / f"{index}.png")
    records = predict(trained, str(folder), str(tmp_path / "out"), score_threshold=0.0)
    assert [r["source"].split("/")[-1] for r in records] == ["0.png", "1.png", "2.png"]
    for record in records:  # boxes are in the 90x60 frame's own pixels
        boxes = np.array(record["boxes"]).reshape(-1, 4)
        assert (boxes[:, [0, 2]] <= 90).all() and (boxes[:, [1, 3]] <= 60).all()
    assert json.loads((tmp_path / "out" / "detections.json").read_text()) == records
    video = make_video(str(tmp_path / "clip.gif"), n_frames=4, size=64, seed=1)
    records = predict(trained, str(tmp_path / "clip.gif"), str(tmp_path / "vid"))
    assert [r["frame"] for r in records] == list(range(len(video.frames)))
    assert (tmp_path / "vid" / "clip.gif").exists()


def test_onnx_export_matches_torch(trained, tmp_path):
    pytest.importorskip("onnxruntime")
    from ildl.detect.export import export_onnx

    difference = export_onnx(trained, str(tmp_path / "detector.onnx"))
    assert difference < 1e-4
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "detector.onnx"))
    outputs = {output.name: output.shape[2:] for output in session.get_outputs()}
    size = load_detector(trained)[1]["train_config"]["imgsz"]
    assert outputs == {f"stride{stride}": [size // stride] * 2 for stride in STRIDES}


def test_onnx_export_without_onnxruntime_names_the_extra(trained, tmp_path, monkeypatch):
    from ildl.detect.export import export_onnx

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    with pytest.raises(ImportError, match=r'needs \'onnxruntime\'.*pip install "ildl\[onnx\]"'):
        export_onnx(trained, str(tmp_path / "detector.onnx"))
    assert not (tmp_path / "detector.onnx").exists()  # failed before writing anything


def test_asking_for_a_missing_gpu_says_so(tiny_data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        Trainer(TrainConfig(tiny_data, epochs=1, imgsz=64, batch=8, out=str(tmp_path),
                            device="cuda"), verbose=False)


@pytest.mark.slow  # trains or renders for a minute under load
def test_a_time_limit_shortens_the_schedule_so_it_still_ends_on_its_cosine(tiny_data, tmp_path,
                                                                           monkeypatch):
    from ildl.detect.train import TrainConfig, Trainer

    # The trainer's clock advances one minute per epoch, so the schedule logic is tested, not
    # this machine's pace (a real clock made the test fail when other work loaded the machine).
    clock = {"minutes": 0.0}
    train_epoch = Trainer._train_epoch

    def one_minute_epoch(self, *args):
        clock["minutes"] += 1
        return train_epoch(self, *args)

    monkeypatch.setattr(Trainer, "_train_epoch", one_minute_epoch)
    monkeypatch.setattr(Trainer, "_minutes", lambda self: self.minutes_before + clock["minutes"])
    trainer = Trainer(TrainConfig(data=tiny_data, imgsz=64, batch=8, patience=50, epochs=50,
                                  out=str(tmp_path / "run"), time_limit=6.0), verbose=False)
    result = trainer.run()
    # it stopped at the limit, far before 50 epochs, and its schedule length is what it ran
    assert len(result["history"]) == 6 and trainer.epochs == 6 and result["minutes"] == 6
    # the last step's learning rate is near the bottom of the (shortened) cosine, 5% of the
    # peak; cut off in the middle of the 50-epoch schedule, it would still be near the peak
    assert trainer.optimizer.param_groups[0]["lr"] < 0.2 * trainer.config.lr


def test_an_unusable_val_split_is_refused_before_the_train_split_is_read(make_dataset, tmp_path,
                                                                         monkeypatch):
    import ildl.detect.dataset as dataset_module
    from ildl.detect.dataset import DatasetError

    scanned, scan = [], dataset_module.scan_split

    def recording(images, names, name, *args, **kwargs):
        scanned.append(name)
        return scan(images, names, name, *args, **kwargs)

    monkeypatch.setattr(dataset_module, "scan_split", recording)
    with pytest.raises(DatasetError, match="split 'val' has no images"):
        Trainer(TrainConfig(make_dataset(n_val=0), imgsz=32, out=str(tmp_path / "run")),
                verbose=False)
    assert scanned == ["val"] and not (tmp_path / "run").exists()


# --- the run folder --------------------------------------------------------------------------


@pytest.fixture
def earlier_run(tmp_path, make_checkpoint):
    """A folder holding a run: best.pt and last.pt of a size-n, 3-class detector."""
    run = tmp_path / "run"
    for name in ("best.pt", "last.pt"):
        make_checkpoint(run / name)
    return run


def run_cli(arguments, capsys) -> tuple[int, str]:
    status = main(["detect", "train", *arguments])
    return status, capsys.readouterr()


def test_an_earlier_run_is_not_replaced_without_resume_or_overwrite(
        earlier_run, make_dataset, file_hashes, capsys):
    before = file_hashes(earlier_run)
    status, output = run_cli(["--data", make_dataset(), "--out", str(earlier_run)], capsys)
    assert status == 2 and output.err == (
        f"ildl: error: {earlier_run} already holds a training run (best.pt, last.pt); pass "
        "--resume to continue it, --overwrite to replace it, or choose another --out\n")
    assert file_hashes(earlier_run) == before


def test_an_out_that_is_a_file_or_a_resume_without_last_pt_is_refused(tmp_path, make_dataset,
                                                                       capsys):
    data = make_dataset()
    (tmp_path / "notes.txt").write_text("keep me")
    status, output = run_cli(["--data", data, "--out", str(tmp_path / "notes.txt")], capsys)
    assert status == 2 and "notes.txt' is a file; the run needs a folder" in output.err
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    status, output = run_cli(["--data", data, "--out", str(tmp_path / "new"), "--resume"],
                             capsys)
    assert status == 2 and f"nothing to resume: there is no {tmp_path / 'new' / 'last.pt'}; " \
        "leave out --resume" in output.err
    assert not (tmp_path / "new").exists()


def test_resume_with_another_size_or_other_classes_names_the_mismatch(
        earlier_run, make_dataset, file_hashes, capsys):
    before = file_hashes(earlier_run)
    last = earlier_run / "last.pt"
    status, output = run_cli(["--data", make_dataset(), "--out", str(earlier_run), "--resume",
                              "--size", "s"], capsys)
    assert status == 2 and output.err == (
        f"ildl: error: cannot resume {last}: it was trained with --size n and this run asks "
        "for --size s; pass --size n to resume it, or choose another --out\n")
    one_class = make_dataset(classes=["circle"])
    status, output = run_cli(["--data", one_class, "--out", str(earlier_run), "--resume"],
                             capsys)
    assert status == 2 and output.err == (
        f"ildl: error: {last} detects 3 classes (circle, square, triangle) but {one_class} has "
        "1 class (circle); resume with the data it was trained on, or choose another --out\n")
    # same size and classes, but no training state (as a checkpoint of an older ildl)
    status, output = run_cli(["--data", make_dataset(), "--out", str(earlier_run), "--resume"],
                             capsys)
    assert status == 2 and f"cannot resume {last}: it has no model, optimizer" in output.err
    assert file_hashes(earlier_run) == before


def test_a_run_that_never_improves_names_only_the_files_it_wrote(
        earlier_run, make_dataset, monkeypatch, capsys):
    """A NaN validation mAP (as with a val split without labels) never beats the start value:
    no best.pt. With --overwrite, the earlier run's best.pt must not pass for this run's."""
    from ildl.detect import train as train_module

    class NoScore:
        map50 = map50_95 = mean_precision = mean_recall = float("nan")

    monkeypatch.setattr(train_module, "evaluate", lambda model, dataset: NoScore())
    status, output = run_cli(["--data", make_dataset(), "--out", str(earlier_run), "--epochs",
                              "1", "--imgsz", "32", "--batch", "2", "--overwrite"], capsys)
    assert status == 0, output.err
    assert output.out.splitlines()[-1] == (
        "validation mAP50-95 never improved (was it NaN? the val split needs labelled images), "
        f"so no best.pt was written; weights: {earlier_run / 'last.pt'}")
    assert "last.pt" in os.listdir(earlier_run) and "best.pt" not in os.listdir(earlier_run)
    assert load_checkpoint(earlier_run / "last.pt")["epoch"] == 0  # this run's, not the old one
    # resuming a finished run trains nothing, and says so
    status, output = run_cli(["--data", make_dataset(), "--out", str(earlier_run), "--epochs",
                              "1", "--imgsz", "32", "--batch", "2", "--resume"], capsys)
    assert status == 0 and "nothing to train: " in output.out


def test_evaluate_refuses_a_dataset_with_another_class_count(make_dataset):
    from ildl.detect.dataset import DetectionDataset
    from ildl.detect.model import Detector
    from ildl.detect.train import evaluate
    from ildl.errors import ArgumentError

    dataset = DetectionDataset(make_dataset(classes=["circle"]), "val", 32)
    with pytest.raises(ArgumentError, match=r"the detector finds 3 classes but the dataset has "
                                            r"1 class \(circle\)"):
        evaluate(Detector(3), dataset)


@pytest.mark.slow  # trains or renders for a minute under load
def test_fuzz_resuming_an_edited_checkpoint_works_or_fails_with_an_ildl_error(make_dataset,
                                                                           tmp_path):
    """A last.pt whose training-state entries were replaced by anything (and its digest made
    anew, as an editing user would): --resume continues, or says in one line what is wrong."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ildl.detect.checkpoint import save_checkpoint
    from ildl.errors import IldlError

    data = make_dataset()
    train(data, epochs=1, imgsz=32, batch=2, out=str(tmp_path / "run"), verbose=False)
    original = load_checkpoint(tmp_path / "run" / "last.pt")
    anything = st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                            | st.text(max_size=5) | st.just(torch.zeros(2)),
                            lambda children: st.lists(children, max_size=3)
                            | st.dictionaries(st.text(max_size=5), children, max_size=3),
                            max_leaves=8)
    state = ["model", "optimizer", "ema_updates", "epoch", "best_map", "epochs_without_gain",
             "history", "schedule_epochs", "minutes"]

    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(key=st.sampled_from(state), value=anything)
    def check(key, value):
        save_checkpoint(tmp_path / "run" / "last.pt", {**original, key: value})
        config = TrainConfig(data, epochs=1, imgsz=32, batch=2, out=str(tmp_path / "run"),
                             time_limit=1.0)
        try:
            Trainer(config, resume=True, verbose=False)
        except IldlError as error:
            assert str(error) and "\n" not in str(error)

    check()


@pytest.mark.slow  # trains or renders for a minute under load
@pytest.mark.parametrize("scores, warmup_epochs, patience, epochs_trained", [
    # 0 for three epochs (a detector from scratch finds nothing at first), then 0.1 and no
    # better: training stops two epochs after the first 0.1, not two after the first 0
    ([0.0, 0.0, 0.0, 0.1, 0.1, 0.1, 0.1, 0.1], 1, 2, 6),
    # no gain after epoch 1, but the warm-up lasts 3 epochs: the count starts at epoch 3
    ([0.1] * 8, 3, 1, 3),
])
def test_patience_counts_after_the_warm_up_once_the_model_finds_something(
        tiny_data, tmp_path, monkeypatch, scores, warmup_epochs, patience, epochs_trained):
    """Validation scores scripted, so the early stop is checked against the rule alone."""
    import types

    import ildl.detect.train as training

    scripted = iter(scores)
    monkeypatch.setattr(training, "evaluate", lambda model, dataset: types.SimpleNamespace(
        map50=0.0, map50_95=next(scripted), mean_precision=0.0, mean_recall=0.0))
    result = train(tiny_data, epochs=len(scores), imgsz=64, batch=8, patience=patience,
                   warmup_epochs=warmup_epochs, out=str(tmp_path), verbose=False)
    assert [row["map50_95"] for row in result["history"]] == scores[:epochs_trained]
