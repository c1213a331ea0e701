"""The exported Python code runs on its own and trains the weights the page shows; the exported
model file is the trained model."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ildl import nn
from ildl.playground.config import Config
from ildl.playground.export import MODEL_FILE, python_code
from ildl.playground.session import Session

SOURCE = str(Path(nn.__file__).parents[2])  # src/, for the script's "import ildl"


def run_script(code: str, folder: Path) -> nn.Sequential:
    (folder / "script.py").write_text(code, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": SOURCE}
    subprocess.run([sys.executable, "script.py"], cwd=folder, env=environment, check=True,
                   capture_output=True, timeout=120)
    return nn.load_model(folder / MODEL_FILE)


def assert_same_weights(model: nn.Sequential, session: Session) -> None:
    for theirs, mine in zip(model.get_weights(), session.model.get_weights(), strict=True):
        np.testing.assert_array_equal(theirs, mine)


@pytest.mark.parametrize("config", [
    Config(problem="multiclass", dataset="gauss", classes=3, features=("x1", "x2", "sinx2"),
           hidden=((4, "swish"), (3, "softplus")), dropout=0.1, regularization="l2",
           optimizer="momentum", batch_size=25),
    Config(problem="regression", dataset="plane", train_ratio=0.7, hidden=(),
           optimizer="sgd", learning_rate=0.1),
])
def test_the_exported_code_trains_the_sessions_weights(config, tmp_path):
    session = Session(config)
    session.step(3)
    session.step(2)
    assert_same_weights(run_script(python_code(session), tmp_path), session)


def test_the_exported_code_reads_the_uploaded_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    lines = ["x1,x2,label"] + [f"{a:.5f},{b:.5f},{int(a * b > 0)}" for a, b in x]
    text = "\n".join(lines) + "\n"
    session = Session(Config(batch_size=8))
    session.upload(text, "quadrants.csv")
    session.step(4)
    (tmp_path / "quadrants.csv").write_text(text)
    code = python_code(session)
    assert "np.loadtxt('quadrants.csv'" in code
    assert_same_weights(run_script(code, tmp_path), session)


def test_the_exported_model_file_is_the_sessions_model(tmp_path):
    session = Session()
    session.step(2)
    (tmp_path / "exported.ildl").write_bytes(session.model_bytes())
    model = nn.load_model(tmp_path / "exported.ildl")
    assert model.epochs_trained == 2
    assert_same_weights(model, session)
    grid = np.random.default_rng(1).uniform(-1, 1, size=(20, 2))
    np.testing.assert_array_equal(model.predict(grid), session.model.predict(grid))
