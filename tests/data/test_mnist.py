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
from ildl.data.mnist import FILES, MD5, MIRRORS, cache_dir, read_idx_shape
from ildl.errors import ArgumentError, DataError, MissingFileError

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


# --------------------------------------------------------------------------------------
# Damaged and wrong files: each one a DataError naming the file, what is wrong and the fix;
# the files are built here byte by byte (struct), independently of the reader
# --------------------------------------------------------------------------------------

TEST_IMAGES, TEST_LABELS = FILES["test"]
ORIGINAL_URL = MIRRORS[0]


def idx_header(shape, type_code=0x08):
    """An IDX header declaring ``shape`` (whatever the values that follow)."""
    return struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(
        f">{len(shape)}I", *shape)


def write_test_split(folder, images, labels, compress=True):
    write_idx(folder / (TEST_IMAGES + (".gz" if compress else "")), images, compress)
    write_idx(folder / (TEST_LABELS + (".gz" if compress else "")), labels, compress)


def small_test_split(folder, n=20, compress=True):
    rng = np.random.default_rng(3)
    images, labels = rng.integers(0, 256, size=(n, 28, 28)), rng.integers(0, 10, size=n)
    write_test_split(folder, images, labels, compress)
    return images, labels


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def refused(folder, *fragments, split="test"):
    """load_mnist(folder) raises a DataError whose message holds every fragment and a fix; the
    folder is left exactly as it was. Returns the message."""
    before = snapshot(folder)
    with pytest.raises(DataError) as error:
        load_mnist(folder, split=split)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "Fix:" in message
    assert snapshot(folder) == before
    return message


def test_swapped_image_and_label_files_are_refused_by_their_headers(tmp_path):
    images, labels = small_test_split(tmp_path)
    (tmp_path / "swap").write_bytes((tmp_path / f"{TEST_IMAGES}.gz").read_bytes())
    os.replace(tmp_path / f"{TEST_LABELS}.gz", tmp_path / f"{TEST_IMAGES}.gz")
    os.replace(tmp_path / "swap", tmp_path / f"{TEST_LABELS}.gz")
    message = refused(tmp_path, f"{TEST_IMAGES}.gz", "declares shape (20,)", "0x00000801",
                      "(N, 28, 28)", "0x00000803", "swapped", f"{ORIGINAL_URL}{TEST_IMAGES}.gz")
    assert "download_mnist(" in message


def test_flat_images_of_784_values_are_refused(tmp_path):
    """The (10000, 784) layout some copies of MNIST use: refused from the header, before the
    7.8 MB of values are read."""
    (tmp_path / TEST_IMAGES).write_bytes(idx_header((10000, 784)) + bytes(10000 * 784))
    write_idx(tmp_path / TEST_LABELS, np.zeros(10000), compress=False)
    refused(tmp_path, TEST_IMAGES, "declares shape (10000, 784)", "(N, 28, 28)")


@pytest.mark.parametrize("type_code, name", [(0x0D, "float32"), (0x09, "signed byte"),
                                             (0x42, "not an IDX type")])
def test_values_of_another_type_are_refused(tmp_path, type_code, name):
    small_test_split(tmp_path)
    (tmp_path / f"{TEST_IMAGES}.gz").write_bytes(gzip.compress(
        idx_header((20, 28, 28), type_code) + bytes(20 * 28 * 28 * 4)))
    refused(tmp_path, f"{TEST_IMAGES}.gz", f"type 0x{type_code:02x} ({name})", "(type 0x08)")


def test_label_values_outside_0_to_9_are_refused(tmp_path):
    images, labels = small_test_split(tmp_path)
    labels[[4, 11]] = 255, 10
    write_idx(tmp_path / f"{TEST_LABELS}.gz", labels, compress=True)
    refused(tmp_path, f"{TEST_LABELS}.gz", "label 255 at position 4", "2 of 20 labels",
            "0 to 9", f"{ORIGINAL_URL}{TEST_LABELS}.gz")


def test_image_and_label_counts_must_match(tmp_path):
    images, labels = small_test_split(tmp_path)
    write_idx(tmp_path / f"{TEST_LABELS}.gz", labels[:-1], compress=True)
    refused(tmp_path, "20 images", f"{TEST_IMAGES}.gz", "19 labels", f"{TEST_LABELS}.gz")


