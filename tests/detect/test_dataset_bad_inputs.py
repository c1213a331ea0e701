"""ildl.detect.dataset on bad inputs: images of every pixel format, splits with nothing usable,
and data.yaml files wrong in every way found.

Each bad input must end in a ``DatasetError`` (an ``ildl.errors.DataError``) whose message says
what is wrong, where (the file, and its line or key), what was expected and how to fix it; or,
for a bad image in the default mode, in the image being skipped and counted. No input file is
ever changed: every test compares the hash of each file before and after.
"""

import contextlib
import hashlib
import time

import numpy as np
import pytest
from PIL import Image

from ildl.detect.dataset import (
    DatasetError,
    DetectionDataset,
    _rgb_pixels,
    letterbox,
    load_data_yaml,
    load_image,
)
from ildl.errors import DataError

pytest.importorskip("yaml")
YAML = "train: images/train\nval: images/val\nnames: [circle, square]\n"
GOOD_LABEL = "0 0.5 0.5 0.4 0.4\n"


def file_hashes(root):
    """{relative path: sha256} of every file under ``root``."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@contextlib.contextmanager
def unchanged(root):
    """Check that the block leaves every file under ``root`` as it was (and adds none)."""
    before = file_hashes(root)
    yield
    assert file_hashes(root) == before


def write_image(path, image):
    """Save a PIL image, or raw bytes, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, bytes):
        path.write_bytes(image)
    else:
        image.save(path)


def make_dataset(root, train=None, val=None, yaml=YAML):
    """A dataset with the given {file name: (image or bytes, label text or None)} per split;
    by default one good 40 x 30 image with one object in each."""
    default = {"0.png": (Image.new("RGB", (40, 30), (200, 90, 20)), GOOD_LABEL)}
    for split, items in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        for name, (image, label) in (default if items is None else items).items():
            write_image(root / "images" / split / name, image)
            if label is not None:
                label_file = (root / "labels" / split / name).with_suffix(".txt")
                label_file.parent.mkdir(parents=True, exist_ok=True)
                label_file.write_text(label)
    (root / "data.yaml").write_text(yaml)
    return root / "data.yaml"


def assert_says(message, *parts):
    """Every part (a literal piece of text) is in the message, and it is one line."""
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message


def tiff_bytes(array):
    from io import BytesIO

    buffer = BytesIO()
    Image.fromarray(array).save(buffer, format="TIFF")
    return buffer.getvalue()


