"""The shap adapters against shap called directly: the Partition explainer with an image masker
on a predict function, and GradientExplainer on a torch module with the same seed."""

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, linear_softmax, nchw, torch_cnn

from ildl.explain import explain

shap = pytest.importorskip("shap")
pytest.importorskip("cv2")


def partition_directly(image, predict, target, masker, samples, batch_size=64):
    explainer = shap.Explainer(predict, shap.maskers.Image(masker, image.shape),
                               algorithm="partition")
    values = explainer(image[None], max_evals=samples, batch_size=batch_size, outputs=[target],
                       silent=True).values
    return values[0, ..., 0].sum(axis=-1)


def test_partition_shap_equals_shap_called_directly(rng):
    image = rng.random((16, 16, 3))
    predict = linear_softmax(image.shape, seed=1)
    for target in (0, 2):
        ours = explain(predict, image, target, "shap", samples=200)
        expected = partition_directly(image, predict, target, "blur(4,4)", 200)  # the default
        np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-10, atol=1e-14)
        assert 0 < ours.evaluations <= 200 + 2
    inpainted = explain(predict, image, 1, "shap", samples=100, masker="inpaint_telea")
    np.testing.assert_allclose(inpainted.heatmap,
                               partition_directly(image, predict, 1, "inpaint_telea", 100),
                               rtol=1e-10, atol=1e-14)


def test_partition_shap_adds_up_to_the_change_of_probability(rng):
    """Shapley values share p(x) - p(all hidden) among the pixels."""
    image = rng.random((8, 8, 1))
    predict = linear_softmax(image.shape, seed=2)
    heatmap = explain(predict, image, 1, "shap", samples=300, masker=0.0).heatmap
    change = predict(image[None])[0, 1] - predict(np.zeros((1, 8, 8, 1)))[0, 1]
    assert heatmap.sum() == pytest.approx(change, rel=1e-6)


def test_gradient_shap_equals_gradient_explainer_called_directly(rng, torch):
    """shap explains every output from the same random draws; ildl asks for the target only."""
    module = torch_cnn(torch, seed=3, dtype=torch.float32)
    image = rng.random(IMAGE_SHAPE)
    background = rng.random((5, *IMAGE_SHAPE))
    explainer = shap.GradientExplainer(
        module, torch.cat([nchw(torch, b, torch.float32) for b in background]), batch_size=64)
    every_class = explainer.shap_values(nchw(torch, image, torch.float32), nsamples=50, rseed=4)
    for target in range(CLASSES):
        ours = explain(module, image, target, "shap_gradient", samples=50,
                       background=background, seed=4)
        expected = every_class[0, ..., target].sum(axis=0)
        np.testing.assert_allclose(ours.heatmap, expected, rtol=1e-5, atol=1e-9)
        assert ours.evaluations == 1 + 5 + 50  # picking the class, the background, the samples


def test_gradient_shap_needs_a_float32_torch_module(rng, torch):
    image = rng.random(IMAGE_SHAPE)
    with pytest.raises(TypeError, match=r"needs a torch.nn.Module, not the predict function "
                                        r"'predict'; use method='shap'"):
        explain(linear_softmax(), image, method="shap_gradient")
    with pytest.raises(TypeError, match=r"feeds float32 inputs, but the torch module Sequential "
                                        r"has torch.float64 weights; explain module.float()"):
        explain(torch_cnn(torch), image, method="shap_gradient")
    with pytest.raises(ValueError, match=r"background must be a batch of images \(B, H, W, C\) "
                                         r"shaped like the explained image \(12, 12, 3\)"):
        explain(torch_cnn(torch, dtype=torch.float32), image, method="shap_gradient",
                background=np.zeros((12, 12, 3)))