def test_more_items_than_the_split_has_are_refused_before_reading(tmp_path):
    """A header declaring 2**31 labels (or 10 001 for the 10 000 of the test split) is refused
    at once: nothing of the 2 GB it announces is read or allocated."""
    small_test_split(tmp_path)
    for count in (10_001, 2**31):
        (tmp_path / f"{TEST_LABELS}.gz").write_bytes(gzip.compress(idx_header((count,))))
        refused(tmp_path, f"{TEST_LABELS}.gz", f"declares {count:,} labels", "10,000",
                "test split")


def test_a_gzip_bomb_is_read_no_further_than_its_header_declares(tmp_path):
    """20 labels declared, then 1 GiB of zeros in 1 KB of gzip (1024 gzip members of 1 MiB):
    reading stops one byte after the declared 20, with little memory."""
    import tracemalloc

    small_test_split(tmp_path)
    mebibyte_of_zeros = gzip.compress(bytes(1 << 20))
    bomb = gzip.compress(idx_header((20,)) + bytes(20)) + mebibyte_of_zeros * 1024
    (tmp_path / f"{TEST_LABELS}.gz").write_bytes(bomb)
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        refused(tmp_path, f"{TEST_LABELS}.gz", "declares shape (20,)", "20 bytes",
                "holds more")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20


def test_read_idx_reads_a_huge_declared_shape_only_as_far_as_the_file_goes(tmp_path):
    """A header declaring 4e12 bytes of values over 10 real ones: the generic reader grows its
    buffer with what arrives and reports the truncation (no MemoryError)."""
    path = tmp_path / "huge.idx"
    path.write_bytes(idx_header((2_000_000, 2_000_000)) + bytes(10))
    with pytest.raises(DataError, match=r"4,000,000,000,000 bytes of values, but holds only 10"):
        read_idx(path)


@pytest.mark.parametrize("cut", [3, 9, 14])
def test_a_file_cut_inside_its_header_is_refused(tmp_path, cut):
    small_test_split(tmp_path, compress=False)
    path = tmp_path / TEST_IMAGES
    path.write_bytes(path.read_bytes()[:cut])
    fragment = "not an IDX file" if cut < 4 else "ends inside its header"
    refused(tmp_path, TEST_IMAGES, fragment)


def test_an_empty_file_is_refused(tmp_path):
    small_test_split(tmp_path, compress=False)
    (tmp_path / TEST_LABELS).write_bytes(b"")
    refused(tmp_path, TEST_LABELS, "is not an IDX file: it is empty")


