"""ildl.explain.photos: the photographs shipped inside installed wheels, read with the pixels their
own packages' loaders give, and read_photo's errors for what is not a photo file."""

import importlib.util

import numpy as np
import pytest
from PIL import Image

from ildl.errors import DataError, MissingFileError
from ildl.explain import read_photo, sample_photos
from ildl.explain.photos import SAMPLE_PHOTOS


def _loaded_by_its_package(name):
    """The photo as scikit-image, matplotlib or scikit-learn load it themselves."""
    if name in ("chelsea", "coffee", "astronaut", "rocket"):
        data = pytest.importorskip("skimage.data")
        return getattr(data, name)()
    if name == "grace_hopper":
        cbook = pytest.importorskip("matplotlib.cbook")
        pyplot = pytest.importorskip("matplotlib.pyplot")
        return pyplot.imread(cbook.get_sample_data("grace_hopper.jpg"))
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.load_sample_image(f"{name}.jpg")


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut", "rocket", "grace_hopper",
                                  "china", "flower"])
def test_each_sample_photo_has_the_pixels_its_package_gives(name):
    expected = _loaded_by_its_package(name)
    pixels, converted = read_photo(sample_photos()[name])
    assert pixels.dtype == np.uint8 and converted is None
    np.testing.assert_array_equal(pixels, expected)


def test_every_sample_photo_is_found_when_its_package_is_installed():
    pytest.importorskip("skimage")
    pytest.importorskip("sklearn")
    photos = sample_photos()
    assert sorted(photos) == sorted(SAMPLE_PHOTOS)
    assert read_photo(photos["motorcycle"])[0].shape == (500, 741, 3)


def test_photos_of_a_package_that_is_not_installed_are_left_out(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: None if name == "sklearn" else find_spec(name))
    photos = sample_photos()
    assert "china" not in photos and "flower" not in photos
    assert "grace_hopper" in photos  # matplotlib is a dependency of ildl


def test_read_photo_passes_on_what_was_converted(tmp_path):
    Image.new("CMYK", (8, 6), (0, 255, 0, 0)).save(tmp_path / "print.jpg")
    pixels, converted = read_photo(tmp_path / "print.jpg")
    assert pixels.shape == (6, 8, 3) and converted == "CMYK, converted to RGB"


def test_a_missing_file_or_a_folder_is_refused_naming_it(tmp_path):
    missing = tmp_path / "cat.jpg"
    with pytest.raises(MissingFileError, match=rf"photo '{missing}' is not there; pass the path "
                                               r"of an image file \(JPEG, PNG, TIFF, ...\)"):
        read_photo(missing)
    with pytest.raises(MissingFileError, match=rf"photo '{tmp_path}' is a folder, not a file"):
        read_photo(tmp_path)


def test_a_file_that_is_not_an_image_is_refused_naming_it(tmp_path):
    notes = tmp_path / "cat.jpg"
    notes.write_text("a cat, sitting")
    with pytest.raises(DataError, match=rf"^{notes}: unreadable image: .*cannot identify"):
        read_photo(notes)
