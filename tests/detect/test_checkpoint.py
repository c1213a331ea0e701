"""Detector checkpoints: the digest line, and the refusal of damaged, foreign and non-finite files,
by the API and by ``ildl detect val/predict/export`` (one line, exit status 2, nothing written)."""

import hashlib
import io
import os
import warnings
import zipfile
from dataclasses import asdict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ildl.cli import main  # noqa: E402
from ildl.detect.checkpoint import (  # noqa: E402
    check_classes,
    detector_entries,
    load_checkpoint,
    load_detector,
    save_checkpoint,
)
from ildl.detect.config import TrainConfig  # noqa: E402
from ildl.detect.model import Detector  # noqa: E402
from ildl.errors import ArgumentError, IldlError, MissingFileError, ModelFileError  # noqa: E402

NAMES = ["circle", "square", "triangle"]


def untrained_entries(names=NAMES, size="n") -> dict:
    torch.manual_seed(0)
    return detector_entries(Detector(len(names), size), names,
                            asdict(TrainConfig("data.yaml", imgsz=64, size=size)))


# --- the file format -------------------------------------------------------------------------


def test_a_checkpoint_is_a_digest_line_then_what_torch_save_wrote(make_checkpoint, tmp_path):
    path = make_checkpoint(tmp_path / "best.pt")
    line, payload = (tmp_path / "best.pt").read_bytes().split(b"\n", 1)
    digest = hashlib.sha256(payload).hexdigest()  # computed here, independently
    assert line == f"ildl-detector-checkpoint 2 sha256 {digest}".encode()
    alone = torch.load(io.BytesIO(payload), weights_only=True)  # plain torch reads the payload
    model, checkpoint = load_detector(path)
    assert checkpoint["names"] == NAMES == alone["names"]
    reference = untrained_entries()["ema"]
    assert all(torch.equal(model.state_dict()[name], reference[name]) for name in reference)
    assert not model.training
    assert os.listdir(tmp_path) == ["best.pt"]  # written atomically: no temporary file left


def test_a_single_flipped_byte_anywhere_is_refused(make_checkpoint, tmp_path):
    make_checkpoint(tmp_path / "best.pt")
    original = (tmp_path / "best.pt").read_bytes()
    header_length = original.index(b"\n") + 1
    rng = np.random.default_rng(0)
    # every byte of the first line, and bytes all over the payload (the digest covers each)
    positions = [*range(header_length), *rng.integers(header_length, len(original), 80),
                 len(original) - 1]
    damaged = tmp_path / "damaged.pt"
    for position in positions:
        content = bytearray(original)
        content[position] ^= 1 << int(rng.integers(8))
        damaged.write_bytes(content)
        with pytest.raises(ModelFileError, match=r"damaged\.pt' (has been modified or "
                                                 r"corrupted|is not a readable)"):
            load_checkpoint(damaged)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_with_the_tensor_named(tmp_path, bad):
    entries = untrained_entries()
    entries["ema"]["heads.0.1.weight"][0, 0] = bad
    save_checkpoint(tmp_path / "best.pt", entries)  # a valid digest: the values are the problem
    with pytest.raises(ModelFileError, match=r"best\.pt' holds non-finite weights: 1 of the "
                                             r"\d+ values of ema/heads\.0\.1\.weight are NaN"):
        load_checkpoint(tmp_path / "best.pt")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "best.pt").write_bytes(b"")
    with pytest.raises(ModelFileError, match="best.pt' is not a readable ildl detector "
                                             "checkpoint: it is an empty file"):
        load_checkpoint(tmp_path / "best.pt")


def test_a_plain_state_dict_is_refused(tmp_path):
    torch.save(Detector(3).state_dict(), tmp_path / "weights.pt")
    with pytest.raises(ModelFileError, match="holds a plain state_dict without 'model_config', "
                                             "'names', 'ema', 'train_config'"):
        load_checkpoint(tmp_path / "weights.pt")


