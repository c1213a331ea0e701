"""save / nn.load_model: identical predictions, identical resumed training (weights, optimizer
state, random generator), clear ModelFileErrors for damaged or foreign files, no unpickling,
atomic writes."""

import io
import json
import os
import pathlib
import pickle
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from nn_reference import model_file_digest

from ildl import atomic, nn
from ildl.errors import ArgumentError


def make_model(optimizer=None, seed=0):
    model = nn.Sequential([
        nn.Dense(12, activation="relu", input_shape=(3,),
                 kernel_regularizer=nn.regularizers.L1L2(l1=1e-3, l2=1e-2)),
        nn.Dropout(0.25),
        nn.Dense(8, activation=nn.activations.LeakyReLU(0.1), use_bias=False),
        nn.Activation("tanh"),
        nn.Dense(3, activation="softmax"),
    ], seed=seed)
    model.compile(optimizer or nn.optimizers.Adam(learning_rate=0.01, amsgrad=True),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(50, 3))
    return x, rng.integers(0, 3, size=50)


@pytest.fixture
def saved(data, tmp_path):
    """A trained model and the path it was saved to."""
    model = make_model()
    model.fit(*data, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "model.ildl"
    model.save(str(path))
    return model, path


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------

def test_round_trip_gives_identical_predictions(saved, data):
    model, path = saved
    loaded = nn.load_model(path)  # a pathlib.Path works as well as a str
    np.testing.assert_array_equal(loaded.predict(data[0]), model.predict(data[0]))
    assert_same_weights(loaded, model)
    assert [type(layer).__name__ for layer in loaded.layers] == \
        ["Dense", "Dropout", "Dense", "Activation", "Dense"]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.dtype == np.float32 and loaded.epochs_trained == 2
    assert loaded.loss.name == "sparse_categorical_crossentropy"
    assert loaded.metric_names == ["accuracy"]
    assert type(loaded.optimizer) is nn.optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.layers[1].rate == 0.25
    assert loaded.evaluate(*data) == model.evaluate(*data)  # regularizer and metric restored


def test_optimizer_state_is_restored(saved):
    model, path = saved
    ours, theirs = nn.load_model(path).optimizer.get_state(), model.optimizer.get_state()
    assert set(ours) == set(theirs) and "v_max/0" in ours
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key])
    assert nn.load_model(path).optimizer.iterations == 2 * 7  # 50 rows in batches of 8


@pytest.mark.parametrize("optimizer", [
    nn.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    nn.optimizers.SGD(learning_rate=0.05),
    nn.optimizers.RMSprop(momentum=0.5),
    nn.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    nn.optimizers.AdamW(weight_decay=0.1),
    nn.optimizers.Adagrad(learning_rate=0.05),
], ids=["sgd_nesterov", "sgd", "rmsprop_momentum", "adam_amsgrad", "adamw", "adagrad"])
def test_resumed_training_is_identical(optimizer, data, tmp_path):
    """Train A 2 epochs, save, load B; train both 2 more (shuffle + dropout): same bits.
    Also equal to C trained 4 epochs without interruption."""
    config = optimizer.get_config()
    a = make_model(type(optimizer)(**config), seed=5)
    a.fit(*data, epochs=2, batch_size=8, verbose=0)
    a.save(tmp_path / "a.ildl")
    b = nn.load_model(tmp_path / "a.ildl")
    for model in (a, b):
        model.fit(*data, epochs=2, batch_size=8, verbose=0)
    assert_same_weights(a, b)
    c = make_model(type(optimizer)(**config), seed=5)
    c.fit(*data, epochs=4, batch_size=8, verbose=0)
    assert_same_weights(a, c)
    for key, value in a.optimizer.get_state().items():
        np.testing.assert_array_equal(b.optimizer.get_state()[key], value)


