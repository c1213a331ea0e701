"""Small datasets on disk for the tests of ildl.detect's dataset modules, and checks on them.

``tiny_dataset`` writes one plain image per label text (with ``path`` in its data.yaml);
``make_dataset`` writes given images and labels per split. ``unchanged`` checks that a block of
code leaves every file under a folder as it was. ``cxcywh_to_xyxy``/``xyxy_to_cxcywh`` convert
between normalised labels and pixel corners, composed from ``ildl.detect.boxes``.
"""

import contextlib
import hashlib

import numpy as np
from PIL import Image

from ildl.detect.boxes import cxcywh_to_xyxy as _corners
from ildl.detect.boxes import normalized_to_pixels, pixels_to_normalized
from ildl.detect.boxes import xyxy_to_cxcywh as _centres

NAMES = ["circle", "square", "triangle"]
TINY_YAML = ("path: {root}\ntrain: images/train\nval: images/val\n"
             "names: [circle, square, triangle]\n")
YAML = "train: images/train\nval: images/val\nnames: [circle, square]\n"


GOOD_LABEL = "0 0.5 0.5 0.4 0.4\n"



def tiny_dataset(root, labels, size=(40, 30)):
    """A dataset with one image per entry of ``labels`` (label file text, or None for none)."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    for i, text in enumerate(labels):
        Image.new("RGB", size, (i * 40, 90, 200)).save(root / "images" / "train" / f"{i}.png")
        if text is not None:
            (root / "labels" / "train" / f"{i}.txt").write_text(text)
    Image.new("RGB", size).save(root / "images" / "val" / "0.png")
    (root / "data.yaml").write_text(TINY_YAML.format(root=root))
    return root / "data.yaml"



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


def write_image(path, image):
    """Save a PIL image, or raw bytes, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, bytes):
        path.write_bytes(image)
    else:
        image.save(path)


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


def jpeg_cut_short(size=(300, 200)):
    from io import BytesIO

    noise = np.random.default_rng(3).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buffer = BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG")
    whole = buffer.getvalue()
    return whole[:len(whole) * 2 // 3]



def cxcywh_to_xyxy(boxes, width, height):
    """Normalised centre/size -> pixel corners (composed from ildl.detect.boxes)."""
    return normalized_to_pixels(_corners(boxes), width, height)


def xyxy_to_cxcywh(boxes, width, height):
    """Pixel corners -> normalised centre/size."""
    return pixels_to_normalized(_centres(boxes), width, height)

