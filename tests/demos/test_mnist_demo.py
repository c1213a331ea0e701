"""The MNIST CNN experiment: where the digits come from (folder, test split only, synthetic
fallback), the network's shape, checkpoint and resume, and the real MNIST accuracy when
available."""

import gzip
import os
import struct

import numpy as np
import pytest

from ildl import nn
from ildl.data import make_digits
from ildl.demos import mnist as demo
from ildl.demos.mnist import build_cnn, digit_data, train_cnn
from ildl.errors import MissingFileError, ModelFileError

MNIST_DIR = os.environ.get("ILDL_MNIST_DIR")


def write_idx(path, array, compress=False):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", size) for size in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def write_split(folder, split, images, labels):
    stems = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}[split]
    write_idx(folder / stems[0], images)
    write_idx(folder / stems[1], labels)


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Any attempt to download fails as offline would (and the cache is a fresh folder)."""
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))

    def offline(*args, **kwargs):
        raise FileNotFoundError("MNIST could not be downloaded (test: offline)")

    monkeypatch.setattr(demo, "download_mnist", offline)


def test_a_folder_with_only_the_test_split_gives_8000_2000(tmp_path, no_network):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10_000, dtype=np.uint8)
    write_split(tmp_path, "test", images, labels)
    data = digit_data(str(tmp_path))
    assert (len(data.x_train), len(data.x_val)) == (8000, 2000)
    assert data.x_train.shape == (8000, 28, 28, 1) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int64
    # the first 8000 train, the last 2000 validate, in file order, scaled to [0, 1]
    np.testing.assert_array_equal(data.y_train, labels[:8000])
    np.testing.assert_array_equal(data.y_val, labels[8000:])
    np.testing.assert_allclose(data.x_val[:, :, :, 0], images[8000:] / 255, rtol=1e-6)
    assert "8000/2000" in data.source and data.folder == str(tmp_path)
    # The source goes into titles: the folder's name, never the path to it.
    assert tmp_path.name in data.source and str(tmp_path.parent) not in data.source


def test_a_folder_with_both_splits_gives_train_and_test(tmp_path, no_network):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, size=(30, 28, 28)), np.arange(30) % 10
    test = rng.integers(0, 256, size=(12, 28, 28)), np.arange(12) % 10
    write_split(tmp_path, "train", *train)
    write_split(tmp_path, "test", *test)
    data = digit_data(str(tmp_path))
    assert (len(data.x_train), len(data.x_val)) == (30, 12)
    np.testing.assert_allclose(data.x_train[..., 0], train[0] / 255, rtol=1e-6)
    np.testing.assert_array_equal(data.y_val, test[1])
    assert data.source == f"MNIST train/test from {tmp_path.name}/"


def test_no_folder_and_no_downloads_gives_synthetic_digits(no_network):
    data = digit_data(None, allow_download=False, fallback_samples=50)
    assert (len(data.x_train), len(data.x_val)) == (40, 10)
    assert "synthetic" in data.source and data.folder is None
    assert data.x_train.dtype == np.float32 and data.x_train.shape[1:] == (28, 28, 1)
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    images, labels = make_digits(50, random_state=0)
    np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_val]), labels)
    np.testing.assert_allclose(data.x_val[..., 0], images[40:] / 255, rtol=1e-6)


def test_offline_download_falls_back_to_synthetic_digits_and_says_so(no_network, capsys):
    data = digit_data(None, allow_download=True, fallback_samples=20)
    assert "synthetic" in data.source and len(data.x_train) == 16
    output = capsys.readouterr().out
    assert "could not be downloaded" in output and "synthetic digits" in output


def test_build_cnn_is_the_experiments_network():
    model = build_cnn()
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert [layer.output_shape for layer in model.layers] == [
        (28, 28, 32), (14, 14, 32), (14, 14, 64), (7, 7, 64), (3136,), (128,), (10,)]
    # 3*3*1*32 + 32, 3*3*32*64 + 64, 3136*128 + 128, 128*10 + 10
    assert model.count_params() == 320 + 18_496 + 401_536 + 1_290
    assert [layer.activation.name for layer in model.layers if layer.params] == \
        ["relu", "relu", "relu", "softmax"]
    assert [layer.padding for layer in model.layers[:4]] == ["same", "valid", "same", "valid"]


def test_train_cnn_checkpoints_and_resumes_exactly(tmp_path, capsys):
    """1 epoch, then a second call with epochs=2 resumes from cnn.ildl: the weights equal those
    of 2 uninterrupted epochs (weights, Adam state and shuffling generator were saved)."""
    images, labels = make_digits(60, random_state=2)
    data = demo._split(images, labels, 0.2, "test digits")
    first, history = train_cnn(data, epochs=1, out_dir=str(tmp_path), verbose=0)
    assert (tmp_path / "cnn.ildl").exists() and len(history.history["loss"]) == 1
    resumed, history = train_cnn(data, epochs=2, out_dir=str(tmp_path), verbose=1)
    assert "resuming" in capsys.readouterr().out
    assert resumed.epochs_trained == 2 and len(history.history["loss"]) == 1
    assert nn.load_model(tmp_path / "cnn.ildl").epochs_trained == 2
    straight, _ = train_cnn(data, epochs=2, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.skipif(not MNIST_DIR, reason="set ILDL_MNIST_DIR to a folder with the MNIST IDX files "
                                          "(e.g. ../shared/data/mnist, the test split is enough)")
def test_real_mnist_one_epoch_is_above_95_percent():
    data = digit_data(MNIST_DIR, allow_download=False)
    assert len(data.x_train) in (8000, 60_000)
    model = build_cnn(seed=0)
    model.compile(nn.optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy",
                  ["accuracy"])
    history = model.fit(data.x_train, data.y_train, batch_size=64, epochs=1,
                        validation_data=(data.x_val, data.y_val), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.95


def test_half_a_train_split_is_an_error_not_a_silent_fallback(tmp_path, no_network):
    """Train images without their labels: the missing file is named (the test split alone is
    used only when no train file is there)."""
    rng = np.random.default_rng(2)
    write_split(tmp_path, "test", rng.integers(0, 256, size=(10, 28, 28)), np.arange(10))
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, size=(10, 28, 28)))
    with pytest.raises(MissingFileError, match=r"train-labels-idx1-ubyte\(\.gz\) not found"):
        digit_data(str(tmp_path))


def test_a_checkpoint_of_another_model_is_refused_and_kept(tmp_path):
    other = nn.Sequential([nn.Dense(2, input_shape=(2,))])
    other.compile("sgd", "mse")
    other.save(tmp_path / "cnn.ildl")
    before = (tmp_path / "cnn.ildl").read_bytes()
    images, labels = make_digits(20, random_state=0)
    with pytest.raises(ModelFileError, match=r"holds another model \(inputs \(2,\), outputs "
                                             r"\(2,\)\), not this experiment's CNN"):
        train_cnn(demo._split(images, labels, 0.2, "test digits"), epochs=1,
                  out_dir=str(tmp_path), verbose=0)
    assert (tmp_path / "cnn.ildl").read_bytes() == before


# --------------------------------------------------------------------------------------
# `ildl nn mnist` with bad arguments: one line `ildl: error: ...`, exit status 2, and nothing
# downloaded, created or changed
# --------------------------------------------------------------------------------------

@pytest.fixture
def mnist_cli(tmp_path, monkeypatch, capsys):
    """Runs `ildl nn mnist ARGS` in tmp_path; returns (status, stderr). Any download fails the
    test: bad arguments must be refused before."""
    from ildl.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))

    def no_download(*args, **kwargs):
        raise AssertionError("a bad argument must be refused before any download")

    monkeypatch.setattr(demo, "download_mnist", no_download)

    def run(*arguments):
        status = main(["nn", "mnist", *arguments])
        return status, capsys.readouterr().err

    return run


def one_line_error(status, error, *fragments):
    assert status == 2 and error.startswith("ildl: error: ") and error.count("\n") == 1, error
    assert "Traceback" not in error
    for fragment in fragments:
        assert fragment in error, (fragment, error)


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_cli_epochs_below_1_are_refused_before_touching_disk(mnist_cli, tmp_path, epochs):
    status, error = mnist_cli("--epochs", epochs, "--out", "run")
    one_line_error(status, error, f"--epochs must be at least 1, got {epochs}")
    assert "cnn.ildl has already" not in error
    assert sorted(os.listdir(tmp_path)) == []  # no run folder, no cache


def test_cli_data_dir_that_does_not_exist(mnist_cli, tmp_path):
    status, error = mnist_cli("--data-dir", "nowhere", "--out", "run")
    one_line_error(status, error, "MNIST folder 'nowhere' does not exist",
                   "without --data-dir")
    assert sorted(os.listdir(tmp_path)) == []


def test_cli_data_dir_without_the_files(mnist_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("digits?", encoding="utf-8")
    status, error = mnist_cli("--data-dir", "empty", "--out", "run")
    one_line_error(status, error, "t10k-images-idx3-ubyte(.gz) not found in 'empty'",
                   "t10k-labels-idx1-ubyte.gz", "https://", "without --data-dir")
    assert sorted(os.listdir(tmp_path)) == ["empty"]
    assert os.listdir(tmp_path / "empty") == ["notes.txt"]


def test_cli_data_dir_that_is_a_file(mnist_cli, tmp_path):
    (tmp_path / "digits.gz").write_bytes(b"not a folder")
    status, error = mnist_cli("--data-dir", "digits.gz", "--out", "run")
    one_line_error(status, error, "'digits.gz' is a file, not a folder")
    assert sorted(os.listdir(tmp_path)) == ["digits.gz"]
    assert (tmp_path / "digits.gz").read_bytes() == b"not a folder"


def test_cli_damaged_data_file_is_named(mnist_cli, tmp_path):
    (tmp_path / "mnist").mkdir()
    write_split(tmp_path / "mnist", "test", np.zeros((10, 28, 28)), np.full(10, 255))
    status, error = mnist_cli("--data-dir", "mnist", "--out", "run")
    one_line_error(status, error, os.path.join("mnist", "t10k-labels-idx1-ubyte"),
                   "label 255 at position 0", "Fix:")
    assert sorted(os.listdir(tmp_path)) == ["mnist"]


def test_cli_out_that_is_a_file(mnist_cli, tmp_path):
    (tmp_path / "run").write_bytes(b"my notes")
    status, error = mnist_cli("--out", "run", "--no-download")
    one_line_error(status, error, "--out 'run' is a file")
    assert (tmp_path / "run").read_bytes() == b"my notes"
