"""Saliency and integrated gradients against captum (Saliency with abs=True; IntegratedGradients
with method="riemann_middle", the midpoint rule ildl uses) on a torch CNN; on an ildl.nn CNN
against autograd and captum on its torch twin; integrated gradients' completeness."""

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, ildl_cnn, nchw, torch_cnn, torch_twin

from ildl import nn
from ildl.explain import as_classifier, explain

captum_attr = pytest.importorskip("captum.attr")


def captum_integrated_gradients(torch, module, image, target, steps, baseline):
    attribution = captum_attr.IntegratedGradients(module).attribute(
        nchw(torch, image), baselines=nchw(torch, baseline), target=target, n_steps=steps,
        method="riemann_middle")
    return attribution[0].sum(dim=0).detach().numpy()


def captum_saliency(torch, module, image, target):
    inputs = nchw(torch, image).requires_grad_(True)
    attribution = captum_attr.Saliency(module).attribute(inputs, target=target, abs=True)
    return attribution[0].max(dim=0).values.detach().numpy()


@pytest.mark.parametrize("black_baseline", [True, False])
def test_integrated_gradients_equal_captum(black_baseline, rng, torch):
    module = torch_cnn(torch, seed=5)
    image = rng.random(IMAGE_SHAPE)
    baseline = np.zeros(IMAGE_SHAPE) if black_baseline else rng.random(IMAGE_SHAPE)
    for target in range(CLASSES):
        ours = explain(module, image, target, "integrated_gradients", steps=20,
                       baseline=0.0 if black_baseline else baseline)
        theirs = captum_integrated_gradients(torch, module, image, target, 20, baseline)
        # captum rounds its alphas to float32 (torch.linspace): ~1e-8 relative
        np.testing.assert_allclose(ours.heatmap, theirs, rtol=1e-6, atol=1e-10)
        assert ours.evaluations == 20


def test_saliency_equals_captum(rng, torch):
    module = torch_cnn(torch, seed=6)
    image = rng.random(IMAGE_SHAPE)
    for target in range(CLASSES):
        ours = explain(module, image, target, "saliency")
        np.testing.assert_allclose(ours.heatmap, captum_saliency(torch, module, image, target),
                                   rtol=1e-12, atol=1e-16)
        assert ours.evaluations == 1


def test_ildl_input_gradients_equal_autograd_on_the_twin(rng, torch):
    """Saliency and integrated gradients of an ildl.nn CNN (its own backward pass) equal the
    same methods on its torch twin (autograd) and captum on the twin."""
    model = ildl_cnn(seed=7)
    twin = torch_twin(torch, model)
    image = rng.random(IMAGE_SHAPE)
    for target in range(CLASSES):
        saliency = explain(model, image, target, "saliency").heatmap
        np.testing.assert_allclose(saliency, explain(twin, image, target, "saliency").heatmap,
                                   rtol=1e-10, atol=1e-16)
        np.testing.assert_allclose(saliency, captum_saliency(torch, twin, image, target),
                                   rtol=1e-10, atol=1e-16)
        integrated = explain(model, image, target, "integrated_gradients", steps=16).heatmap
        np.testing.assert_allclose(integrated, captum_integrated_gradients(
            torch, twin, image, target, 16, np.zeros(IMAGE_SHAPE)), rtol=1e-6, atol=1e-10)


def test_integrated_gradients_add_up_to_the_change_of_probability(rng):
    """Completeness: the map sums to p(x) - p(baseline), up to the midpoint rule's O(1/steps^2)
    error (a smooth model: no max pooling or ReLU kinks on the path)."""
    model = nn.Sequential([nn.Conv2D(6, 3, activation="tanh", input_shape=IMAGE_SHAPE),
                           nn.AveragePooling2D(2), nn.Flatten(),
                           nn.Dense(CLASSES, activation="softmax")], seed=8, dtype="float64")
    image = rng.random(IMAGE_SHAPE)
    baseline = rng.random(IMAGE_SHAPE)
    for target in range(CLASSES):
        total = explain(model, image, target, "integrated_gradients", steps=100,
                        baseline=baseline).heatmap.sum()
        change = model.predict(image[None])[0, target] - model.predict(baseline[None])[0, target]
        assert total == pytest.approx(change, abs=1e-6)


def test_integrated_gradients_refuse_bad_options(rng):
    model, image = ildl_cnn(), rng.random(IMAGE_SHAPE)
    with pytest.raises(ValueError, match=r"baseline must be a number or an image of the same "
                                         r"shape as the explained one \(12, 12, 3\), but has "
                                         r"shape \(12, 12\)"):
        explain(model, image, method="integrated_gradients", baseline=np.zeros((12, 12)))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        explain(model, image, method="integrated_gradients", steps=0)


@pytest.mark.parametrize("method, options", [
    ("saliency", {}),
    ("integrated_gradients", {"steps": 7}),   # 7 steps: batches of 3 leave a remainder
    ("integrated_gradients", {"steps": 12, "baseline": 0.5}),
])
def test_batch_size_does_not_change_the_map(method, options, rng, torch):
    """One image at a time, three at a time, all at once: the same gradients, so the same map
    (the path of integrated gradients goes through the model batch_size points at a time)."""
    module = torch_cnn(torch, seed=9)
    image = rng.random(IMAGE_SHAPE)
    maps = [explain(as_classifier(module, batch_size=batch_size), image, 2, method,
                    **options) for batch_size in (1, 3, 64)]
    for other in maps[1:]:
        np.testing.assert_allclose(other.heatmap, maps[0].heatmap, rtol=1e-12, atol=1e-16)
        assert other.evaluations == maps[0].evaluations
    assert np.ptp(maps[0].heatmap) > 0


def test_integrated_gradients_never_send_more_than_a_batch(rng, torch):
    """Memory stays bounded: 50 steps with batch_size=8 reach the module as batches of at most 8
    images."""
    module = torch_cnn(torch, seed=10)
    sizes = []
    hook = module.register_forward_hook(lambda _m, inputs, _o: sizes.append(len(inputs[0])))
    explain(as_classifier(module, batch_size=8), rng.random(IMAGE_SHAPE), 1,
            "integrated_gradients", steps=50)
    hook.remove()
    assert max(sizes) == 8
    assert sum(sizes) == 1 + 50  # the prediction, then the path