def test_float64_and_uncompiled_models(tmp_path, rng):
    model = nn.Sequential([nn.Dense(4, activation="gelu", input_shape=(2,))], seed=1,
                          dtype="float64", name="tiny")
    model.save(tmp_path / "tiny.ildl")
    loaded = nn.load_model(tmp_path / "tiny.ildl")
    assert loaded.dtype == np.float64 and loaded.name == "tiny" and loaded.loss is None
    x = rng.normal(size=(3, 2))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    with pytest.raises(RuntimeError, match="compile"):
        loaded.fit(x, rng.normal(size=(3, 4)), verbose=0)


def test_loading_never_unpickles(saved, monkeypatch, data):
    model, path = saved

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = nn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(data[0]), model.predict(data[0]))


def test_file_is_a_plain_npz_with_a_json_header(saved):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        header = json.loads(np.load(io.BytesIO(archive.read("ildl.json.npy"))).tobytes())
    assert "ildl.json.npy" in names and "layer/0/kernel.npy" in names
    assert header["format"] == "ildl-model" and header["model"]["layers"][0]["class"] == "Dense"


# --------------------------------------------------------------------------------------
# Damaged and foreign files
# --------------------------------------------------------------------------------------

def read_entries(path):
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_entries(path, entries):
    with open(path, "wb") as file:
        np.savez(file, **entries)


def header_of(entries):
    return json.loads(entries["ildl.json"].tobytes())


def with_header(entries, header):
    return {**entries, "ildl.json": np.frombuffer(json.dumps(header).encode(), np.uint8)}


def expect_model_file_error(path, *words):
    with pytest.raises(nn.ModelFileError) as error:
        nn.load_model(path)
    message = str(error.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    return message


def test_missing_file(tmp_path):
    expect_model_file_error(tmp_path / "nope.ildl", "no model file")


def test_truncated_file(saved):
    _, path = saved
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    expect_model_file_error(path, "truncated")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.ildl"
    path.write_bytes(b"")
    expect_model_file_error(path, "not a readable ildl model file")


def test_random_bytes(tmp_path):
    path = tmp_path / "random.ildl"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    expect_model_file_error(path, "not a readable ildl model file")


def test_pickle_file_is_refused_without_running_it(tmp_path, monkeypatch):
    path = tmp_path / "evil.ildl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    expect_model_file_error(path, "not a readable ildl model file")


def test_foreign_zip(tmp_path):
    path = tmp_path / "foreign.ildl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    expect_model_file_error(path, "not an ildl model file")


def test_npz_without_the_ildl_header(tmp_path):
    path = tmp_path / "weights.npz"
    write_entries(path, {"kernel": np.ones((3, 2)), "bias": np.zeros(2)})
    expect_model_file_error(path, "not an ildl model file", "model.save")


def test_npz_with_an_object_array_is_refused(saved, monkeypatch):
    _, path = saved
    entries = read_entries(path)
    entries["layer/0/kernel"] = np.array([{"payload": 1}, None], dtype=object)  # pickled
    write_entries(path, entries)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    expect_model_file_error(path)


def test_tampered_weight(saved):
    _, path = saved
    entries = read_entries(path)
    kernel = entries["layer/2/kernel"].copy()
    kernel.view(np.uint8)[5] ^= 1  # one bit of one weight
    entries["layer/2/kernel"] = kernel
    write_entries(path, entries)
    expect_model_file_error(path, "modified or corrupted")


def test_tampered_optimizer_state_and_header(saved):
    _, path = saved
    entries = read_entries(path)
    write_entries(path, {**entries, "optimizer/iterations": np.array(1, dtype=np.int64)})
    expect_model_file_error(path, "modified or corrupted")
    header = header_of(entries)
    header["epochs_trained"] = 100
    write_entries(path, with_header(entries, header))
    expect_model_file_error(path, "modified or corrupted")
    write_entries(path, {k: v for k, v in entries.items() if k != "layer/4/bias"})
    expect_model_file_error(path, "modified or corrupted")


def test_flipped_byte_inside_the_archive(saved):
    _, path = saved
    content = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("layer/0/kernel.npy")
    # Local header is 30 bytes + name + extra; the .npy payload ends with the weights.
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    content[data_start + info.compress_size - 3] ^= 0xFF
    path.write_bytes(bytes(content))
    expect_model_file_error(path)


def test_other_format_and_version(saved):
    _, path = saved
    entries = read_entries(path)
    header = header_of(entries)
    write_entries(path, with_header(entries, {**header, "format": "keras"}))
    expect_model_file_error(path, "not an ildl model file", "keras")
    write_entries(path, with_header(entries, {**header, "version": 99}))
    expect_model_file_error(path, "version 99")
    write_entries(path, {**entries, "ildl.json": np.frombuffer(b"{not json", np.uint8)})
    expect_model_file_error(path, "not valid JSON")


# --------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------

def test_save_leaves_no_temporary_files(tmp_path):
    model = make_model()
    for _ in range(2):  # also when overwriting
        model.save(tmp_path / "m.ildl")
    model.save(tmp_path / "sub" / "dir" / "m.ildl")  # creates folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ildl", "sub"]
    assert [p.name for p in (tmp_path / "sub" / "dir").iterdir()] == ["m.ildl"]


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch, data):
    path = tmp_path / "m.ildl"
    model = make_model()
    model.save(path)
    before = path.read_bytes()
    model.fit(*data, epochs=1, verbose=0)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    monkeypatch.setattr(os, "rename", disk_full)
    with pytest.raises(OSError, match="No space"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.ildl"]
    nn.load_model(path)


def test_saved_file_has_the_usual_permissions(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    make_model().save(tmp_path / "m.ildl")
    assert stat.S_IMODE((tmp_path / "m.ildl").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_numpy_integer_seed_can_be_saved(tmp_path, rng):
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))], seed=np.int64(3))
    model.save(tmp_path / "m.ildl")
    x = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(nn.load_model(tmp_path / "m.ildl").predict(x), model.predict(x))


