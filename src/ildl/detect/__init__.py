"""Object detection: train your own YOLO-style detector on data in the YOLO/Ultralytics layout.

The workflow in Python, as on the command line (``ildl detect make-dataset|convert|train|val|
predict|export``)::

    from ildl.data.shapes import write_dataset
    from ildl.detect.export import export_onnx
    from ildl.detect.predict import predict
    from ildl.detect.train import train
    data = write_dataset("shapes")                              # a synthetic dataset
    result = train(data, epochs=100, time_limit=15, out="runs/shapes")
    predict(result["best"], "clip.gif", "runs/predict")        # annotated GIF + detections.json
    export_onnx(result["best"], "detector.onnx")               # checked with onnxruntime

The modules, from the data to the commands:

==============  ===========================================================================
``problems``    what can be wrong in a dataset (``Problem``) and the error (``DatasetError``)
``formats``     readers of labelling tools' files: VOC XML, COCO JSON, CSV, YOLO
``tiles``       the grid of overlapping tiles over a large image, boxes clipped to a tile
``convert``     other formats into the YOLO layout, tiled and split by source image
``data_yaml``   reads and checks ``data.yaml``; finds each split's images and label files
``labels``      reads and checks YOLO label lines (``class cx cy w h``)
``images``      decodes images by their format's range, and checks them whole
``letterbox``   fits an image into the square input, and maps boxes both ways
``augment``     training augmentation: mosaic, zoom and shift, colours, flips
``dataset``     a validated split served to PyTorch (``DetectionDataset``, ``collate``); the
                names of the modules above import from it too
``boxes``       all box arithmetic: formats, areas, IoU, GIoU (NumPy, and ``_torch`` twins)
``model``       the detector (``Detector``), and the decoding of its outputs into a box per cell
``loss``        which cells answer for which object (``assign_targets``), and the loss
``nms``         scores, thresholds and non-maximum suppression: ``decode`` gives detections
``metrics``     the COCO evaluation (mAP, precision, recall), PR curves, confusion matrix
``schedule``    the learning rate's warm-up and cosine, and the EMA of the weights
``config``      what a training run depends on (``TrainConfig``; no torch), checks of ``--out``
``checkpoint``  checkpoint files: saved with a digest, read back checked (``load_detector``)
``train``       training (``train``, ``Trainer``) and ``evaluate`` (``ildl detect val``)
``run_report``  what the run folder shows: args.yaml, results.csv/.png, batches drawn
``inference``   the detector on a batch of images of any size (``detect_frames``)
``sliced``      detection in images larger than the input: tiles, then the merge
``predict``     detection in images, folders, GIFs and videos: drawn, and listed in JSON
``export``      ONNX export, checked against PyTorch with onnxruntime
==============  ===========================================================================

PyTorch is an optional extra (``pip install ildl[torch]``); reading a dataset needs no torch.
"""
