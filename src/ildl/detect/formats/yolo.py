"""An existing dataset in the YOLO layout, read back to be split again or tiled.

``source`` is its ``data.yaml``: the images of all its splits together (the split is made
anew, by image), their label files read and checked by ``labels.read_labels`` (a bad line is
reported with its line and skipped, as training does), and the normalised ``cx cy w h`` boxes
turned back into pixels of the image.
"""

from __future__ import annotations

from pathlib import Path

from ..boxes import cxcywh_to_xyxy, normalized_to_pixels
from ..data_yaml import label_path, load_data_yaml
from ..labels import read_labels
from ..problems import DatasetError, Problem
from .record import Annotations, BadAnnotation, Place, SourceImage, image_size


def read_yolo(source: str | Path, images: str | Path | None = None) -> Annotations:
    """A ``data.yaml`` -> ``Annotations`` of every image of its splits (``images`` is not used:
    the yaml says where they are)."""
    config = load_data_yaml(source)
    found = Annotations()
    every_image = sorted({image for files in config.splits.values() for image in files})
    for image in every_image:
        labels = label_path(image)
        try:
            record = SourceImage(image, *image_size(image))
            classes, boxes, problems = read_labels(labels, config.names)
        except BadAnnotation as error:
            found.problems.append(Problem(str(image), None, error.reason, error.detail))
            continue
        except DatasetError as error:
            found.problems.append(error.problem)
            continue
        found.problems += problems
        pixels = normalized_to_pixels(cxcywh_to_xyxy(boxes), record.width, record.height)
        for number, (label, box) in enumerate(zip(classes, pixels), start=1):
            record.add(box, config.names[label], Place(str(labels), None, f"object {number}"))
        found.images.append(record)
    return found
