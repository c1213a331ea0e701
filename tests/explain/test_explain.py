"""``explain``: every method through the one call on the models it supports, what an
Explanation holds, the choice of target, unknown methods and options, and that ildl.explain
imports without its optional packages."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, ildl_cnn, linear_softmax, torch_cnn

from ildl.explain import METHODS, Explanation, explain

CHEAP = {"integrated_gradients": {"steps": 8}, "occlusion": {"window": 4, "stride": 4},
         "rise": {"samples": 40}, "lime": {"samples": 40, "segmentation": "grid", "segments": 9},
         "shap": {"samples": 60, "masker": 0.0}, "shap_gradient": {"samples": 10}}
BLACK_BOX = ["occlusion", "rise", "lime", "shap"]


def check_explanation(explanation, method, target, probabilities):
    assert isinstance(explanation, Explanation)
    assert explanation.method == method and explanation.target == target
    assert explanation.heatmap.shape == IMAGE_SHAPE[:2]
    assert explanation.heatmap.dtype == np.float64
    assert np.all(np.isfinite(explanation.heatmap))
    np.testing.assert_allclose(explanation.probabilities, probabilities, rtol=1e-5)
    assert explanation.seconds > 0 and explanation.evaluations > 0


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_on_a_torch_module(method, rng, torch):
    pytest.importorskip("lime")
    pytest.importorskip("shap")
    module = torch_cnn(torch, seed=1, dtype=torch.float32)
    image = rng.random(IMAGE_SHAPE)
    with torch.no_grad():
        probabilities = module(torch.tensor(image.transpose(2, 0, 1)[None],
                                            dtype=torch.float32))[0].numpy()
    explanation = explain(module, image, 2, method, **CHEAP.get(method, {}))
    check_explanation(explanation, method, 2, probabilities)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "shap_gradient"])
def test_every_method_but_gradient_shap_on_an_ildl_model(method, rng):
    pytest.importorskip("lime")
    pytest.importorskip("shap")
    model = ildl_cnn(seed=2)
    image = rng.random(IMAGE_SHAPE)
    explanation = explain(model, image, None, method, **CHEAP.get(method, {}))
    probabilities = model.predict(image[None])[0]
    check_explanation(explanation, method, int(np.argmax(probabilities)), probabilities)


@pytest.mark.parametrize("method", BLACK_BOX)
def test_black_box_methods_on_a_predict_function(method, rng):
    pytest.importorskip("lime")
    pytest.importorskip("shap")
    predict = linear_softmax()
    image = rng.random(IMAGE_SHAPE)
    explanation = explain(predict, image, 1, method, **CHEAP[method])
    check_explanation(explanation, method, 1, predict(image[None])[0])


def test_target_none_explains_the_most_probable_class(rng):
    predict = linear_softmax(scale=10.0)
    image = rng.random(IMAGE_SHAPE)
    best = int(np.argmax(predict(image[None])[0]))
    assert explain(predict, image, method="occlusion").target == best
    assert best != explain(predict, image, (best + 1) % CLASSES, "occlusion").target


def test_unknown_methods_and_options_are_named(rng):
    image = rng.random(IMAGE_SHAPE)
    with pytest.raises(ValueError, match=r"unknown method 'eli5'; choose one of \['gradcam', "
                                         r"'saliency', 'integrated_gradients', 'occlusion', "
                                         r"'rise', 'lime', 'shap', 'shap_gradient'\]"):
        explain(ildl_cnn(), image, method="eli5")
    with pytest.raises(TypeError, match=r"method 'rise' has no option 'steps'; its options are "
                                        r"\['samples', 'cells', 'keep', 'fill', 'seed'\]"):
        explain(ildl_cnn(), image, method="rise", steps=10)


def test_methods_share_their_leading_arguments():
    """Interchangeable: (classifier, image, target, options...) for every method."""
    for function in METHODS.values():
        assert list(inspect.signature(function).parameters)[:3] == ["classifier", "image",
                                                                     "target"]


def test_import_works_without_the_optional_packages():
    """With torch, lime, shap, scikit-image and OpenCV hidden, ildl.explain imports, occlusion
    runs, and lime says how to install what it needs."""
    script = """
import sys
for name in ("torch", "lime", "lime.lime_image", "shap", "skimage", "cv2"):
    sys.modules[name] = None   # makes `import name` fail
import numpy as np
from ildl.explain import explain
def predict(images):
    return np.tile([0.25, 0.75], (len(images), 1))
image = np.zeros((8, 8, 3))
print(explain(predict, image, method="occlusion").evaluations)
try:
    explain(predict, image, method="lime")
except ImportError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == str(8 * 8 + 1)  # 1x1 windows with stride 1, and the image
    assert lines[1].startswith("method='lime' needs 'lime.lime_image', which cannot be imported")
    assert lines[1].endswith('install it with: pip install "ildl[explain]"')
