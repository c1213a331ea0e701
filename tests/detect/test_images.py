"""ildl.detect.images: images read by their format's range, or refused naming the file.

16-bit grey by its high byte, floats in [0, 1] times 255, pixels without a known range refused
with the fix; corrupt and truncated files raise in strict mode and are skipped and counted by
default; photos are turned upright. No input file is ever changed.
"""

import numpy as np
import pytest
from detect_dataset_files import (
    GOOD_LABEL,
    assert_says,
    jpeg_cut_short,
    make_dataset,
    tiff_bytes,
    tiny_dataset,
    unchanged,
)
from PIL import Image

from ildl.detect.dataset import DetectionDataset
from ildl.detect.images import load_image
from ildl.detect.problems import DatasetError
from ildl.images import ImageFileError, rgb_pixels

pytest.importorskip("yaml")


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
    grey = rgb_pixels(Image.fromarray(rgb[..., 0].astype(np.uint16)), "PNG", "grey.png")
    np.testing.assert_array_equal(grey[..., 0], colour[..., 0])


def test_16_bit_png_opened_as_32_bit_by_older_pillows_is_read_as_16_bit(raw16):
    # older Pillows open 16-bit grey PNGs in mode "I" (32-bit); a PNG cannot hold more than 16
    as_old_pillow = Image.fromarray(raw16.astype(np.int32))
    assert as_old_pillow.mode == "I"
    pixels = rgb_pixels(as_old_pillow, "PNG", "old.png")
    np.testing.assert_array_equal(pixels[..., 1], (raw16.astype(np.int64) // 256))
    with pytest.raises(ImageFileError, match="32-bit integer"):
        rgb_pixels(as_old_pillow, "TIFF", "a.tif")  # from a TIFF it can be 32 bits


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



@pytest.mark.parametrize("content", [b"not an image at all", "truncated"])
def test_a_corrupt_image_raises_in_strict_mode_and_is_skipped_by_default(tmp_path, content):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n", "1 0.5 0.5 0.2 0.2\n"])
    bad = tmp_path / "images" / "train" / "1.png"
    if content == "truncated":
        content = bad.read_bytes()[:-20]  # the end of the PNG (its IEND chunk) is cut off
    bad.write_bytes(content)
    with pytest.raises(DatasetError, match=r"images/train/1\.png: unreadable image"):
        DetectionDataset(path, strict=True)
    data = DetectionDataset(path)
    summary = data.summary()
    assert summary["images"] == 1 and summary["skipped_images"] == 1
    assert summary["problems"] == {"unreadable image": 1} and summary["skipped_lines"] == 0
    assert "1 images" in data.format_summary().splitlines()[1]



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

