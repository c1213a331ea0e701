"""Export a trained detector to ONNX, checked against PyTorch with onnxruntime.

The exported graph maps ``images`` (N, 3, S, S) float in [0, 1] to the three raw grid outputs
``stride4``, ``stride8``, ``stride16`` (N, 4 + 1 + C, S/stride, S/stride), the batch size left
dynamic; decoding and NMS stay outside (see ``nms.decode``), as most deployment runtimes do them
themselves.
"""

from __future__ import annotations

import io
import os

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, ModelFileError, OverwriteError
from ..optional import require
from ..outputs import make_out_folder
from .checkpoint import load_detector
from .config import PATH
from .model import STRIDES

OUTPUT_NAMES = tuple(f"stride{stride}" for stride in STRIDES)  # one grid per stride
TOLERANCE = 1e-4  # largest difference allowed between onnxruntime's and PyTorch's outputs


def _check_output_path(weights: str, path: str) -> None:
    """The export may only write a .onnx file that is not the checkpoint itself."""
    if not PATH.accepts(path):
        raise ArgumentError(f"--out {path!r} is not valid: it must be {PATH.expected}")
    if not path.lower().endswith(".onnx"):
        raise OverwriteError(f"--out {path!r} does not end in .onnx; the export writes an ONNX "
                             "file, and refuses any other name so it never replaces a "
                             "checkpoint or another file: choose an --out ending in .onnx")
    if os.path.isdir(path):
        raise OverwriteError(f"--out {path!r} is a folder; give the .onnx file to write")
    if os.path.exists(path) and os.path.exists(weights) and os.path.samefile(path, weights):
        raise OverwriteError(f"--out {path!r} is the checkpoint being exported; choose another "
                             "--out")


def export_onnx(weights: str, path: str, check: bool = True, opset: int = 17) -> float | None:
    """Write the checkpoint's detector to ``path`` (.onnx); with ``check``, run the file with
    onnxruntime on a random batch and return the largest difference from PyTorch's outputs
    (raises if above ``TOLERANCE``). Needs the ``onnx`` extra (``pip install "ildl[onnx]"``).
    ``path`` must end in .onnx and must not be ``weights``; an earlier export there is replaced.
    """
    import torch

    _check_output_path(weights, path)
    require("onnx", "export_onnx", extra="onnx")  # torch.onnx.export writes through it
    if check:
        require("onnxruntime", "export_onnx(check=True)", extra="onnx")
    model, checkpoint = load_detector(weights)
    imgsz = checkpoint["train_config"]["imgsz"]
    example = torch.rand(2, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        if not all(bool(torch.isfinite(output).all()) for output in model(example)):
            raise ModelFileError(f"{weights!r}: the detector outputs NaN or infinity on random "
                                 "images, though its weights are finite (they overflow float32); "
                                 "export an earlier checkpoint, or train again with a lower --lr")
    make_out_folder(path, os.path.dirname(path) or ".")
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
    if not difference <= TOLERANCE:  # written so that NaN (which compares False) fails too
        raise AssertionError(f"{path}: ONNX outputs differ from PyTorch's by {difference:.2e}")
    return difference
