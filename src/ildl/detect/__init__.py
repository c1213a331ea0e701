"""Object detection: train your own YOLO-style detector on data in the YOLO/Ultralytics layout.

``ildl.detect.dataset`` reads and validates datasets (``data.yaml``, images/ and labels/) and
serves augmented batches to PyTorch. PyTorch is an optional extra (``pip install ildl[torch]``).
"""
