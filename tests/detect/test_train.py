"""Detector training end to end on a tiny synthetic dataset: checkpoints, resume, safe loading."""

import pickle

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("yaml")

from ildl.cli import main  # noqa: E402
from ildl.data.shapes import write_dataset  # noqa: E402
from ildl.detect.train import (  # noqa: E402
    TrainConfig,
    Trainer,
    load_checkpoint,
    load_detector,
    train,
)


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
    assert model(torch.zeros(1, 3, 64, 64))[0].shape == (1, 8, 8, 8)


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
