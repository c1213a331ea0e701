"""ildl.images.read_rgb: every kind of image file as (H, W, 3) uint8 RGB, with a note saying what
was converted (CMYK, grey, alpha, 16 bits, transparency), and errors that name the file.

The pixel values of 16-bit and float files are checked in tests/detect/test_images.py; here the
notes, the colour conversions that make them, and the files that are not images.
"""

import warnings

import numpy as np
import pytest
from PIL import Image

from ildl.errors import DataError
from ildl.images import ImageFileError, read_rgb


@pytest.fixture
def rgb():
    """A small RGB picture with every kind of value."""
    return np.random.default_rng(3).integers(0, 256, size=(6, 5, 3), dtype=np.uint8)


def test_a_plain_rgb_file_is_read_as_it_is_with_no_note(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "a.png")
    pixels, converted = read_rgb(tmp_path / "a.png")
    assert pixels.dtype == np.uint8 and converted is None
    np.testing.assert_array_equal(pixels, rgb)


def test_a_cmyk_jpeg_is_converted_to_rgb_and_said(tmp_path):
    # flat halves, so that JPEG's loss is small: white (no ink) and cyan (full cyan ink only)
    cmyk = np.zeros((16, 32, 4), np.uint8)
    cmyk[:, 16:, 0] = 255
    Image.fromarray(cmyk, mode="CMYK").save(tmp_path / "print.jpg", quality=95)
    pixels, converted = read_rgb(tmp_path / "print.jpg")
    assert converted == "CMYK, converted to RGB"
    assert pixels.shape == (16, 32, 3)
    np.testing.assert_allclose(pixels[:, :16], 255, atol=3)
    np.testing.assert_allclose(pixels[:, 16:], np.broadcast_to([0, 255, 255], (16, 16, 3)),
                               atol=3)


@pytest.mark.parametrize("mode, said", [
    ("L", "grey, repeated on three channels"),
    ("LA", "grey with alpha: the alpha channel was dropped"),
])
def test_grey_files_are_repeated_on_three_channels_and_said(tmp_path, rgb, mode, said):
    grey = rgb[..., 0]
    image = Image.fromarray(grey)
    if mode == "LA":
        image.putalpha(Image.fromarray(rgb[..., 1]))
    image.save(tmp_path / "grey.png")
    pixels, converted = read_rgb(tmp_path / "grey.png")
    assert said in converted
    np.testing.assert_array_equal(pixels, np.repeat(grey[..., None], 3, axis=2))


def test_the_alpha_channel_of_rgba_is_dropped_and_said(tmp_path, rgb):
    alpha = np.zeros(rgb.shape[:2], np.uint8)  # fully transparent: the colours must survive
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "a.png")
    pixels, converted = read_rgb(tmp_path / "a.png")
    assert converted == "RGBA: the alpha channel was dropped"
    np.testing.assert_array_equal(pixels, rgb)


def test_a_palette_file_is_looked_up_losslessly_with_no_note(tmp_path, rgb):
    indices = rgb[..., 0] % 4
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 99, 199]], np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette.ravel().tolist())
    image.save(tmp_path / "p.png")
    pixels, converted = read_rgb(tmp_path / "p.png")
    assert converted is None  # nothing is lost: each index is its palette's colour
    np.testing.assert_array_equal(pixels, palette[indices])


@pytest.mark.parametrize("mode", ["P", "L", "RGB"])
def test_a_transparent_colour_is_dropped_and_said_without_a_warning(tmp_path, rgb, mode):
    image = Image.fromarray(rgb).convert(mode)
    transparent = image.getpixel((0, 0))
    image.save(tmp_path / "t.png", transparency=transparent)
    with Image.open(tmp_path / "t.png") as saved:
        assert "transparency" in saved.info
        expected = np.asarray(saved.convert("RGBA"))[..., :3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns when a palette's transparency is dropped
        pixels, converted = read_rgb(tmp_path / "t.png")
    assert "its transparency was dropped (transparent pixels keep their colour)" in converted
    np.testing.assert_array_equal(pixels, expected)


def test_16_bit_grey_is_reduced_and_said(tmp_path):
    values = np.random.default_rng(5).integers(0, 65536, size=(6, 5)).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    pixels, converted = read_rgb(tmp_path / "g16.png")
    assert converted == "16-bit grey, reduced to 8 bits (the high byte) on three channels"
    np.testing.assert_array_equal(pixels[..., 2], values >> 8)


@pytest.mark.parametrize("suffix", ["png", "tif"])
@pytest.mark.parametrize("alpha", [False, True])
def test_16_bit_colour_is_reduced_and_said(tmp_path, suffix, alpha):
    # Pillow cannot write 48-bit colour; OpenCV (libpng, libtiff) does, in BGR(A) order
    cv2 = pytest.importorskip("cv2", reason='OpenCV writes the 16-bit colour files: '
                                            'pip install "ildl[explain]"')
    values = np.random.default_rng(6).integers(0, 65536, size=(6, 5, 4)).astype(np.uint16)
    stored = values if alpha else values[..., :3]
    path = str(tmp_path / f"c16.{suffix}")
    assert cv2.imwrite(path, stored[..., [2, 1, 0, 3][:stored.shape[2]]])
    pixels, converted = read_rgb(path)
    assert "16 bits per channel, reduced to 8 (the high byte)" in converted
    assert ("alpha channel was dropped" in converted) == alpha
    np.testing.assert_array_equal(pixels, values[..., :3] >> 8)


@pytest.mark.parametrize("make, said", [
    (lambda path: path.write_text("not a picture"), "cannot identify image file"),
    (lambda path: None, "No such file"),
    (lambda path: path.mkdir(), "Is a directory"),
])
def test_what_is_not_an_image_file_is_refused_naming_it(tmp_path, make, said):
    path = tmp_path / "photo.jpg"
    make(path)
    with pytest.raises(ImageFileError, match=rf"^{path}: unreadable image: .*{said}") as error:
        read_rgb(path)
    assert isinstance(error.value, DataError)
    assert error.value.path == str(path) and error.value.reason == "unreadable image"
