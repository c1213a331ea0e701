"""The ``ildl`` command line, run as a user would."""

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
    assert "numpy_model_boundary" in capsys.readouterr().out


def test_unknown_subcommand_fails_with_usage():
    with pytest.raises(SystemExit) as exit_info:
        main(["nn", "no-such-command"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_console_script_runs_the_quick_gallery(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "ildl.cli", "gallery", "--quick", "--out",
                                str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "index.html").exists()
