"""The ``ildl`` command line, run as a user would."""

import os
import re
import subprocess
import sys

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
    (["nn", "moons", "--steps", "0", "--no-torch"], "run_moons: steps must be an integer >= 1, "
                                                    "got 0"),
    (["gallery", "--only", "ewmaa"], "unknown figure(s) ewmaa (did you mean 'ewma'?)"),
    (["gallery", "--only", "ewma", "--jobs", "0"], "jobs must be an integer >= 1, got 0"),
    (["gallery", "--only", "ewma", "--out", "notes.txt"], "output folder 'notes.txt' is a file; "
                                                          "choose a folder (--out DIR)"),
])
def test_nn_and_gallery_mistakes_are_named_before_any_work(arguments, message, tmp_path,
                                                           monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(arguments) == 2
    assert message in capsys.readouterr().err
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
