"""ildl.explain.sources: model files as classifiers. TorchScript files returning logits or
probabilities (found by themselves), ONNX files with a fixed or a dynamic batch, channels first
or last, and .ildl files, each giving the probabilities of the torch module it was saved from
(normalised as the preprocessing says); gradient methods refuse an ONNX file clearly.

The models are small torch modules, exported once for the module (fast)."""

import numpy as np
import pytest
from explain_reference import ildl_cnn

from ildl.errors import MissingFileError, ModelFileError
from ildl.explain import as_classifier, explain
from ildl.explain.models import OnnxClassifier, SequentialClassifier, TorchClassifier
from ildl.explain.preprocessing import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from ildl.explain.pretrained import imagenet_classes

torch = pytest.importorskip("torch", reason='model files need torch: pip install '
                                            '"ildl[classifiers]"')
# TorchScript is deprecated in recent torch, but it is the torch format that loads without pickle
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")

NEEDS_ONNXRUNTIME = 'ONNX files run in onnxruntime: pip install "ildl[classifiers]"'
SIZE = 16  # pixels of the images the small network is exported for
CLASSES = 5


class ChannelsLast(torch.nn.Module):
    """A network taking NHWC images, as a TensorFlow export does."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, images):
        return self.network(images.permute(0, 3, 1, 2))


def _network(classes=CLASSES):
    """A small CNN returning logits: conv, ReLU, global average, linear."""
    torch.manual_seed(5)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(4, classes)).eval()


@pytest.fixture(scope="module")
def network():
    return _network()


@pytest.fixture(scope="module")
def onnx_files(network, tmp_path_factory):
    """name -> path of ONNX exports of ``network``: batch fixed at 1 or 2, dynamic, and NHWC."""
    pytest.importorskip("onnx", reason='torch.onnx.export writes through onnx: '
                                       'pip install "ildl[onnx]"')
    pytest.importorskip("onnxruntime", reason=NEEDS_ONNXRUNTIME)
    folder = tmp_path_factory.mktemp("onnx")
    example = torch.zeros(2, 3, SIZE, SIZE)
    dynamic = {"images": {0: "batch"}}
    exports = {"fixed1": (network, example[:1], None), "fixed2": (network, example, None),
               "dynamic": (network, example, dynamic),
               "nhwc": (ChannelsLast(network), example.permute(0, 2, 3, 1), dynamic)}
    paths = {}
    for name, (module, images, axes) in exports.items():
        paths[name] = str(folder / f"{name}.onnx")
        torch.onnx.export(module, (images,), paths[name], input_names=["images"],
                          dynamic_axes=axes, dynamo=False)
    return paths


@pytest.fixture(scope="module")
def torchscript_files(network, tmp_path_factory):
    """{"logits": path, "probabilities": path}: the network, and it followed by a softmax."""
    folder = tmp_path_factory.mktemp("torchscript")
    paths = {"logits": str(folder / "logits.pt"), "probabilities": str(folder / "probabilities.pt")}
    torch.jit.save(torch.jit.script(network), paths["logits"])
    torch.jit.save(torch.jit.script(torch.nn.Sequential(network, torch.nn.Softmax(dim=1))),
                   paths["probabilities"])
    return paths


def _expected(network, images, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """softmax(network((x - mean) / std)) on NHWC NumPy images, by hand."""
    normalised = (images - np.array(mean)) / np.array(std)
    with torch.no_grad():
        logits = network(torch.tensor(normalised.transpose(0, 3, 1, 2), dtype=torch.float32))
    return torch.softmax(logits.double(), dim=1).numpy()


@pytest.fixture
def images(rng):
    return rng.random((3, SIZE, SIZE, 3))


@pytest.mark.parametrize("kind", ["logits", "probabilities"])
def test_a_torchscript_file_s_outputs_are_found_by_themselves(torchscript_files, network, images,
                                                              kind):
    classifier = as_classifier(torchscript_files[kind])
    assert isinstance(classifier, TorchClassifier) and classifier.outputs == kind
    assert classifier.description == f"the TorchScript file '{kind}.pt'"
    assert classifier.evaluations == 0  # loading is not an evaluation
    assert classifier.preprocessing == Preprocessing() and classifier.class_names is None
    np.testing.assert_allclose(classifier.predict(images), _expected(network, images), atol=1e-6)


def test_a_file_with_1000_outputs_gets_the_imagenet_names(tmp_path):
    path = str(tmp_path / "imagenet.pt")
    torch.jit.save(torch.jit.script(_network(classes=1000)), path)
    classifier = as_classifier(path)
    assert classifier.class_names == imagenet_classes() and classifier.class_name(1) == "goldfish"
    named = as_classifier(path, class_names=[f"thing {i}" for i in range(1000)])
    assert named.class_name(1) == "thing 1"


@pytest.mark.parametrize("name, batch_size", [("fixed1", 1), ("fixed2", 2), ("dynamic", 2),
                                              ("nhwc", 2)])
def test_an_onnx_file_gives_the_module_s_probabilities(onnx_files, network, images, name,
                                                       batch_size):
    # three images: a fixed batch of 2 runs a full batch, then one image filled up to two
    classifier = as_classifier(onnx_files[name], batch_size=2)
    assert isinstance(classifier, OnnxClassifier) and classifier.outputs == "logits"
    assert classifier.batch_size == batch_size and classifier.evaluations == 0
    assert classifier.channels_last == (name == "nhwc")
    assert classifier.input_shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(classifier.predict(images), _expected(network, images), atol=1e-6)
    assert classifier.evaluations == 3


def test_an_onnx_file_of_fixed_size_resizes_photos_to_it(onnx_files, network, rng):
    # the default preprocessing is ImageNet's (224 px); the file takes 16 px and nothing else
    classifier = as_classifier(onnx_files["dynamic"], preprocessing=Preprocessing(
        size=224, crop=1.0, mean=(0.5,) * 3, std=(0.25,) * 3))
    photo = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    image = classifier.prepare(photo)
    assert image.shape == (SIZE, SIZE, 3) and classifier.preprocessing.size == SIZE
    np.testing.assert_array_equal(image, Preprocessing(size=SIZE, crop=1.0).crop_and_resize(photo))
    np.testing.assert_allclose(classifier.predict(image[None]),
                               _expected(network, image[None], (0.5,) * 3, (0.25,) * 3),
                               atol=1e-6)


def test_images_of_the_wrong_size_for_an_onnx_file_are_refused_naming_it(onnx_files, rng):
    classifier = as_classifier(onnx_files["dynamic"])
    with pytest.raises(ValueError, match=r"(?s)the ONNX file 'dynamic.onnx' failed on images "
                                         r"sent as an array of shape \(1, 3, 20, 20\) .*Check "
                                         r"that the images have the size and channels"):
        classifier.predict(rng.random((1, 20, 20, 3)))


@pytest.mark.parametrize("method", ["gradcam", "saliency", "integrated_gradients"])
def test_gradient_methods_refuse_an_onnx_file_clearly(onnx_files, rng, method):
    with pytest.raises(ValueError, match=r"this method needs the model's gradients, which the "
                                         r"ONNX file 'dynamic.onnx' cannot give; use a black-box "
                                         r"method \(occlusion, rise, lime, shap\)"):
        explain(onnx_files["dynamic"], rng.random((SIZE, SIZE, 3)), method=method)


def test_a_black_box_method_runs_on_an_onnx_file(onnx_files, rng):
    explanation = explain(onnx_files["nhwc"], rng.random((SIZE, SIZE, 3)), method="occlusion")
    assert explanation.heatmap.shape == (SIZE, SIZE) and explanation.evaluations > 0


def test_an_ildl_file_is_its_own_model(tmp_path, rng):
    model = ildl_cnn(seed=1)
    path = tmp_path / "cnn.ildl"
    model.save(str(path))
    images = rng.random((2, *model.input_shape))
    classifier = as_classifier(path)
    assert isinstance(classifier, SequentialClassifier) and classifier.preprocessing is None
    np.testing.assert_allclose(classifier.predict(images), model.predict(images), rtol=1e-12)
    given = Preprocessing(size=None, mean=(0.5,) * 3, std=(0.5,) * 3)
    normalised = as_classifier(path, preprocessing=given)
    assert normalised.preprocessing == given
    np.testing.assert_allclose(normalised.predict(images), model.predict((images - 0.5) / 0.5),
                               rtol=1e-12)


def test_files_that_are_missing_or_not_models_are_refused(tmp_path):
    with pytest.raises(MissingFileError, match=r"no ONNX file at '.*missing\.onnx'"):
        as_classifier(tmp_path / "missing.onnx")
    with pytest.raises(MissingFileError, match=r"no model file at '.*missing\.pt'"):
        as_classifier(tmp_path / "missing.pt")
    (tmp_path / "notes.onnx").write_text("not a model")
    pytest.importorskip("onnxruntime", reason=NEEDS_ONNXRUNTIME)
    with pytest.raises(ModelFileError, match=r"onnxruntime cannot load '.*notes\.onnx' .*; pass "
                                             r"a valid \.onnx file"):
        as_classifier(tmp_path / "notes.onnx")


def test_an_onnx_file_that_does_not_take_images_is_refused(tmp_path):
    pytest.importorskip("onnx", reason='pip install "ildl[onnx]"')
    pytest.importorskip("onnxruntime", reason=NEEDS_ONNXRUNTIME)
    path = str(tmp_path / "table.onnx")
    torch.onnx.export(torch.nn.Linear(6, 2), (torch.zeros(1, 6),), path, dynamo=False)
    with pytest.raises(ValueError, match=r"the ONNX file '.*table\.onnx' takes inputs of shape "
                                         r"\[1, 6\], not a batch of images \(N, C, H, W\)"):
        as_classifier(path)
