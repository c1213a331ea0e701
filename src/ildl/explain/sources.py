"""Which model to explain: a pretrained name, a model file, a module, a model or a function,
each turned into a ``Classifier`` (``ildl.explain.models``).

=====================================  ==========================================================
``"efficientnet-lite0"``               the pretrained network (``ildl.explain.pretrained``)
``"model.onnx"``                       onnxruntime, black-box methods only
``"model.pt"`` (TorchScript)           torch, every method
``"model.ildl"``                       an ildl.nn model, every method
an ildl.nn ``Sequential``              its own forward and backward passes
a ``torch.nn.Module``                  autograd
a function ``images -> probabilities``  black-box methods only
=====================================  ==========================================================

A file's outputs may be logits or probabilities: one grey image decides (rows that are >= 0 and
sum to 1 are taken as probabilities, anything else gets a softmax). ONNX and TorchScript files
get ImageNet preprocessing (224 px, torchvision's mean and std) unless ``preprocessing`` says
otherwise (an ONNX file with a fixed square input size sets the size), and the ImageNet class
names when they have 1000 outputs.

>>> classifier = as_classifier("efficientnet-lite0")
>>> classifier = as_classifier("resnet18.onnx", preprocessing=Preprocessing(224))
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

from .. import nn
from ..errors import ArgumentError, MissingDependencyError, MissingFileError
from .checks import is_probability_rows
from .models import (
    Classifier,
    FunctionClassifier,
    OnnxClassifier,
    SequentialClassifier,
    TorchClassifier,
)
from .preprocessing import Preprocessing
from .pretrained import PRETRAINED, imagenet_classes, load_pretrained, pretrained_model

MODEL_FILE_SUFFIXES = (".onnx", ".pt", ".pth", ".ts", ".ildl")


def as_classifier(model, input_shape: tuple | None = None, batch_size: int | None = None,
                  preprocessing: Preprocessing | None = None,
                  class_names: Sequence[str] | None = None) -> Classifier:
    """Any model as a ``Classifier`` (one already is returned as it is); see the module's table.

    ``input_shape`` ``(H, W, C)`` lets images be checked against a torch module or a function
    (an ildl model knows its own); ``batch_size`` images per call (64; 16 for the pretrained
    networks, whose backward passes are large); ``preprocessing`` crops, resizes and normalises
    photos (``Classifier.prepare``); ``class_names`` name the outputs.

    >>> classifier = as_classifier(lambda images: model.predict(images), input_shape=(32, 32, 3))
    """
    if isinstance(model, Classifier):
        return model
    if isinstance(model, str | os.PathLike):
        return _file_or_pretrained(os.fspath(model), batch_size, preprocessing, class_names)
    options = dict(batch_size=_or_default(batch_size), preprocessing=preprocessing,
                   class_names=class_names)
    if isinstance(model, nn.Sequential):
        return SequentialClassifier(model, input_shape, **options)
    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    if torch is not None and isinstance(model, torch.nn.Module):
        return TorchClassifier(model, input_shape, **options)
    if callable(model):
        return FunctionClassifier(model, input_shape, **options)
    raise ArgumentError(f"explain needs a pretrained model name ({', '.join(PRETRAINED)}), a "
                        f"model file, an ildl.nn Sequential, a torch.nn.Module or a function "
                        f"images (N, H, W, C) -> probabilities (N, K), but got "
                        f"{type(model).__name__}")


def _file_or_pretrained(name: str, batch_size: int | None, preprocessing: Preprocessing | None,
                        class_names: Sequence[str] | None) -> Classifier:
    if not name.lower().endswith(MODEL_FILE_SUFFIXES) and not os.path.exists(name):
        spec = pretrained_model(name)
        if preprocessing is not None or class_names is not None:
            raise ArgumentError(f"{spec.name} comes with its own preprocessing and class names; "
                                f"leave preprocessing= and class_names= out, or load the "
                                f"network yourself and pass the torch module")
        if batch_size is None:
            return load_pretrained(spec.name)
        return load_pretrained(spec.name, batch_size=batch_size)
    if name.lower().endswith(".onnx"):
        if not os.path.isfile(name):
            raise MissingFileError(f"no ONNX file at {name!r}")
        classifier = OnnxClassifier(name, _or_default(batch_size),
                                    preprocessing=preprocessing or Preprocessing(),
                                    class_names=class_names)
    else:
        model = load_model_file(name)
        if isinstance(model, nn.Sequential):
            return SequentialClassifier(model, batch_size=_or_default(batch_size),
                                        preprocessing=preprocessing, class_names=class_names)
        classifier = TorchClassifier(model, batch_size=_or_default(batch_size),
                                     preprocessing=preprocessing or Preprocessing(),
                                     class_names=class_names,
                                     description=f"the TorchScript file "
                                                 f"{os.path.basename(name)!r}")
    outputs = _outputs_on_grey(classifier)
    classifier.outputs = "probabilities" if is_probability_rows(outputs) else "logits"
    if class_names is None and outputs.shape[-1] == 1000:
        classifier.class_names = imagenet_classes()
    return classifier


def _or_default(batch_size: int | None) -> int:
    return 64 if batch_size is None else batch_size


def _outputs_on_grey(classifier: OnnxClassifier | TorchClassifier) -> np.ndarray:
    """The model's outputs as they are on one mid-grey image of its input size (224 where it
    takes any): rows that are >= 0 and sum to 1 are probabilities, anything else logits. Not
    counted as an evaluation: it is part of loading."""
    height, width, channels = (size or default for size, default in
                               zip(classifier.input_shape, (224, 224, 3)))
    classifier.outputs = "probabilities"  # so that no softmax is applied
    return classifier._probabilities(np.full((1, height, width, channels), 0.5))


def load_model_file(path: str | os.PathLike):
    """The model saved at ``path``: an ildl model for a ``.ildl`` file (``nn.load_model``),
    otherwise a TorchScript module (``torch.jit.load``, onto the CPU). Neither unpickles
    anything, so a plain ``torch.save`` file is refused.

    >>> module = load_model_file("classifier.pt")   # torch.jit.save(torch.jit.script(net), ...)
    """
    path = os.fspath(path)
    if path.endswith(".ildl"):
        return nn.load_model(path)
    if not os.path.exists(path):
        raise MissingFileError(f"no model file at {path!r}; pass an ildl model (.ildl) or a "
                               f"TorchScript file")
    try:
        import torch
    except ImportError as error:
        raise MissingDependencyError(
            f"{path!r} is not a .ildl file, so it is read as a TorchScript "
            f"module, which needs torch ({error}); pip install torch==2.13.0"
            ) from error
    try:
        return torch.jit.load(path, map_location="cpu")
    except (RuntimeError, ValueError) as error:
        raise ArgumentError(
            f"{path!r} is not a TorchScript file ({error}). Save a torch model with "
            f"torch.jit.save(torch.jit.script(model), path): a pickled model or state_dict "
            f"cannot be read without unpickling it, which ildl never does. An ildl "
            f"model must be saved with model.save('name.ildl')") from None
