"""plot_explanations: the top classes of a model explained by each method, drawn as a grid; the
checks that choose methods before any work."""

import matplotlib
import numpy as np
import pytest

from ildl.errors import ArgumentError
from ildl.explain import as_classifier, plot_explanations
from ildl.explain.compare import check_methods, method_unavailable, top_classes

matplotlib.use("Agg")


def region_model(images):
    """Three classes; class 0's probability grows with the brightness of the top-left quarter."""
    images = np.asarray(images)
    quarter = images[:, :8, :8].mean(axis=(1, 2, 3))
    logits = np.stack([4 * quarter, np.full_like(quarter, 1.0), np.full_like(quarter, 0.5)], 1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


OPTIONS = {"occlusion": {"window": 4, "stride": 4}, "rise": {"samples": 64}}


def test_grid_has_a_row_per_top_class_and_a_column_per_method():
    image = np.full((16, 16, 1), 0.9)
    figure, found = plot_explanations(region_model, image, ["occlusion", "rise"], top_k=2,
                                      class_names=["bright", "b", "c"], options=OPTIONS)
    assert len(figure.axes) == 1 + 2 * 2 + 1  # the image, the maps, the colour scale
    probabilities = region_model(image[None])[0]
    assert [row[0].target for row in found] == list(np.argsort(-probabilities)[:2])
    assert [e.method for e in found[0]] == ["occlusion", "rise"]
    assert figure.axes[1].get_ylabel().startswith("bright")
    # the class-0 occlusion map is hottest in the quarter the model looks at
    heat = found[0][0].heatmap
    assert all(index < 8 for index in np.unravel_index(heat.argmax(), heat.shape))


def test_rows_are_named_by_the_classifier_unless_names_are_given():
    classifier = as_classifier(region_model, class_names=["bright", "flat", "half"])
    figure, _ = plot_explanations(classifier, np.full((16, 16, 1), 0.9), ["occlusion"],
                                  top_k=2, options=OPTIONS)
    labels = [figure.axes[index].get_ylabel().split("\n")[0] for index in (1, 2)]
    assert labels == ["bright", "flat"]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"methods": []}, "no method given"),
    ({"methods": ["occlusion", "ocllusion"]}, r"unknown method 'ocllusion' \(did you mean "
                                              r"'occlusion'\?\)"),
    ({"methods": ["occlusion"], "top_k": 0}, "top_k must be a positive"),
    ({"methods": ["occlusion"], "top_k": 1.5}, "top_k must be a positive"),
])
def test_no_method_or_no_class_is_refused_before_any_work(arguments, message):
    def model(images):
        raise AssertionError("the model must not run")

    with pytest.raises(ArgumentError, match=message):
        plot_explanations(model, np.zeros((16, 16, 1)), **arguments)


def test_methods_are_checked_and_kept_once_in_their_order():
    assert check_methods(["lime", "gradcam", "lime"]) == ["lime", "gradcam"]
    assert check_methods("rise") == ["rise"]


def test_top_classes_are_the_most_probable_first():
    probabilities = np.array([0.1, 0.5, 0.1, 0.3])
    assert top_classes(probabilities, 3) == [1, 3, 0]  # a tie keeps the lower index first


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_a_method_that_cannot_run_says_why(monkeypatch, tmp_path, torch):
    from ildl.explain import compare

    black_box = as_classifier(region_model)
    assert "needs the gradients of the model" in method_unavailable("gradcam", black_box)
    assert method_unavailable("occlusion", black_box) is None
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1),
                                 torch.nn.Flatten(), torch.nn.Softmax(dim=1))
    assert method_unavailable("gradcam", as_classifier(module)) is None
    torch.jit.save(torch.jit.script(module), str(tmp_path / "net.pt"))
    scripted = as_classifier(str(tmp_path / "net.pt"))
    assert "no hook can see them" in method_unavailable("gradcam", scripted)
    assert method_unavailable("integrated_gradients", scripted) is None
    from explain_reference import ildl_cnn

    assert "needs a torch module" in method_unavailable("shap_gradient",
                                                        as_classifier(ildl_cnn()))

    real_find_spec = compare.importlib.util.find_spec
    monkeypatch.setattr(compare.importlib.util, "find_spec",
                        lambda name: None if name == "cv2" else real_find_spec(name))
    assert method_unavailable("shap", black_box) == (
        'shap needs cv2, not installed here: pip install "ildl[explain]"')
