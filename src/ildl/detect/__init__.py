"""Object detection: train your own YOLO-style detector on data in the YOLO/Ultralytics layout.

The workflow in Python, as on the command line (``ildl detect ...``), one module per verb::

    from ildl.detect.train import train, evaluate
    from ildl.detect.checkpoint import load_detector
    from ildl.detect.predict import predict
    from ildl.detect.export import export_onnx
    result = train("shapes/data.yaml", epochs=100, time_limit=15, out="runs/shapes")
    predict(result["best"], "clip.gif", "runs/predict")        # annotated GIF + detections.json
    export_onnx(result["best"], "detector.onnx")               # checked with onnxruntime

Datasets: ``data_yaml`` reads and checks ``data.yaml`` and finds the images and label files;
``labels`` reads YOLO label lines; ``images`` decodes images by their format's range;
``letterbox`` fits an image into the square input and maps boxes back; ``augment`` holds the
training augmentation; ``dataset`` the validated split served to PyTorch (``DetectionDataset``,
``collate``; every dataset name is importable from it), and ``problems`` what can be wrong in
one. ``boxes`` holds all box arithmetic (formats, areas, IoU,
GIoU; NumPy functions and their ``_torch`` twins); ``model`` the detector and the decoding of its
outputs into one box per cell; ``loss`` the assignment of cells to objects and the loss; ``nms``
scores, thresholds and non-maximum suppression; ``metrics`` the COCO evaluation; ``schedule``
the learning-rate schedule and EMA weights;
``config`` what a training run depends on (``TrainConfig``, no torch needed); ``checkpoint``
how trained weights are saved and read back.
PyTorch is an optional extra (``pip install ildl[torch]``); reading a dataset needs no torch.
"""
