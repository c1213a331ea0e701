"""plot_explanations: the top classes of a model explained by each method, drawn as a grid."""

import matplotlib
import numpy as np
import pytest

from ildl.errors import ArgumentError
from ildl.explain import plot_explanations

matplotlib.use("Agg")


def region_model(images):
    """Three classes; class 0's probability grows with the brightness of the top-left quarter."""
    images = np.asarray(images)
    quarter = images[:, :8, :8].mean(axis=(1, 2, 3))
    logits = np.stack([4 * quarter, np.full_like(quarter, 1.0), np.full_like(quarter, 0.5)], 1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_grid_has_a_row_per_top_class_and_a_column_per_method():
    image = np.full((16, 16, 1), 0.9)
    figure, found = plot_explanations(region_model, image, ["occlusion", "rise"], top_k=2,
                                      class_names=["bright", "b", "c"],
                                      options={"occlusion": {"window": 4, "stride": 4},
                                               "rise": {"samples": 64}})
    assert len(figure.axes) == 2 * 3
    probabilities = region_model(image[None])[0]
    assert [row[0].target for row in found] == list(np.argsort(-probabilities)[:2])
    assert [e.method for e in found[0]] == ["occlusion", "rise"]
    assert figure.axes[0].get_ylabel().startswith("bright")
    # the class-0 occlusion map is hottest in the quarter the model looks at
    heat = found[0][0].heatmap
    assert all(index < 8 for index in np.unravel_index(heat.argmax(), heat.shape))


@pytest.mark.parametrize(("arguments", "message"), [
    ({"methods": []}, "at least one method"),
    ({"methods": ["occlusion"], "top_k": 0}, "top_k must be a positive"),
    ({"methods": ["occlusion"], "top_k": 1.5}, "top_k must be a positive"),
])
def test_no_method_or_no_class_is_refused_before_any_work(arguments, message):
    def model(images):
        raise AssertionError("the model must not run")

    with pytest.raises(ArgumentError, match=message):
        plot_explanations(model, np.zeros((16, 16, 1)), **arguments)