def test_files_of_other_programs_are_refused_without_unpickling(tmp_path):
    torch.save({"epoch": 3, "model": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")  # pickled
    with pytest.raises(ModelFileError, match=r"module\.pt' is not a readable ildl detector "
                                             r"checkpoint: torch.load failed \(UnpicklingError"):
        load_checkpoint(tmp_path / "module.pt")
    torch.save({"epoch": 3, "state_dict": {}}, tmp_path / "other.pt")  # plain values
    with pytest.raises(ModelFileError, match=r"a dict without 'model_config'.*keys begin "
                                             r"'epoch', 'state_dict'"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "notes.pt").write_text("hello")
    with pytest.raises(ModelFileError, match="it is a file beginning b'hello'"):
        load_checkpoint(tmp_path / "notes.pt")


def test_a_checkpoint_holding_a_list_that_contains_itself_is_walked_once(tmp_path):
    looped = []
    looped.append(looped)  # pickles allow it; a recursive walk would never end
    entries = {**untrained_entries(), "notes": looped}
    entries["ema"]["stem.0.weight"].fill_(float("nan"))
    save_checkpoint(tmp_path / "best.pt", entries)
    with pytest.raises(ModelFileError, match="ema/stem.0.weight are NaN"):
        load_checkpoint(tmp_path / "best.pt")


def test_a_folder_or_a_missing_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path)
    with pytest.raises(MissingFileError, match="no checkpoint at .*missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("change, message", [
    ({"names": ["circle"]}, r"its names \['circle'\] are not 3 class names"),
    ({"model_config": {"num_classes": 3, "size": "x"}}, "its model_config is"),
    ({"train_config": {"imgsz": 100}}, "its train_config has imgsz 100, not a multiple of 32"),
    ({"ema": {"stem.0.weight": torch.zeros(1)}}, r"do not fit the detector.*missing"),
    ({"ema": untrained_entries(size="s")["ema"]}, r"of another shape \(first stem\.0\.weight"),
])
def test_a_checkpoint_with_a_sound_digest_but_inconsistent_entries_is_refused(tmp_path, change,
                                                                              message):
    save_checkpoint(tmp_path / "best.pt", {**untrained_entries(), **change})
    with pytest.raises(ModelFileError, match=message):
        load_detector(tmp_path / "best.pt")


def test_checkpoints_from_before_the_digest_load_with_a_warning(tmp_path):
    """Decision: they load (they hold hours of training, and every other check still applies),
    with a warning that says how to add a digest."""
    torch.save(untrained_entries(), tmp_path / "old.pt")  # the format before the digest line
    with pytest.warns(UserWarning, match="written before detector checkpoints carried a "
                                         "SHA-256 digest.*save it again"):
        model, checkpoint = load_detector(tmp_path / "old.pt")
    assert checkpoint["names"] == NAMES
    save_checkpoint(tmp_path / "old.pt", checkpoint)  # the fix the warning gives
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(tmp_path / "old.pt")
    nan = untrained_entries()
    nan["ema"]["stem.0.weight"].fill_(float("nan"))
    torch.save(nan, tmp_path / "old_nan.pt")
    with pytest.raises(ModelFileError, match="non-finite weights"):
        load_checkpoint(tmp_path / "old_nan.pt")


def test_check_classes_names_both_lists():
    with pytest.raises(ArgumentError, match=r"best.pt detects 3 classes \(circle, square, "
                                            r"triangle\) but data.yaml has 1 class \(circle\)"):
        check_classes({"names": NAMES}, ["circle"], "best.pt", "data.yaml")
    check_classes({"names": NAMES}, list(NAMES), "best.pt", "data.yaml")


# --- on the command line ---------------------------------------------------------------------


def damaged_checkpoints(folder, make_checkpoint) -> dict[str, str]:
    """Checkpoint files damaged in each way the issue reports, by name."""
    make_checkpoint(folder / "good.pt")
    good = (folder / "good.pt").read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10
    (folder / "flipped.pt").write_bytes(flipped)
    (folder / "empty.pt").write_bytes(b"")
    torch.save(Detector(3).state_dict(), folder / "state_dict.pt")
    nan = untrained_entries()
    for tensor in nan["ema"].values():
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))  # all EMA weights NaN
    save_checkpoint(folder / "nan.pt", nan)
    os.remove(folder / "good.pt")
    return {"flipped": "modified or corrupted", "empty": "an empty file",
            "state_dict": "plain state_dict", "nan": "non-finite weights"}


