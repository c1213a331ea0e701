"""Files of labelling tools for the tests of ildl detect convert: images, VOC XML, and the
folder of DeepForest's labelled photos (the tests that need it skip with the install command).
"""

import importlib.util
from pathlib import Path

import pytest

DEEPFOREST = "pip install --no-deps deepforest==2.1.0"


def write_image(path: Path, width: int, height: int) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (90, 120, 60)).save(path)
    return path


def voc_xml(filename: str, objects: list[tuple], size: tuple | None = (100, 80)) -> str:
    """objects: (name, xmin, ymin, xmax, ymax[, difficult])."""
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth>" \
        "</size>" if size else ""
    body = "".join(
        f"<object><name>{o[0]}</name><difficult>{o[5] if len(o) > 5 else 0}</difficult>"
        f"<bndbox><xmin>{o[1]}</xmin><ymin>{o[2]}</ymin><xmax>{o[3]}</xmax><ymax>{o[4]}</ymax>"
        "</bndbox></object>" for o in objects)
    return f"<annotation><filename>{filename}</filename>{size_xml}{body}</annotation>"


def deepforest_data() -> Path:
    spec = importlib.util.find_spec("deepforest")
    if spec is None:
        pytest.skip(f"needs DeepForest's labelled photos: {DEEPFOREST}")
    return Path(spec.submodule_search_locations[0]) / "data"
