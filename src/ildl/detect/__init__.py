"""Object detection: train your own YOLO-style detector on data in the YOLO/Ultralytics layout.

The workflow in Python, as on the command line (``ildl detect ...``), one module per verb::

    from ildl.detect.train import train, evaluate
    from ildl.detect.checkpoint import load_detector
    from ildl.detect.predict import predict
    from ildl.detect.export import export_onnx
    result = train("shapes/data.yaml", epochs=100, time_limit=15, out="runs/shapes")
    predict(result["best"], "clip.gif", "runs/predict")        # annotated GIF + detections.json
    export_onnx(result["best"], "detector.onnx")               # checked with onnxruntime

``ildl.detect.dataset`` reads and validates datasets (``data.yaml``, images/ and labels/) and
serves augmented batches to PyTorch; ``model``, ``loss``, ``nms``, ``metrics`` and ``schedule``
hold the detector, what it learns from, how boxes are chosen and scored, and how it is trained;
``config`` holds what a training run depends on (``TrainConfig``, no torch needed) and
``checkpoint`` how trained weights are saved and read back.
PyTorch is an optional extra (``pip install ildl[torch]``); reading a dataset needs no torch.
"""