@pytest.mark.parametrize("command", ["val", "predict", "export"])
def test_damaged_checkpoints_fail_in_one_line_and_nothing_is_written(
        command, tmp_path, make_checkpoint, make_dataset, file_hashes, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    expected = damaged_checkpoints(inputs, make_checkpoint)
    data = make_dataset()
    image = os.path.join(os.path.dirname(data), "images", "val", "000000.png")
    before = file_hashes(tmp_path)
    for name, reason in expected.items():
        weights = str(inputs / f"{name}.pt")
        out = tmp_path / "out"
        arguments = {"val": ["--data", data, "--out", str(out)],
                     "predict": ["--source", image, "--out", str(out)],
                     "export": ["--out", str(tmp_path / "detector.onnx")]}[command]
        assert main(["detect", command, "--weights", weights, *arguments]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"ildl: error: '{weights}'") and reason in error
        assert error.count("\n") == 1
        assert not out.exists() and not (tmp_path / "detector.onnx").exists()
    assert file_hashes(tmp_path) == before


def test_val_of_a_three_class_checkpoint_on_a_one_class_dataset_fails(
        tmp_path, make_checkpoint, make_dataset, capsys):
    weights = make_checkpoint(tmp_path / "best.pt")
    data = make_dataset(classes=["circle"])
    assert main(["detect", "val", "--weights", weights, "--data", data, "--out",
                 str(tmp_path / "val")]) == 2
    error = capsys.readouterr().err
    assert (f"best.pt detects 3 classes (circle, square, triangle) but {data} has 1 class "
            "(circle); use data with the same class names in the same order") in error
    assert not (tmp_path / "val").exists()


# --- fuzz: whatever the file holds, the error is one of ildl's --------------------------------


SMALL_ENTRIES = {"model_config": {"num_classes": 1, "size": "n"}, "names": ["a"],
                 "ema": {"stem.0.weight": torch.ones(2, 2)},
                 "train_config": {"imgsz": 64}}


def _saved(state: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _with_digest(state: object, folder) -> bytes:
    save_checkpoint(folder / "source.pt", state)
    return (folder / "source.pt").read_bytes()


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


tensors = st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=4).map(
    lambda values: torch.tensor(values, dtype=torch.float32))
leaves = (st.none() | st.booleans() | st.integers(-2, 10**6) | st.floats()
          | st.text(max_size=6) | tensors)
structures = st.recursive(leaves, lambda children: st.lists(children, max_size=3)
                          | st.dictionaries(st.text(max_size=8), children, max_size=4),
                          max_leaves=12)
# near-valid: the small entries with one of them replaced by anything
near_valid = st.tuples(st.sampled_from(sorted(SMALL_ENTRIES)), structures).map(
    lambda change: {**SMALL_ENTRIES, change[0]: change[1]})
zip_names = st.sampled_from(["archive/data.pkl", "archive/version", "archive/data/0",
                             "data.pkl", "archive/byteorder", ".data/serialization_id"])


@st.composite
def damaged(draw, base: bytes) -> bytes:
    """``base`` with bytes flipped, cut, inserted or overwritten."""
    content = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, max(0, len(content) - 1)))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
        if kind == "flip" and content:
            content[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del content[position:]
        else:
            noise = draw(st.binary(min_size=1, max_size=64))
            end = position + (len(noise) if kind == "overwrite" else 0)
            content[position:end] = noise
    return bytes(content)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_any_checkpoint_file_loads_or_fails_with_an_ildl_error(tmp_path, data):
    kind = data.draw(st.sampled_from(["damaged", "damaged legacy", "bytes", "zip", "legacy",
                                      "digest"]))
    if kind == "damaged":
        content = data.draw(damaged(_with_digest(SMALL_ENTRIES, tmp_path)))
    elif kind == "damaged legacy":
        content = data.draw(damaged(_saved(SMALL_ENTRIES)))
    elif kind == "bytes":
        content = data.draw(st.binary(max_size=300))
    elif kind == "zip":
        content = _zip(data.draw(st.lists(st.tuples(zip_names, st.binary(max_size=40)),
                                          max_size=4, unique_by=lambda entry: entry[0])))
    else:  # a readable file whose content is anything
        state = data.draw(structures | near_valid)
        content = _saved(state) if kind == "legacy" else _with_digest(state, tmp_path)
    path = tmp_path / "best.pt"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy format's warning
        try:
            load_detector(path)
        except IldlError as error:  # anything else escapes and fails the test
            assert str(error) and "\n" not in str(error)
