"""Readers of the formats labelling tools write, all giving the same record (``record``).

==============  ===========================================================================
``record``      one labelled image (``SourceImage``: file, size, pixel boxes, class names),
                where each box was read (``Place``), and the checks every reader shares
``voc``         Pascal VOC XML: labelImg, makesense.ai, DeepForest
``coco``        COCO JSON: CVAT, Label Studio, makesense.ai
``csv_boxes``   CSV tables of boxes: DeepForest's and makesense.ai's
``yolo``        a dataset in the YOLO layout, read back from its data.yaml
==============  ===========================================================================

``READERS["voc"](source, images)`` and so on: each returns ``Annotations`` (the images, the
problems of what was skipped, what the format's convention left out).
"""

from .coco import read_coco
from .csv_boxes import read_csv
from .record import Annotations, Place, SourceImage
from .voc import read_voc
from .yolo import read_yolo

READERS = {"voc": read_voc, "coco": read_coco, "csv": read_csv, "yolo": read_yolo}

__all__ = ["READERS", "Annotations", "Place", "SourceImage", "read_coco", "read_csv",
           "read_voc", "read_yolo"]
