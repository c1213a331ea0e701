"""save / nn.load_model: identical predictions, identical resumed training (weights, optimizer
state, random generator), clear ModelFileErrors for damaged or foreign files, no unpickling,
atomic writes."""

import io
import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

from ildl import nn


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
