"""TrainConfig: importable without torch, every field checked against its range before anything
touches disk, and ``ildl detect train``'s options derived from its fields."""

import os
import re
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from ildl.cli import build_parser, main
from ildl.detect.config import MODEL_SIZES, TrainConfig
from ildl.errors import ArgumentError


def test_the_config_imports_without_torch():
    code = ("import sys; import ildl.detect.config; import ildl.cli; ildl.cli.build_parser(); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr


# (field, bad value, what the message must say is expected)
BAD_SETTINGS = [
    ("epochs", 0, "an integer >= 1"),
    ("epochs", -1, "an integer >= 1"),
    ("epochs", True, "an integer >= 1"),
    ("lr", 0, "a number > 0 and <= 1"),
    ("lr", 1e6, "a number > 0 and <= 1"),
    ("lr", float("nan"), "a number > 0 and <= 1"),
    ("patience", -1, "an integer >= 1"),
    ("mosaic", 2, "a number >= 0 and <= 1"),
    ("flipud", 2, "a number >= 0 and <= 1"),
    ("time_limit", -5, "a number > 0, or none"),
    ("time_limit", float("inf"), "a number > 0, or none"),
    ("scale", -1, "a number >= 0 and <= 0.9"),
    ("scale", 1, "a number >= 0 and <= 0.9"),
    ("imgsz", 33, "a multiple of 32 from 32 to 2048"),
    ("imgsz", 100, "a multiple of 32 from 32 to 2048"),
    ("imgsz", 100000, "a multiple of 32 from 32 to 2048"),
    ("batch", 0, "an integer >= 1"),
    ("size", "x", "one of n, s, m"),
    ("workers", -1, "an integer from 0 to 256"),
    ("seed", -1, "an integer from 0 to 4294967295"),
    ("weight_decay", -0.1, "a number >= 0 and <= 1"),
    ("warmup_epochs", -1, "a number >= 0"),
    ("close_mosaic", -1, "an integer >= 0"),
    ("device", "gpu", "cpu, cuda, cuda:N or mps"),
    ("strict", "yes", "true or false"),
    ("out", "", "a path"),
    ("data", "da\0ta.yaml", "a path"),
]


@pytest.mark.parametrize("name, value, expected", BAD_SETTINGS)
def test_a_value_out_of_range_is_refused_naming_option_range_and_default(name, value, expected):
    settings = {"data": "data.yaml", name: value}
    with pytest.raises(ArgumentError) as error:
        TrainConfig(**settings)
    message = str(error.value)
    option = "--" + name.replace("_", "-")
    assert message.startswith(f"{option} {value!r} is not valid: {name} must be {expected} (")
    default = next(f.default for f in fields(TrainConfig) if f.name == name)
    if name == "data":
        assert message.endswith("it is required")
    elif name == "time_limit":
        assert message.endswith("leave it out for none")
    elif name == "imgsz" and value < 2048:  # the nearest sides the model takes
        below = value // 32 * 32 or 32
        assert message.endswith(f"the nearest valid sides are {below} and {below + 32}")
    else:
        assert message.endswith(f"the default is {default}")


@pytest.mark.parametrize("settings", [
    {}, {"imgsz": 32}, {"imgsz": 2048}, {"lr": 1}, {"mosaic": 0}, {"mosaic": 1},
    {"time_limit": 0.5}, {"device": "cuda:1"}, {"scale": 0.9}, {"seed": 2**32 - 1},
    {"patience": 1}, {"epochs": 1}, {"warmup_epochs": 0}, {"close_mosaic": 0},
])
def test_values_at_the_edges_of_the_ranges_are_accepted(settings):
    TrainConfig("data.yaml", **settings)


def test_the_imgsz_rule_is_what_the_model_needs():
    """Inputs that divide by 32 (the coarsest stride) run; 80, a multiple of 16 only, does not
    (the upsampled stride-32 map no longer matches the stride-16 one)."""
    torch = pytest.importorskip("torch")
    from ildl.detect.model import SIZES, Detector

    assert tuple(SIZES) == MODEL_SIZES
    model = Detector(1).eval()
    with torch.no_grad():
        for side in (32, 96):
            assert model(torch.zeros(1, 3, side, side))[0].shape[-1] == side // 4
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, 80, 80))


@pytest.mark.parametrize("name, value", [("lr", "0.1"), ("epochs", 2.0), ("imgsz", "64"),
                                         ("time_limit", [1]), ("size", None), ("seed", 1.5),
                                         ("lr", 10**400), ("time_limit", 10**400)])
def test_values_of_the_wrong_type_are_refused_from_python(name, value):
    with pytest.raises(ArgumentError, match=f"is not valid: {name} must be "):
        TrainConfig("data.yaml", **{name: value})


def test_paths_become_strings_and_a_changed_field_is_checked_again():
    config = TrainConfig(Path("shapes/data.yaml"), out=Path("runs/x"))
    assert config.data == os.path.join("shapes", "data.yaml") and config.out == "runs/x"
    config.epochs = 0
    with pytest.raises(ArgumentError, match="--epochs 0"):
        config.validate()


def test_train_keeps_its_old_names_and_refuses_unknown_options(tmp_path):
    pytest.importorskip("torch")
    from ildl.detect import train as train_module

    assert train_module.TrainConfig is TrainConfig
    with pytest.raises(ArgumentError, match=r"unknown option\(s\) epoch; it takes epochs, "):
        train_module.train("data.yaml", epoch=3, out=str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


# --- the command line ------------------------------------------------------------------------


def test_every_field_is_an_option_with_the_configs_default_and_help(capsys):
    args = build_parser().parse_args(["detect", "train", "--data", "data.yaml"])
    assert {f.name: getattr(args, f.name) for f in fields(TrainConfig)} == \
        asdict(TrainConfig("data.yaml"))
    with pytest.raises(SystemExit):
        main(["detect", "train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for setting in fields(TrainConfig):
        option = "--" + setting.name.replace("_", "-")
        default = ("" if setting.type == "bool" or setting.name == "data"
                   else f" (default: {str(setting.default).lower()})")
        assert re.search(rf"{option}( [A-Z_]+|, --no-\S+)? {re.escape(setting.metadata['help'])}"
                         rf"[^-]*{re.escape(default)}", text), option


@pytest.mark.parametrize("name, value, expected", [
    case for case in BAD_SETTINGS if case[0] != "strict" and not isinstance(case[1], bool)])
def test_the_cli_refuses_each_bad_value_in_one_line_before_touching_disk(
        name, value, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.pt").write_bytes(b"an earlier run")
    option = "--" + name.replace("_", "-")
    assert main(["detect", "train", "--data", "missing.yaml", "--out", "run", option,
                 str(value)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"ildl: error: {option} ") and f"must be {expected}" in error
    assert error.count("\n") == 1
    assert os.listdir(tmp_path) == ["run"] and os.listdir(tmp_path / "run") == ["last.pt"]
    assert (tmp_path / "run" / "last.pt").read_bytes() == b"an earlier run"


def test_fuzz_any_value_for_any_field_builds_a_config_or_is_an_argument_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
              | st.lists(st.integers(), max_size=2) | st.builds(Path, st.text(max_size=8)))

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(changes=st.dictionaries(st.sampled_from([f.name for f in fields(TrainConfig)]),
                                   values, max_size=4))
    def check(changes):
        try:
            config = TrainConfig(**{"data": "data.yaml", **changes})
        except ArgumentError as error:
            assert str(error).startswith("--") and "\n" not in str(error)
        else:
            config.validate()

    check()