# --------------------------------------------------------------------------------------
# Files of the first format (version 1) still load
# --------------------------------------------------------------------------------------

V1_FILE = pathlib.Path(__file__).parent / "data" / "model_v1.ildl"


def reference_forward(arrays, x):
    """The fixture's network (Conv2D 3x3 valid, BatchNormalization, ReLU, MaxPooling2D 2,
    Flatten, Dense leaky ReLU 0.1, Dropout, Dense softmax) in plain NumPy, at inference."""
    kernel, bias = arrays["layer/0/kernel"], arrays["layer/0/bias"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # n,i,j,c,a,b
    z = np.einsum("nijcab,abcf->nijf", windows, kernel) + bias
    z = (z - arrays["layer/1/moving_mean"]) / np.sqrt(arrays["layer/1/moving_variance"] + 1e-3)
    z = np.maximum(z * arrays["layer/1/gamma"] + arrays["layer/1/beta"], 0)
    z = z[:, :2, :2, :].max(axis=(1, 2))  # the one 2x2 window of a 3x3 map, then flattened
    z = z @ arrays["layer/5/kernel"] + arrays["layer/5/bias"]
    z = np.where(z > 0, z, 0.1 * z)
    z = z @ arrays["layer/7/kernel"] + arrays["layer/7/bias"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_version_1_file_still_loads_with_its_weights_and_settings(tmp_path, rng):
    before = V1_FILE.read_bytes()
    stored = read_entries(V1_FILE)
    assert header_of(stored)["version"] == 1
    model = nn.load_model(V1_FILE)
    assert V1_FILE.read_bytes() == before
    x = rng.normal(size=(6, 5, 5, 1))
    np.testing.assert_allclose(model.predict(x), reference_forward(stored, x.astype(np.float32)),
                               rtol=1e-5, atol=1e-6)
    conv, dense, last = model.layers[0], model.layers[5], model.layers[7]
    assert conv.kernel_regularizer.get_config() == {"l1": 0.0, "l2": 0.01}
    assert dense.kernel_regularizer.get_config() == {"l1": 0.001, "l2": 0.01}
    assert last.bias_regularizer.get_config() == {"l1": 0.001, "l2": 0.0}
    assert dense.kernel_initializer.name == "he_normal"
    assert dense.activation.negative_slope == pytest.approx(0.1)
    assert model.loss.name == "sparse_categorical_crossentropy"
    assert model.optimizer.get_config()["amsgrad"] is True and model.epochs_trained == 2
    for key, value in model.optimizer.get_state().items():
        np.testing.assert_array_equal(value, stored[f"optimizer/{key}"])
    # Saved again, it is a version 2 file that gives the same model.
    model.save(tmp_path / "v2.ildl")
    assert header_of(read_entries(tmp_path / "v2.ildl"))["version"] == 2
    np.testing.assert_array_equal(nn.load_model(tmp_path / "v2.ildl").predict(x), model.predict(x))


def test_version_2_saves_every_named_object_in_one_form(saved):
    _, path = saved
    header = header_of(read_entries(path))
    first = header["model"]["layers"][0]["config"]
    assert first["kernel_regularizer"] == {"name": "l1_l2", "config": {"l1": 1e-3, "l2": 1e-2}}
    assert first["kernel_initializer"] == {"name": "glorot_uniform", "config": {}}
    assert first["activation"] == {"name": "relu", "config": {}}
    assert header["compile"]["loss"] == {"name": "sparse_categorical_crossentropy", "config": {}}
    assert header["compile"]["optimizer"]["name"] == "adam"


# --------------------------------------------------------------------------------------
# Crafted files: every failure is a ModelFileError naming the file, raised before anything
# large is allocated, and the file is left as it was
# --------------------------------------------------------------------------------------

def refused(path, *words, peak_bytes=None):
    """The ModelFileError message for loading ``path``; checks the words, that the file is
    unchanged and (with ``peak_bytes``) that loading allocated no more than that."""
    before = pathlib.Path(path).read_bytes()
    tracemalloc.start()
    try:
        message = expect_model_file_error(path, *words)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pathlib.Path(path).read_bytes() == before
    if peak_bytes is not None:
        assert peak < peak_bytes, f"loading allocated {peak:,} bytes"
    return message


def npy_bytes(array=None, header=None, payload=b""):
    """A .npy file: of ``array``, or a hand-written ``header`` dict followed by ``payload``."""
    buffer = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(payload)
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def good_members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.ones((3, 2)))
    refused(path, "single NumPy array", "np.load")


def test_a_member_declaring_a_terabyte_is_refused_before_allocating(saved):
    _, path = saved
    members = good_members(path)
    members["layer/0/kernel.npy"] = npy_bytes(
        header={"descr": "<f4", "fortran_order": False, "shape": (10**12,)}, payload=b"\0" * 64)
    write_zip(path, members)
    assert path.stat().st_size < 64_000
    refused(path, "layer/0/kernel", "(1000000000000,)", "holds 64 bytes", peak_bytes=20 << 20)


def test_a_compressed_zip_bomb_is_refused_before_inflating(saved, tmp_path):
    _, path = saved
    members = good_members(path)
    members["layer/0/kernel.npy"] = npy_bytes(np.zeros(64 << 20, dtype=np.uint8))  # 64 MiB
    bomb = tmp_path / "bomb.ildl"
    write_zip(bomb, members, compression=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 1 << 20
    refused(bomb, "compressed", "uncompressed", peak_bytes=20 << 20)


def test_overlapping_members_are_refused(saved, tmp_path):
    """A 'non-recursive' zip bomb: many directory entries pointing at the same bytes."""
    _, path = saved
    bomb = tmp_path / "overlap.ildl"
    with zipfile.ZipFile(bomb, "w") as archive:
        for name, content in good_members(path).items():
            archive.writestr(name, content)
        archive.writestr("optimizer/big.npy", npy_bytes(np.zeros(1 << 20, dtype=np.uint8)))
        big = archive.getinfo("optimizer/big.npy")
        for copy in range(200):  # 200 MiB declared in a 1 MiB file
            info = zipfile.ZipInfo(f"optimizer/copy{copy}.npy", big.date_time)
            info.header_offset, info.file_size = big.header_offset, big.file_size
            info.compress_size, info.CRC = big.compress_size, big.CRC
            archive.filelist.append(info)
    refused(bomb, "more than the file's own", peak_bytes=20 << 20)


def patch_member_header(path, name, offset_in_local, offset_in_central, value, size):
    """Overwrite a field of one member in both its local and its central directory header."""
    content = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    central = content.rfind(b"PK\x01\x02" + b"", 0)
    central = content.find(b"PK\x01\x02")
    while content[central + 46:central + 46 + len(name)] != name.encode():
        central = content.find(b"PK\x01\x02", central + 4)
    for position in (info.header_offset + offset_in_local, central + offset_in_central):
        content[position:position + size] = value.to_bytes(size, "little")
    path.write_bytes(bytes(content))


@pytest.mark.parametrize("field, local, central, value, words", [
    ("compression method 99", 8, 10, 99, ["compressed or encrypted", "method 99"]),
    ("encryption flag", 6, 8, 0x1, ["compressed or encrypted", "flags 0x1"]),
])
def test_members_that_zipfile_cannot_read_are_refused(saved, field, local, central, value,
                                                      words):
    _, path = saved
    write_zip(path, good_members(path))  # no data descriptors: fixed header layout
    patch_member_header(path, "layer/0/kernel.npy", local, central, value, 2)
    refused(path, *words)


def test_a_header_nested_100_000_deep_is_refused_without_recursion(saved):
    _, path = saved
    members = good_members(path)
    members["ildl.json.npy"] = npy_bytes(np.frombuffer(b"[" * 100_000 + b"]" * 100_000,
                                                       np.uint8))
    write_zip(path, members)
    refused(path, "nests deeper than 32")


def test_a_header_too_big_is_refused(saved):
    _, path = saved
    members = good_members(path)
    members["ildl.json.npy"] = npy_bytes(np.full(5 << 20, ord(" "), np.uint8))
    write_zip(path, members)
    refused(path, "ildl.json", "at most 4,194,304")


@pytest.mark.parametrize("change, words", [
    (lambda m: {**m, "layer/0/kernel.npy.copy": b"x"}, ["layer/0/kernel.npy.copy"]),
    (lambda m: {**m, "layer/0/kernel.npy": b"not an npy file"}, ["layer/0/kernel", ".npy"]),
    (lambda m: {**m, "ildl.json.npy": npy_bytes(np.zeros(3, np.float32))}, ["not JSON text"]),
    (lambda m: {**m, "ildl.json.npy": npy_bytes(np.frombuffer(b"\xff\xfe", np.uint8))},
     ["not valid JSON"]),
    (lambda m: {**m, "ildl.json.npy": npy_bytes(np.frombuffer(b"1" * 5000, np.uint8))},
     ["not valid JSON"]),
    (lambda m: {**m, "layer/0/kernel.npy": npy_bytes(np.array(["text"]))}, ["<U4", "numbers"]),
], ids=["foreign_member", "not_npy", "header_floats", "header_not_utf8", "huge_integer",
        "strings"])
def test_damaged_members_are_named(saved, change, words):
    _, path = saved
    write_zip(path, change(good_members(path)))
    refused(path, *words)


def test_duplicate_members_are_refused(saved):
    _, path = saved
    members = good_members(path)
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
            archive.writestr("layer/0/kernel.npy", members["layer/0/kernel.npy"])
    refused(path, "a second member", "layer/0/kernel.npy")


def test_a_folder_is_not_a_model_file(tmp_path):
    expect_model_file_error(tmp_path, "not a file")


def test_a_path_of_the_wrong_type():
    with pytest.raises(ArgumentError, match="file path"):
        nn.load_model(3.5)


# --------------------------------------------------------------------------------------
# Forged headers (with a matching digest): the rebuilt model is checked as the API checks it
# --------------------------------------------------------------------------------------

def forge(path, header, arrays):
    """A model file with this header and these arrays, and a digest that matches them."""
    header = {key: value for key, value in header.items() if key != "sha256"}
    header["sha256"] = model_file_digest(header, arrays)
    write_entries(path, with_header(arrays, header))


def forged_variant(path, edit):
    entries = read_entries(path)
    header = header_of(entries)
    del entries["ildl.json"]
    edit(header, entries)
    forge(path, header, entries)


def layer_config(header, index):
    return header["model"]["layers"][index]["config"]


FORGERIES = {
    "unknown_layer_class": (lambda h, a: h["model"]["layers"][0].update({"class": "LSTM"}),
                            ["layer 0", "'LSTM'", "Dense"]),
    "unknown_argument": (lambda h, a: layer_config(h, 0).update({"units_": 3}),
                         ["layer 0 (Dense)", "units_"]),
    "bool_units": (lambda h, a: layer_config(h, 0).update({"units": True}),
                   ["units", "True (bool)"]),
    "huge_units": (lambda h, a: layer_config(h, 0).update({"units": 10**15}),
                   ["kernel", "does not fit in memory"]),
    "bad_input_shape": (lambda h, a: h["model"].update({"input_shape": ["3"]}),
                        ["input_shape"]),
    "layers_not_a_list": (lambda h, a: h["model"].update({"layers": {"0": 1}}), ["'layers'"]),
    "missing_model": (lambda h, a: h.pop("model"), ["'model' is missing"]),
    "negative_epochs": (lambda h, a: h.update({"epochs_trained": -1}), ["epochs_trained"]),
    "bool_epochs": (lambda h, a: h.update({"epochs_trained": True}), ["epochs_trained"]),
    "bad_rng_state": (lambda h, a: h.update({"rng_state": {"bit_generator": "MT19937"}}),
                      ["random generator state"]),
    "unknown_optimizer": (lambda h, a: h["compile"]["optimizer"].update({"name": "adamax"}),
                          ["unknown optimizer 'adamax'"]),
    "bad_metrics": (lambda h, a: h["compile"].update({"metrics": "accuracy"}), ["metrics"]),
    "loss_as_list": (lambda h, a: h["compile"].update({"loss": ["mse"]}), ["'loss'"]),
    "nan_weight": (lambda h, a: a["layer/2/kernel"].__setitem__((0, 0), np.nan),
                   ["'kernel' of layer 2", "NaN"]),
    "wrong_shape": (lambda h, a: a.update({"layer/0/kernel": np.zeros((4, 12), np.float32)}),
                    ["'kernel' of layer 0", "(4, 12)", "(3, 12)"]),
    "missing_weight": (lambda h, a: a.pop("layer/4/bias"), ["no weight 'bias' of layer 4"]),
    "extra_weight": (lambda h, a: a.update({"layer/9/kernel": np.zeros(2, np.float32)}),
                     ["layer/9/kernel"]),
    "integer_weight": (lambda h, a: a.update({"layer/4/bias": np.zeros(3, np.int64)}),
                       ["'bias' of layer 4", "int64"]),
    "optimizer_slot_shape": (lambda h, a: a.update({"optimizer/m/0": np.zeros(2, np.float32)}),
                             ["optimizer slot 'm/0'"]),
    "optimizer_slot_missing": (lambda h, a: a.pop("optimizer/v/1"), ["optimizer state"]),
    "optimizer_steps": (lambda h, a: a.update({"optimizer/iterations": np.array([1, 2])}),
                        ["step count"]),
    "version_true": (lambda h, a: h.update({"version": True}), ["version True"]),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_headers_and_arrays_are_refused(saved, name):
    _, path = saved
    edit, words = FORGERIES[name]
    forged_variant(path, edit)
    refused(path, *words)


@pytest.mark.parametrize("edit, words", [
    (lambda h, a: h["compile"]["optimizer"]["config"].update({"learning_rate": 10**400}),
     ["learning_rate"]),
    (lambda h, a: layer_config(h, 0).update({"units": 10**400}), ["kernel", "does not fit"]),
], ids=["learning_rate", "units"])
def test_forged_integers_beyond_floats_range_are_refused(saved, edit, words):
    """JSON holds integers of any size; 10**400 must not end in an OverflowError from inside."""
    _, path = saved
    forged_variant(path, edit)
    refused(path, *words)


def test_a_forged_but_valid_file_loads(saved, data):
    """The forging helper itself is right: an unchanged forgery loads and predicts the same."""
    model, path = saved
    forged_variant(path, lambda header, arrays: None)
    np.testing.assert_array_equal(nn.load_model(path).predict(data[0]), model.predict(data[0]))


# --------------------------------------------------------------------------------------
# Saving: refused before anything is written; temporaries of killed saves are removed
# --------------------------------------------------------------------------------------

class Custom(nn.Dense):
    pass


@pytest.mark.parametrize("make, target, words", [
    (make_model, lambda tmp: tmp, ["is a folder", "model.ildl"]),
    (lambda: nn.Sequential([Custom(2, input_shape=(3,))]), lambda tmp: tmp / "m.ildl",
     ["Custom", "could not rebuild", "get_weights"]),
    (make_model, lambda tmp: 12, ["file path", "int"]),
])
def test_bad_saves_are_refused_and_leave_the_disk_as_it_was(make, target, words, saved):
    _, path = saved
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    with pytest.raises(ArgumentError) as error:
        make().save(target(path.parent))
    assert all(word in str(error.value) for word in words), str(error.value)
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def age(path, seconds):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_save_removes_temporaries_left_by_killed_saves(tmp_path):
    stale = tmp_path / ".tmp-abcd1234-m.ildl"          # a killed save, long ago
    other_stale = tmp_path / ".tmp-z_9y8x7w-other.png"  # another target's, long ago
    live = tmp_path / ".tmp-efgh5678-m.ildl"            # a save running right now
    not_ours = [tmp_path / ".tmp-notes.txt", tmp_path / "tmp-abcd1234-m.ildl"]
    for path in (stale, other_stale, live, *not_ours):
        path.write_bytes(b"partial")
    for path in (stale, other_stale, *not_ours):
        age(path, atomic.STALE_AFTER_SECONDS + 60)
    make_model().save(tmp_path / "m.ildl")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["m.ildl", live.name] + [p.name for p in not_ours])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_save_killed_mid_write_is_cleaned_up_by_a_later_save(tmp_path):
    """Kill -9 a process while it writes a model; its temporary stays (nothing can remove it
    then), the previous file is intact, and once stale the next save removes it."""
    make_model().save(tmp_path / "m.ildl")
    before = (tmp_path / "m.ildl").read_bytes()
    script = (
        "import sys, time, numpy as np\n"
        "from ildl import nn\n"
        "def stall(file, **arrays):\n"
        "    file.write(b'partial'); file.flush(); print('writing', flush=True); time.sleep(60)\n"
        "np.savez = stall\n"
        "model = nn.Sequential([nn.Dense(2, input_shape=(3,))])\n"
        "model.save(sys.argv[1])\n")
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "m.ildl")],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "writing"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"partial"
    assert (tmp_path / "m.ildl").read_bytes() == before
    age(leftovers[0], atomic.STALE_AFTER_SECONDS + 1)
    atomic._last_sweep.pop(str(tmp_path))  # as in a new process, or minutes later
    make_model().save(tmp_path / "m.ildl")
    assert [p.name for p in tmp_path.iterdir()] == ["m.ildl"]



def test_model_bytes_are_a_model_file_made_in_memory(tmp_path, data):
    """What the playground's download sends: written to a file, it loads as the model saved."""
    from ildl.nn.saving import model_bytes

    model = make_model()
    model.fit(*data, epochs=2, verbose=0)
    content = model_bytes(model)
    assert os.listdir(tmp_path) == []  # made in memory
    (tmp_path / "memory.ildl").write_bytes(content)
    model.save(tmp_path / "disk.ildl")
    from_memory, from_disk = (nn.load_model(tmp_path / name)
                              for name in ("memory.ildl", "disk.ildl"))
    for a, b, c in zip(from_memory.get_weights(), from_disk.get_weights(), model.get_weights(),
                       strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    for name, state in from_disk.optimizer.get_state().items():
        np.testing.assert_array_equal(from_memory.optimizer.get_state()[name], state)
    assert from_memory.epochs_trained == 2