def test_a_file_that_cannot_be_opened_is_named(tmp_path, monkeypatch):
    """As without read permission (which root, running these tests, always has)."""
    small_test_split(tmp_path)

    def denied(path, mode="r", *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(mnist_module, "open", denied, raising=False)
    with pytest.raises(DataError, match=f"{TEST_IMAGES}.gz' cannot be read: Permission denied"):
        load_mnist(tmp_path, split="test")


def test_a_file_with_extra_bytes_is_refused(tmp_path):
    small_test_split(tmp_path, compress=False)
    path = tmp_path / TEST_LABELS
    path.write_bytes(path.read_bytes() + b"\0")
    refused(tmp_path, TEST_LABELS, "declares shape (20,)", "holds more")


def test_files_are_recognised_as_gzipped_by_their_content_not_their_name(tmp_path):
    """A browser may save the .gz already unpacked under its .gz name; and a gzipped file may
    have lost its suffix. Both read."""
    images, labels = small_test_split(tmp_path, compress=False)
    os.replace(tmp_path / TEST_IMAGES, tmp_path / f"{TEST_IMAGES}.gz")  # plain, named .gz
    write_idx(tmp_path / TEST_LABELS, labels, compress=True)  # gzipped, no suffix
    x, y = load_mnist(tmp_path, split="test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def every_bit_flip(content):
    for position in range(len(content)):
        for bit in range(8):
            flipped = bytearray(content)
            flipped[position] ^= 1 << bit
            yield position, bytes(flipped)


def test_every_bit_flip_of_a_gzipped_file_loads_the_same_or_is_refused(tmp_path):
    """All 8 bit flips of every byte of a gzipped label file: each either changes nothing that
    is read (the gzip header's time stamp, say) or is a DataError naming the file -- never a
    zlib.error, an EOFError or other labels."""
    images, labels = small_test_split(tmp_path)
    path = tmp_path / f"{TEST_LABELS}.gz"
    original = gzip.compress(idx_header(labels.shape) + labels.astype(np.uint8).tobytes(),
                             mtime=0)  # no file name in the gzip header: every byte matters
    outcomes = {"same": 0, "refused": 0}
    for position, flipped in every_bit_flip(original):
        path.write_bytes(flipped)
        try:
            x, y = load_mnist(tmp_path, split="test")
        except DataError as error:
            assert str(path) in str(error) and "Fix:" in str(error), (position, error)
            outcomes["refused"] += 1
        else:
            np.testing.assert_array_equal(y, labels, err_msg=f"flip at byte {position}")
            np.testing.assert_array_equal(x, images)
            outcomes["same"] += 1
    # Harmless flips can only be in the gzip header's flag, time, extra-flag and system bytes
    # (3 to 9) and in the at most 7 unused bits of the last deflate byte.
    assert outcomes["same"] <= 7 * 8 + 7, outcomes


@pytest.mark.skipif(not MNIST_DIR, reason="set ILDL_MNIST_DIR to a folder with the MNIST IDX files")
def test_400_byte_flips_of_the_real_label_file_are_refused_or_harmless(tmp_path):
    """The issue's experiment: 400 random byte flips of t10k-labels-idx1-ubyte.gz (97 used to
    raise a bare zlib.error)."""
    real = os.path.join(MNIST_DIR, f"{TEST_LABELS}.gz")
    if not os.path.exists(real):
        pytest.skip(f"{real} is not there")
    with open(real, "rb") as file:
        original = file.read()
    reference = read_idx(real)
    rng = np.random.default_rng(12)
    path = tmp_path / f"{TEST_LABELS}.gz"
    refusals = 0
    for position, value in zip(rng.integers(0, len(original), 400), rng.integers(1, 256, 400)):
        flipped = bytearray(original)
        flipped[position] ^= value
        path.write_bytes(bytes(flipped))
        try:
            np.testing.assert_array_equal(read_idx(path), reference)
        except DataError as error:
            assert str(path) in str(error) and f"{ORIGINAL_URL}{TEST_LABELS}.gz" in str(error)
            refusals += 1
    assert refusals > 300


def test_a_folder_that_is_missing_or_a_file_is_named(tmp_path):
    with pytest.raises(MissingFileError, match="MNIST folder .*nowhere.* does not exist"):
        load_mnist(tmp_path / "nowhere", split="test")
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ArgumentError, match="is a file, not a folder"):
        load_mnist(tmp_path / "a_file", split="test")
    assert (tmp_path / "a_file").read_text(encoding="utf-8") == "not a folder"


def test_a_missing_file_names_both_files_of_the_split_and_the_url(tmp_path):
    small_test_split(tmp_path)
    (tmp_path / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(MissingFileError) as error:
        load_mnist(tmp_path, split="test")
    message = str(error.value)
    assert f"{TEST_LABELS}(.gz) not found in {str(tmp_path)!r}" in message
    assert f"{TEST_IMAGES}.gz and {TEST_LABELS}.gz" in message and ORIGINAL_URL in message


def test_an_idx_path_that_is_missing_or_a_folder(tmp_path):
    with pytest.raises(MissingFileError, match="no IDX file"):
        read_idx(tmp_path / "missing.idx")
    with pytest.raises(DataError, match="is a folder, not an IDX file"):
        read_idx(tmp_path)


def test_read_idx_shape_reads_only_the_header(tmp_path):
    path = tmp_path / "declared.idx.gz"
    path.write_bytes(gzip.compress(idx_header((7, 28, 28))))  # no values at all
    assert read_idx_shape(path) == (7, 28, 28)


def test_download_into_a_file_is_refused(tmp_path):
    target = tmp_path / "mnist"
    target.write_bytes(b"keep me")
    with pytest.raises(ArgumentError, match="is a file"):
        download_mnist(str(target), mirrors=["http://127.0.0.1:9/"], timeout=5)
    assert target.read_bytes() == b"keep me"


def test_an_oversized_download_is_refused(mirror, monkeypatch):
    """A mirror answering with more bytes than any MNIST file is not read to its end."""
    monkeypatch.setattr(mnist_module, "_MAX_DOWNLOAD_BYTES", 100)
    with pytest.raises(FileNotFoundError) as error:
        download_mnist(mirrors=[mirror.url], checksums=mirror.checksums, timeout=10)
    assert "more than 100 bytes, larger than any MNIST file" in str(error.value)
    small = sorted(name for name in CANONICAL_NAMES if (mirror.folder / name).stat().st_size <= 100)
    assert small and sorted(os.listdir(mirror.cache)) == small  # the label files only
