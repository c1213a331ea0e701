"""Export a trained detector to ONNX, checked against PyTorch with onnxruntime.

The exported graph maps ``images`` (N, 3, S, S) float in [0, 1] to the three raw grid outputs
``stride4``, ``stride8``, ``stride16`` (N, 4 + 1 + C, S/stride, S/stride), the batch size left
dynamic; decoding and NMS stay outside (see ``nms.decode``), as most deployment runtimes do them
themselves.
"""

from __future__ import annotations

import io

import numpy as np

from ..atomic import write_bytes_atomically
from ..optional import require
from .model import STRIDES
from .train import load_detector

OUTPUT_NAMES = tuple(f"stride{stride}" for stride in STRIDES)  # one grid per stride


def export_onnx(weights: str, path: str, check: bool = True, opset: int = 17) -> float | None:
    """Write the checkpoint's detector to ``path`` (.onnx); with ``check``, run the file with
    onnxruntime on a random batch and return the largest difference from PyTorch's outputs
    (raises if above 1e-4). Needs the ``onnx`` extra (``pip install "ildl[onnx]"``)."""
    import torch

    require("onnx", "export_onnx", extra="onnx")  # torch.onnx.export writes through it
    if check:
        require("onnxruntime", "export_onnx(check=True)", extra="onnx")
    model, checkpoint = load_detector(weights)
    imgsz = checkpoint["train_config"]["imgsz"]
    example = torch.rand(2, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    # dynamo=False: the classic exporter writes one self-contained file and needs no onnxscript.
    torch.onnx.export(model, (example,), buffer, input_names=["images"],
                      output_names=list(OUTPUT_NAMES), opset_version=opset, dynamo=False,
                      dynamic_axes={name: {0: "batch"} for name in ("images", *OUTPUT_NAMES)})
    write_bytes_atomically(path, buffer.getvalue())
    if not check:
        return None
    return check_onnx(model, path, example)


def check_onnx(model, path: str, images) -> float:
    """Largest absolute difference between the ONNX file (onnxruntime) and ``model``."""
    import torch

    onnxruntime = require("onnxruntime", "check_onnx", extra="onnx")

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    exported = session.run(list(OUTPUT_NAMES), {"images": images.numpy()})
    with torch.no_grad():
        reference = [output.numpy() for output in model(images)]
    difference = max(float(np.abs(a - b).max()) for a, b in zip(exported, reference))
    if difference > 1e-4:
        raise AssertionError(f"{path}: ONNX outputs differ from PyTorch's by {difference:.2e}")
    return difference
