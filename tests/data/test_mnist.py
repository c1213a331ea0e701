"""MNIST IDX reader: hand-built files, damaged files, and the real test set when available;
downloads (mirrors, checksums, cache, offline errors) from a local HTTP server, no internet."""

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import struct
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from ildl.data import download_mnist, load_mnist, read_idx
from ildl.data import mnist as mnist_module
from ildl.data.mnist import FILES, MD5, cache_dir

MNIST_DIR = os.environ.get("ILDL_MNIST_DIR")
# Published class counts of the MNIST test set (LeCun et al.), digits 0..9.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", size) for size in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_hand_built_files(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3))
    path = tmp_path / ("images.idx" + (".gz" if compress else ""))
    write_idx(path, images, compress)
    np.testing.assert_array_equal(read_idx(path), images)


def test_load_mnist_finds_plain_and_gzipped_files(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, size=(6, 28, 28))
    labels = np.arange(6) % 10
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, compress=False)
    x, y = load_mnist(tmp_path, split="test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_truncated_idx_file_is_refused_with_sizes(tmp_path):
    path = tmp_path / "cut.idx"
    write_idx(path, np.zeros((4, 4), dtype=np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_non_idx_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, split="test")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")


@pytest.mark.skipif(not MNIST_DIR, reason="set ILDL_MNIST_DIR to a folder with the MNIST IDX files")
def test_real_mnist_test_set():
    x, y = load_mnist(MNIST_DIR, split="test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == MNIST_TEST_COUNTS


# --------------------------------------------------------------------------------------
# download_mnist / load_mnist(path=None), served from a local HTTP server (no internet)
# --------------------------------------------------------------------------------------

CANONICAL_NAMES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                   "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output clean
        pass


@contextlib.contextmanager
def http_folder(folder):
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def md5_of(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder of four small hand-built MNIST-named .gz files, their MD5s, and its URL; the
    download cache (ILDL_CACHE) is redirected under tmp_path and proxies are bypassed."""
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()
    rng = np.random.default_rng(7)
    arrays = {"train": (rng.integers(0, 256, size=(12, 28, 28)), np.arange(12) % 10),
              "test": (rng.integers(0, 256, size=(5, 28, 28)), np.array([3, 1, 4, 1, 5]))}
    for split, (images_stem, labels_stem) in FILES.items():
        write_idx(served / f"{images_stem}.gz", arrays[split][0], compress=True)
        write_idx(served / f"{labels_stem}.gz", arrays[split][1], compress=True)
    checksums = {path.name: md5_of(path) for path in served.iterdir()}
    assert sorted(checksums) == CANONICAL_NAMES
    with http_folder(served) as url:
        yield SimpleNamespace(url=url, folder=served, checksums=checksums, arrays=arrays,
                              cache=tmp_path / "cache" / "mnist")


def test_published_md5_table_has_the_four_canonical_files():
    assert sorted(MD5) == CANONICAL_NAMES
    assert all(len(digest) == 32 and int(digest, 16) >= 0 for digest in MD5.values())
    assert sorted(f"{stem}.gz" for pair in FILES.values() for stem in pair) == CANONICAL_NAMES


def test_cache_dir_follows_ildl_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path))
    assert cache_dir() == os.path.join(str(tmp_path), "mnist")
    monkeypatch.delenv("ILDL_CACHE")
    assert cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "ildl", "mnist")


def test_download_lands_in_the_cache_and_loads(mirror):
    folder = download_mnist(mirrors=[mirror.url], checksums=mirror.checksums, timeout=10)
    assert folder == str(mirror.cache)
    assert sorted(os.listdir(folder)) == CANONICAL_NAMES  # and no temporary files
    for name in CANONICAL_NAMES:
        assert (mirror.cache / name).read_bytes() == (mirror.folder / name).read_bytes()
    for split in ("train", "test"):
        x, y = load_mnist(folder, split=split)
        np.testing.assert_array_equal(x, mirror.arrays[split][0])
        np.testing.assert_array_equal(y, mirror.arrays[split][1])


def test_load_mnist_without_a_path_downloads_once_into_the_cache(mirror, monkeypatch):
    """load_mnist() with no path goes through download_mnist(); pointed at the local mirror it
    downloads, then reads the cache without the network the second time."""
    calls = []
    original = mnist_module.download_mnist

    def local_download():
        calls.append(1)
        return original(mirrors=[mirror.url], checksums=mirror.checksums, timeout=10)

    monkeypatch.setattr(mnist_module, "download_mnist", local_download)
    x, y = load_mnist(split="test")
    np.testing.assert_array_equal(x, mirror.arrays["test"][0])
    np.testing.assert_array_equal(y, mirror.arrays["test"][1])
    assert sorted(os.listdir(mirror.cache)) == CANONICAL_NAMES
    # the files are there and verified: an unreachable mirror is not needed any more
    folder = original(mirrors=["http://127.0.0.1:9/"], checksums=mirror.checksums, timeout=5)
    x_train, _ = load_mnist(folder, split="train")
    np.testing.assert_array_equal(x_train, mirror.arrays["train"][0])


def test_wrong_checksum_is_refused_and_nothing_is_left(mirror):
    checksums = dict(mirror.checksums)
    checksums["t10k-labels-idx1-ubyte.gz"] = "0" * 32
    with pytest.raises(FileNotFoundError) as error:
        download_mnist(mirrors=[mirror.url], checksums=checksums, timeout=10)
    message = str(error.value)
    assert "checksum" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert not (mirror.cache / "t10k-labels-idx1-ubyte.gz").exists()
    # the good files were kept, and no temporary or partial file remains
    assert sorted(os.listdir(mirror.cache)) == [name for name in CANONICAL_NAMES
                                                if name != "t10k-labels-idx1-ubyte.gz"]


def test_a_damaged_cached_file_is_downloaded_again(mirror):
    download_mnist(mirrors=[mirror.url], checksums=mirror.checksums, timeout=10)
    damaged = mirror.cache / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    download_mnist(mirrors=[mirror.url], checksums=mirror.checksums, timeout=10)
    assert md5_of(damaged) == mirror.checksums["train-images-idx3-ubyte.gz"]


@pytest.mark.parametrize("first", ["unreachable", "missing_files", "corrupt_files"])
def test_the_next_mirror_is_used_when_the_first_fails(mirror, first, tmp_path):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for name in CANONICAL_NAMES:  # same names, other content: wrong checksums
        (corrupt / name).write_bytes(b"not mnist")
    with http_folder(corrupt) as corrupt_url:
        first_url = {"unreachable": "http://127.0.0.1:9/",
                     "missing_files": mirror.url + "no-such-folder/",
                     "corrupt_files": corrupt_url}[first]
        folder = download_mnist(mirrors=[first_url, mirror.url], checksums=mirror.checksums,
                                timeout=10)
    for name in CANONICAL_NAMES:
        assert md5_of(mirror.cache / name) == mirror.checksums[name]
    np.testing.assert_array_equal(load_mnist(folder, split="test")[1], mirror.arrays["test"][1])


def test_offline_names_the_four_files_and_the_folder(mirror):
    with pytest.raises(FileNotFoundError) as error:
        download_mnist(mirrors=["http://127.0.0.1:9/"], checksums=mirror.checksums, timeout=5)
    message = str(error.value)
    assert str(mirror.cache) in message
    assert all(name in message for name in CANONICAL_NAMES)
    assert os.listdir(mirror.cache) == []


def test_offline_into_an_explicit_folder(tmp_path, monkeypatch):
    """The default checksums are the published ones: offline, the error names those files."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "elsewhere"
    with pytest.raises(FileNotFoundError) as error:
        download_mnist(str(target), mirrors=["http://127.0.0.1:9/"], timeout=5)
    assert str(target) in str(error.value)
    assert all(name in str(error.value) for name in CANONICAL_NAMES)
