"""plot_explanations: the grid of top classes x methods, and the heat normalisation it shows."""

import matplotlib
import numpy as np

from ildl.viz.explanations import normalised_heat, plot_explanations

matplotlib.use("Agg")


def region_model(images):
    """Three classes; class 0's probability grows with the brightness of the top-left quarter."""
    images = np.asarray(images)
    quarter = images[:, :8, :8].mean(axis=(1, 2, 3))
    logits = np.stack([4 * quarter, np.full_like(quarter, 1.0), np.full_like(quarter, 0.5)], 1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_normalised_heat_keeps_positive_evidence_scaled_to_one():
    heat = np.array([[-2.0, 0.0], [1.0, 4.0]])
    np.testing.assert_allclose(normalised_heat(heat), [[0, 0], [0.25, 1]])
    assert not normalised_heat(-np.ones((2, 2))).any()  # no positive evidence: nothing shown


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