# --- pixel formats -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw16():
    """16-bit grey values over the whole range, dark ones included."""
    values = np.random.default_rng(0).integers(0, 65536, size=(30, 40))
    values[0, :4] = [0, 255, 256, 65535]
    return values.astype(np.uint16)


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16_bit_grey_is_read_by_its_high_byte(tmp_path, raw16, suffix):
    path = tmp_path / f"grey16.{suffix}"
    Image.fromarray(raw16).save(path)
    expected = (raw16.astype(np.int64) // 256).astype(np.uint8)  # 65535 -> 255, 255 -> 0
    image = load_image(path)
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(image[..., channel], expected)
    assert image[0, 0, 0] == 0 and image[0, 3, 0] == 255 and image.mean() < 200  # not white


def test_16_bit_grey_reads_like_16_bit_colour():
    # Pillow turns a 16-bit RGB PNG into 8 bits by the high byte: the grey path must agree
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    rgb = np.random.default_rng(1).integers(0, 65536, size=(5, 7, 3)).astype(">u2")
    rows = b"".join(b"\x00" + row.tobytes() for row in rgb)  # filter type 0 before each row
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 5, 16, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    from io import BytesIO

    colour = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    np.testing.assert_array_equal(colour, (rgb.astype(np.int64) // 256).astype(np.uint8))
    grey = _rgb_pixels(Image.fromarray(rgb[..., 0].astype(np.uint16)), "PNG", "grey.png")
    np.testing.assert_array_equal(grey[..., 0], colour[..., 0])


def test_16_bit_png_opened_as_32_bit_by_older_pillows_is_read_as_16_bit(raw16):
    # older Pillows open 16-bit grey PNGs in mode "I" (32-bit); a PNG cannot hold more than 16
    as_old_pillow = Image.fromarray(raw16.astype(np.int32))
    assert as_old_pillow.mode == "I"
    pixels = _rgb_pixels(as_old_pillow, "PNG", "old.png")
    np.testing.assert_array_equal(pixels[..., 1], (raw16.astype(np.int64) // 256))
    with pytest.raises(DatasetError, match="32-bit integer"):
        _rgb_pixels(as_old_pillow, "TIFF", "a.tif")  # from a TIFF it can be 32 bits


def test_float_image_in_0_1_is_scaled_by_255(tmp_path):
    raw = np.random.default_rng(2).random((30, 40)).astype(np.float32)
    raw[0, :2] = [0.0, 1.0]
    (tmp_path / "f.tif").write_bytes(tiff_bytes(raw))
    image = load_image(tmp_path / "f.tif")
    expected = np.floor(raw.astype(np.float64) * 255 + 0.5)  # round half up; no ties here
    np.testing.assert_array_equal(image, np.repeat(expected[..., None], 3, axis=2))
    assert image[0, 0, 0] == 0 and image[0, 1, 0] == 255 and 100 < image.mean() < 155


@pytest.mark.parametrize("name, array, said", [
    ("float255.tif", np.linspace(0, 255, 1200, dtype=np.float32).reshape(30, 40),
     "32-bit float pixels from 0 to 255"),
    ("negative.tif", np.linspace(-1, 1, 1200, dtype=np.float32).reshape(30, 40),
     "32-bit float pixels from -1 to 1"),
    ("nan.tif", np.full((30, 40), np.nan, np.float32), "NaN or infinite"),
    ("int32.tif", np.arange(1200, dtype=np.int32).reshape(30, 40) * 1000,
     "32-bit integer pixels from 0 to 1199000"),
])
def test_pixels_without_a_known_range_are_refused(tmp_path, name, array, said):
    image_bytes = tiff_bytes(array)
    path = make_dataset(tmp_path, train={"0.png": (Image.new("RGB", (40, 30)), GOOD_LABEL),
                                         name: (image_bytes, GOOD_LABEL)})
    with unchanged(tmp_path):
        with pytest.raises(DatasetError) as error:
            load_image(tmp_path / "images" / "train" / name)
        fix = "save the image as 8-bit"
        assert_says(str(error.value), f"images/train/{name}: unsupported pixel values", said, fix)
        with pytest.raises(DatasetError, match=f"{name}: unsupported pixel values"):
            DetectionDataset(path, strict=True)
        data = DetectionDataset(path)  # the default: skipped and counted
    assert data.summary()["problems"] == {"unsupported pixel values": 1}
    assert data.summary()["skipped_images"] == 1 and len(data) == 1


@pytest.mark.parametrize("mode, colour, expected", [
    ("L", 77, (77, 77, 77)), ("RGBA", (10, 20, 30, 0), (10, 20, 30)),
    ("1", 1, (255, 255, 255)), ("LA", (200, 9), (200, 200, 200)),
])
def test_8_bit_modes_keep_their_values(tmp_path, mode, colour, expected):
    Image.new(mode, (6, 4), colour).save(tmp_path / "a.png")
    np.testing.assert_array_equal(load_image(tmp_path / "a.png"),
                                  np.full((4, 6, 3), expected, np.uint8))


def test_a_16_bit_grey_dataset_trains_on_the_real_picture(tmp_path, raw16):
    image = Image.fromarray(raw16)
    path = make_dataset(tmp_path, train={"a.png": (image, GOOD_LABEL)})
    data = DetectionDataset(path, imgsz=40, augment=False)
    pixels, _ = data.sample(0)  # 40 x 30 letterboxed into 40 x 40: rows 5..34
    np.testing.assert_array_equal(pixels[5:35, :, 2], raw16.astype(np.int64) // 256)


# --- images that crashed the skip-and-count policy -----------------------------------------


@pytest.mark.parametrize("size", [(4000, 2), (2, 4000), (3, 1000)])
def test_extreme_aspect_ratios_are_letterboxed(tmp_path, size):
    strip = Image.new("RGB", size, (0, 0, 0))
    label = "0 0.5 0.5 0.5 1.0\n" if size[0] > size[1] else "0 0.5 0.5 1.0 0.5\n"
    path = make_dataset(tmp_path, train={"strip.png": (strip, label),
                                         "z.png": (Image.new("RGB", (40, 30)), GOOD_LABEL)})
    square, fit = letterbox(np.zeros((size[1], size[0], 3), np.uint8), 64)
    # the longer side becomes 64 px, the other 1 px (not 0), centred in the square
    painted = np.argwhere((square != 114).any(axis=2))
    long_axis = 1 if size[0] > size[1] else 0
    assert set(painted[:, 1 - long_axis]) == {(64 - 1) // 2}
    assert len(set(painted[:, long_axis])) == 64
    for augment in (False, True):  # the mosaic, zoom and flips too
        data = DetectionDataset(path, imgsz=64, augment=augment, seed=1)
        for epoch in range(3):
            data.set_epoch(epoch)
            for i in range(len(data)):
                image, targets = data.sample(i)
                assert image.shape == (64, 64, 3) and np.isfinite(targets).all()


def jpeg_cut_short(size=(300, 200)):
    from io import BytesIO

    noise = np.random.default_rng(3).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buffer = BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG")
    whole = buffer.getvalue()
    return whole[:len(whole) * 2 // 3]


def test_a_truncated_jpeg_is_found_when_the_split_is_read(tmp_path):
    cut = jpeg_cut_short()
    path = make_dataset(tmp_path, train={"0.png": (Image.new("RGB", (40, 30)), GOOD_LABEL),
                                         "cut.jpg": (cut, GOOD_LABEL)})
    with Image.open(tmp_path / "images" / "train" / "cut.jpg") as image:
        image.verify()  # what the scan used to rely on: it passes
    with unchanged(tmp_path):
        with pytest.raises(DatasetError) as error:
            DetectionDataset(path, strict=True)
        assert_says(str(error.value), "images/train/cut.jpg: unreadable image", "truncated")
        data = DetectionDataset(path, imgsz=64, cache=True)
        plain = DetectionDataset(path, imgsz=64)
    assert data.summary()["problems"] == {"unreadable image": 1} and len(data) == 1
    for dataset in (data, plain):  # what training does with every image: no error now
        for epoch in range(2):
            dataset.set_epoch(epoch)
            assert dataset.sample(0)[0].shape == (64, 64, 3)


def test_a_split_of_broken_images_is_refused_with_what_was_found(tmp_path):
    broken = {"a.png": (b"not an image", GOOD_LABEL), "b.jpg": (jpeg_cut_short(), GOOD_LABEL)}
    path = make_dataset(tmp_path, train=broken)
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert isinstance(error.value, DataError)
    assert_says(str(error.value), f"{path}: split 'train' has no usable images",
                f"found 2 image files in {tmp_path / 'images' / 'train'}", "skipped all 2",
                "unreadable image 2", "images/train/a.png: unreadable image",
                "repair or replace them")


def test_an_empty_split_folder_is_refused(tmp_path):
    path = make_dataset(tmp_path, val={})
    (tmp_path / "images" / "val" / "notes.txt").write_text("not an image")
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path, "val")
    assert_says(str(error.value), f"{path}: split 'val' has no images",
                f"{tmp_path / 'images' / 'val'} holds no files ending in .bmp, .jpeg",
                "put the images there, or point 'val' in the yaml at the folder")
    assert len(DetectionDataset(path, "train")) == 1  # the other split is fine


def test_training_with_an_empty_val_split_never_starts(tmp_path):
    # it used to train, report mAP nan and "weights: best.pt" without ever writing best.pt
    pytest.importorskip("torch")
    from ildl.detect.train import train

    path = make_dataset(tmp_path / "data", val={})
    with unchanged(tmp_path), pytest.raises(DatasetError, match="split 'val' has no images"):
        train(str(path), epochs=1, imgsz=32, batch=1, out=str(tmp_path / "run"), verbose=False)
    assert not (tmp_path / "run").exists()


def test_a_split_without_objects_is_refused_and_says_where_labels_belong(tmp_path):
    images = {name: (Image.new("RGB", (40, 30)), None) for name in ("a.png", "b.png")}
    path = make_dataset(tmp_path, train=images)
    (tmp_path / "labels").rename(tmp_path / "annotations")  # a common mistake
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert_says(str(error.value), "split 'train' has 2 images but no objects",
                "2 have no label file", f"{tmp_path / 'labels' / 'train' / 'a.txt'}",
                "put the label files there")


def test_a_split_whose_label_lines_are_all_bad_is_refused(tmp_path):
    path = make_dataset(tmp_path, train={"a.png": (Image.new("RGB", (40, 30)), "7 .5 .5 .1 .1\n")})
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert_says(str(error.value), "has 1 images but no objects", "1 label lines were skipped",
                "class out of range 1", "labels/train/a.txt:1: class out of range")


def test_a_split_list_that_is_not_text_is_refused(tmp_path):
    path = make_dataset(tmp_path, yaml="train: train.txt\nnames: [a]\n")
    (tmp_path / "train.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        load_data_yaml(path)
    assert_says(str(error.value), f"{path}: train: {tmp_path / 'train.txt'}",
                "cannot be read as a list of images, one path a line")


# --- data.yaml -----------------------------------------------------------------------------


def billion_laughs(levels=9):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, level in zip("abcdefghi", "bcdefghij"[:levels - 1]):
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\ntrain: images/train\nnames: *i\n"


BAD_YAML = [  # (text, the parts of the message: where, what, expected, fix)
    (billion_laughs(), [":1: the value anchored here (&name) is used again through an alias",
                        "aliases are refused", "write the value out"]),
    ("base: &base images/train\ntrain: *base\nnames: [a]\n",
     [":1: the value anchored here", "aliases are refused"]),
    ("train: 123\nnames: [a]\n", [": train is 123 (a number)", "expected a folder of images",
                                  "quote a folder named like a number: train: '123'"]),
    ("train: [images/train, [x]]\nnames: [a]\n", [": train is ['images/train', ['x']] (a list)"]),
    ("train: {a: 1}\nnames: [a]\n", [": train is {'a': 1} (a mapping)"]),
    ("val: true\ntrain: images/train\nnames: [a]\n", [": val is True (a boolean)"]),
    ("train: images/train\nnames: {0: a, 2: b}\n",
     [": 'names' ids must be 0..1, got [0, 2] (missing 1)", "number the classes from 0"]),
    ("train: images/train\nnames: {0: a, x: b}\n", [": names: id 'x' (a string) is not a whole",
                                                    "as in {0: cat, 1: dog}"]),
    ("train: images/train\nnames: []\n", [": names is [] (a list)", "expected a non-empty list"]),
    ("train: images/train\nnames: {}\n", [": names is {} (a mapping)"]),
    ("train: images/train\nnames: circle\n", [": names is 'circle' (a string)"]),
    ("train: images/train\nnames: [a, b, a]\n", [": names: 'a' is the name of classes 0 and 2",
                                                 "each class needs its own name"]),
    ("train: images/train\nnames: [a, '', b]\n", [": names: entry 1 is '' (a string)",
                                                  "needs a non-empty name"]),
    ("train: images/train\nnames: [a, [b]]\n", [": names: entry 1 is ['b'] (a list)"]),
    ("train: images/train\nnames: [yes, no]\n", [": names: entry 0 is True (a boolean)",
                                                 "quote it"]),
    ("train: images/train\nnames: [a]\nnc: 2\n", [": nc is 2 but 'names' has 1 entries",
                                                  "correct nc or leave it out"]),
    ("train: images/train\nnc: '3'\n", [": nc (the number of classes) is '3' (a string)",
                                        "expected a whole number from 1 to 100000"]),
    ("train: images/train\nnc: 0\n", [": nc (the number of classes) is 0 (a number)"]),
    ("train: images/train\nnc: 100000000000\n", [": nc (the number of classes) is 100000000000"]),
    ("train: images/train\n", [": needs 'names' (a list, or a dict id: name)"]),
    ("names: [a]\n", [": needs 'train' and/or 'val'", "its keys are: ['names']"]),
    ("trian: images/train\nnames: [a]\n", [": needs 'train' and/or 'val'", "'trian'"]),
    ("train: images/train\nval: images/val\ntrain: images/val\nnames: [a]\n",
     [":3: key 'train' is given twice (first on line 1)", "keep one"]),
    ("- images/train\n- names\n", [": holds ['images/train', 'names'] (a list)",
                                   "expected a mapping with train:, val: and names: keys"]),
    ("", [": is empty; expected a mapping"]),
    ("just some words\n", [": holds 'just some words' (a string)"]),
    ("train: [images/train\n", [":2: not valid YAML", "a data.yaml is lines of 'key: value'"]),
    ("train: !!python/object/apply:os.system [ls]\nnames: [a]\n",
     [":1: not valid YAML (could not determine a constructor for the tag"]),
    ("a: 1\n---\nb: 2\n", [": not valid YAML (expected a single document"]),
    ("train: " + "[" * 3000 + "]" * 3000 + "\nnames: [a]\n", [": nested too deeply"]),
    ("path: 2024\ntrain: images/train\nnames: [a]\n", [": path is 2024 (a number)",
                                                       "path: '2024'"]),
    ("path: /no/such/folder\ntrain: images/other\nnames: [a]\n",
     [": train: /no/such/folder/images/other: no such folder, image or image list",
      "the dataset folder /no/such/folder ('path') does not exist"]),
    ("train: nowhere\nnames: [a]\n", ["/nowhere: no such folder, image or image list",
                                      "entries are relative to 'path'"]),
    ("train: passwd\nnames: [a]\n", ["/passwd: not an image (.bmp, .jpeg, .jpg, .png, .tif",
                                     "a folder of images or a .txt list of images"]),
]


@pytest.mark.parametrize("text, parts", BAD_YAML, ids=[text[:24] for text, _ in BAD_YAML])
def test_a_bad_data_yaml_is_explained(tmp_path, text, parts):
    path = make_dataset(tmp_path, yaml=text)
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    start = time.perf_counter()
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert time.perf_counter() - start < 10  # the nested aliases hung past 120 s
    message = str(error.value)
    assert message.startswith(str(path)), message  # the file first, then the line or key
    assert_says(message, *parts)


@pytest.mark.parametrize("content, parts", [
    ("png", [":1: not UTF-8 text (byte 0x89 at offset 0)", "is it an image"]),
    (b"train: images/train\nnames: [caf\xe9]\n", [":2: not UTF-8 text (byte 0xe9 at offset 31)"]),
    (b"x" * 1_500_000, [": 1.5 MB is too large for a data.yaml (at most 256 kB)"]),
])
def test_a_data_yaml_that_is_not_a_short_text_file_is_refused(tmp_path, content, parts):
    make_dataset(tmp_path)
    if content == "png":
        content = (tmp_path / "images" / "train" / "0.png").read_bytes()
    (tmp_path / "data.yaml").write_bytes(content)
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        load_data_yaml(tmp_path / "data.yaml")
    assert_says(str(error.value), f"{tmp_path / 'data.yaml'}", *parts,
                "expected a dataset description: a short UTF-8 text file with train:, val:")


def test_a_folder_or_a_missing_file_given_as_data_yaml_is_explained(tmp_path):
    make_dataset(tmp_path)
    with unchanged(tmp_path):
        with pytest.raises(DatasetError, match="is a folder; expected a dataset description"):
            load_data_yaml(tmp_path)
        with pytest.raises(DatasetError, match="no such dataset file; expected"):
            load_data_yaml(tmp_path / "missing.yaml")


def test_good_variants_still_load(tmp_path):
    make_dataset(tmp_path)
    good = ["\ufefftrain: images/train\nnames: [a]\n",  # a byte-order mark
            "train: [images/train, images/val]\nnames: {0: a, 1: 7}\nnc: 2\n",
            "train: images/train\nval: null\ntest: ''\nnames: [a]\ndownload: |\n  echo hi\n",
            "train: images/train\nnc: 3\n"]
    expected = [["a"], ["a", "7"], ["a"], ["class0", "class1", "class2"]]
    for text, names in zip(good, expected):
        (tmp_path / "data.yaml").write_text(text)
        config = load_data_yaml(tmp_path / "data.yaml")
        assert config.names == names and config.splits["train"]
    assert len(config.splits) == 1  # val: null and test: '' are no splits


def test_the_image_size_must_be_a_whole_number(tmp_path):
    path = make_dataset(tmp_path)
    for imgsz in ("64", 31, 64.0, True):
        with pytest.raises(ValueError, match="imgsz must be a whole number of pixels, at least"):
            DetectionDataset(path, imgsz=imgsz)


def test_a_photo_stored_sideways_is_turned_upright_and_sized_so(tmp_path):
    raw = np.random.default_rng(4).integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation 6: show the stored picture turned 90 degrees clockwise
    Image.fromarray(raw).save(tmp_path / "side.png", exif=exif)
    upright = np.rot90(raw, k=-1)  # NumPy turns counter-clockwise for positive k
    np.testing.assert_array_equal(load_image(tmp_path / "side.png"), upright)
    path = make_dataset(tmp_path / "d", train={"side.png": ((tmp_path / "side.png").read_bytes(),
                                                            GOOD_LABEL)})
    data = DetectionDataset(path, imgsz=40, augment=False)
    assert data.split.examples[0].size == (30, 40)  # (width, height) of the upright picture
    np.testing.assert_array_equal(data.sample(0)[0][:, 5:35], upright)
