"""``ildl detect export``: it writes only a .onnx file that is not its input, and refuses a
detector whose outputs are not finite instead of reporting a NaN difference as a match."""

import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from ildl.cli import main  # noqa: E402
from ildl.detect.checkpoint import load_detector  # noqa: E402


def export(weights, out) -> int:
    return main(["detect", "export", "--weights", str(weights), "--out", str(out)])


@pytest.mark.parametrize("out", ["best.pt", "notes.txt", "weights.onnx", "folder.onnx"])
def test_an_out_that_is_the_weights_another_file_or_a_folder_is_refused(
        out, tmp_path, make_checkpoint, file_hashes, capsys):
    weights = make_checkpoint(tmp_path / ("weights.onnx" if out == "weights.onnx" else "best.pt"))
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "folder.onnx").mkdir()
    before = file_hashes(tmp_path)
    assert export(weights, tmp_path / out) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"ildl: error: --out '{tmp_path / out}' ") and error.count("\n") == 1
    assert {"best.pt": "does not end in .onnx", "notes.txt": "does not end in .onnx",
            "weights.onnx": "is the checkpoint being exported",
            "folder.onnx": "is a folder"}[out] in error
    assert file_hashes(tmp_path) == before


def test_a_detector_whose_outputs_overflow_is_refused_not_matched_to_nan(
        tmp_path, make_checkpoint, capsys):
    from ildl.detect.checkpoint import save_checkpoint

    weights = make_checkpoint(tmp_path / "best.pt")
    _, checkpoint = load_detector(weights)
    # finite weights whose products overflow float32: batch-norm gain 1e6, then 3e38
    checkpoint["ema"]["heads.0.0.1.weight"].fill_(1e6)
    checkpoint["ema"]["heads.0.1.weight"].fill_(3e38)
    save_checkpoint(tmp_path / "huge.pt", checkpoint)
    assert export(tmp_path / "huge.pt", tmp_path / "detector.onnx") == 2
    captured = capsys.readouterr()
    assert "outputs NaN or infinity on random images" in captured.err
    assert "matches" not in captured.out and not (tmp_path / "detector.onnx").exists()


def test_check_onnx_fails_on_a_nan_difference(tmp_path, make_checkpoint):
    pytest.importorskip("onnxruntime")
    from ildl.detect.export import check_onnx, export_onnx

    weights = make_checkpoint(tmp_path / "best.pt", imgsz=32)
    export_onnx(weights, str(tmp_path / "detector.onnx"), check=False)
    model, _ = load_detector(weights)

    def nan_model(images):
        return [output * float("nan") for output in model(images)]

    nan_model.strides = model.strides
    with pytest.raises(AssertionError, match="differ from PyTorch's by nan"):
        check_onnx(nan_model, str(tmp_path / "detector.onnx"), torch.rand(1, 3, 32, 32))
    assert os.path.exists(tmp_path / "detector.onnx")
