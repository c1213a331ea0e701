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
    assert error.startswith("ildl: error: unknown figure(s) boundry_frames; available: ")
    assert "Traceback" not in error and error.count("\n") == 1


def test_debug_shows_the_traceback():
    from ildl.errors import ArgumentError

    with pytest.raises(ArgumentError, match="unknown figure"):
        main(["--debug", "gallery", "--only", "boundry_frames"])


def test_version(capsys):
    from ildl import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"ildl {__version__}\n"


def test_output_into_a_closed_pipe_exits_quietly():
    """As ``ildl gallery --list | head -1`` once head has gone: the pipe's reading end is closed
    before ildl writes, so every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    completed = subprocess.run([sys.executable, "-m", "ildl.cli", "gallery", "--list"],
                               stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert completed.returncode == 0 and completed.stderr == ""


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
