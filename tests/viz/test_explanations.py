"""The explanation grid drawn from computed explanations, and the heat normalisation it shows."""

import matplotlib
import numpy as np
import pytest

from ildl.explain.explanation import Explanation
from ildl.viz.explanations import normalised_heat, plot_explanation_grid

matplotlib.use("Agg")


def test_normalised_heat_keeps_positive_evidence_scaled_to_one():
    heat = np.array([[-2.0, 0.0], [1.0, 4.0]])
    np.testing.assert_allclose(normalised_heat(heat), [[0, 0], [0.25, 1]])
    assert not normalised_heat(-np.ones((2, 2))).any()  # no positive evidence: nothing shown


def made_up(target, method, probabilities):
    return Explanation(np.eye(4), target, probabilities, 0.25, 7, method)


def test_grid_labels_each_row_with_its_class_and_each_column_with_its_method():
    import matplotlib.pyplot as plt

    probabilities = np.array([0.2, 0.7, 0.1])
    rows = [[made_up(target, method, probabilities) for method in ("gradcam", "rise")]
            for target in (1, 0)]
    figure = plot_explanation_grid(np.zeros((4, 4, 1)), rows, probabilities, ["a", "b", "c"])
    axes = np.array(figure.axes).reshape(2, 3)
    assert axes[0, 0].get_ylabel() == "b\np = 70.0%"
    assert axes[1, 0].get_ylabel() == "a\np = 20.0%"
    assert [ax.get_title() for ax in axes[0, 1:]] == ["gradcam", "rise"]
    assert axes[1, 2].get_xlabel() == "0.25 s, 7 evals"
    plt.close(figure)


def test_ragged_or_empty_rows_are_refused():
    probabilities = np.array([0.5, 0.5])
    one = made_up(0, "gradcam", probabilities)
    for rows in ([], [[]], [[one, one], [one]]):
        with pytest.raises(ValueError, match="same length"):
            plot_explanation_grid(np.zeros((4, 4, 1)), rows, probabilities)
