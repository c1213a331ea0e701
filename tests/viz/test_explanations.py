"""The explanation grid drawn from computed explanations, the heat normalisation it shows, the
colours of its scale and the cost under each map; its text fits even in a grid of one row."""

import matplotlib
import numpy as np
import pytest

from figure_text import texts_outside, texts_overlapping
from ildl.explain.explanation import Explanation
from ildl.viz.explanations import (
    HEAT_ALPHA,
    cost_label,
    heat_scale,
    map_seconds,
    normalised_heat,
    plot_explanation_grid,
)

matplotlib.use("Agg")


def test_normalised_heat_keeps_positive_evidence_its_hottest_percent_at_one():
    heat = np.array([[-2.0, 0.0], [1.0, 4.0]])
    # the 99th percentile of the positive values 1 and 4, interpolated: 1 + 0.99 * 3
    np.testing.assert_allclose(normalised_heat(heat), [[0, 0], [1 / 3.97, 1]])
    assert not normalised_heat(-np.ones((2, 2))).any()  # no positive evidence: nothing shown
    # a sparse map (integrated gradients' kind): 3 pixels of 200 over values from 0 to 1; the
    # three are drawn at 1, and a pixel of 0.5 at about 0.5, not at 0.5 / 200
    sparse = np.linspace(0, 1, 400)
    sparse[-3:] = 200.0
    shown = normalised_heat(sparse.reshape(20, 20)).ravel()
    assert (shown[-3:] == 1).all() and abs(shown[200] - sparse[200]) < 0.02


def made_up(target, method, probabilities, class_name=None):
    return Explanation(np.eye(4), target, probabilities, 0.25, 7, method, np.zeros((4, 4, 3)),
                       class_name)


def grid_axes(figure, rows, columns):
    """(the image's axes, the maps' axes (rows, columns), the scale's axes)."""
    axes = figure.axes
    assert len(axes) == 1 + rows * columns + 1
    return axes[0], np.array(axes[1:-1]).reshape(rows, columns), axes[-1]


def test_grid_shows_the_image_once_then_a_row_per_class_and_a_column_per_method():
    import matplotlib.pyplot as plt

    probabilities = np.array([0.2, 0.7, 0.1])
    rows = [[made_up(target, method, probabilities) for method in ("gradcam", "rise")]
            for target in (1, 0)]
    figure = plot_explanation_grid(np.zeros((4, 4, 1)), rows, probabilities, ["a", "b", "c"],
                                   title="why b?", note="the file was CMYK")
    image, maps, scale = grid_axes(figure, 2, 2)
    assert image.get_title() == "as the model saw it\n4 x 4 pixels"
    assert image.get_xlabel() == "the file was CMYK"
    assert maps[0, 0].get_ylabel() == "b\np = 70.0%"
    assert maps[1, 0].get_ylabel() == "a\np = 20.0%"
    assert [ax.get_title() for ax in maps[0]] == ["gradcam", "rise"]
    assert maps[1, 1].get_xlabel() == "0.25 s, 7 evaluations"
    assert [label.get_text() for label in scale.get_yticklabels()] == ["0", "half", "max"]
    assert figure._suptitle.get_text() == "why b?"
    plt.close(figure)


def test_rows_are_named_by_the_explanations_when_no_names_are_given():
    import matplotlib.pyplot as plt

    probabilities = np.array([0.6, 0.4])
    rows = [[made_up(0, "occlusion", probabilities, "tabby")],
            [made_up(1, "occlusion", probabilities)]]
    figure = plot_explanation_grid(np.zeros((4, 4, 3)), rows, probabilities)
    _, maps, _ = grid_axes(figure, 2, 1)
    assert maps[0, 0].get_ylabel() == "tabby\np = 60.0%"
    assert maps[1, 0].get_ylabel() == "class 1\np = 40.0%"
    plt.close(figure)


def test_the_scale_has_the_colours_of_a_mid_grey_pixel_under_the_heat():
    """overlay draws a 0.5 pixel as grey 0.25 (vmax 2) and the heat h over it in inferno with
    opacity HEAT_ALPHA * h: composited here by hand."""
    inferno = matplotlib.colormaps["inferno"]
    scale = heat_scale(levels=3)
    for level, heat in enumerate([0.0, 0.5, 1.0]):
        opacity = HEAT_ALPHA * heat
        expected = (1 - opacity) * 0.25 + opacity * np.array(inferno(heat)[:3])
        np.testing.assert_allclose(scale[level], expected)


@pytest.mark.parametrize("seconds, shown", [(0.0412, "0.041 s"), (4.53, "4.5 s"), (21.4, "21 s"),
                                            (125, "2:05")])
def test_map_seconds_keep_two_digits(seconds, shown):
    assert map_seconds(seconds) == shown


@pytest.mark.parametrize("seconds, evaluations, shown", [
    (0.0412, 1, "0.041 s, 1 evaluation"), (4.53, 50, "4.5 s, 50 evaluations"),
    (21.4, 1000, "21 s, 1,000 evaluations")])
def test_the_cost_of_a_map_counts_its_evaluations_in_words(seconds, evaluations, shown):
    assert cost_label(seconds, evaluations) == shown
    assert cost_label(seconds, evaluations, "\n") == shown.replace(", ", "\n")


def test_a_grid_of_one_row_keeps_its_scale_and_every_text_inside_and_apart():
    import matplotlib.pyplot as plt

    probabilities = np.array([0.7, 0.3])
    rows = [[made_up(0, method, probabilities, "American Staffordshire terrier")
             for method in ("gradcam", "integrated_gradients", "lime", "shap")]]
    figure = plot_explanation_grid(np.zeros((4, 4, 3)), rows, probabilities,
                                   title="ildl.explain on efficientnet-lite0\nchelsea: its top-1")
    assert texts_outside(figure) == []
    assert texts_overlapping(figure) == []
    plt.close(figure)


def test_ragged_or_empty_rows_are_refused():
    probabilities = np.array([0.5, 0.5])
    one = made_up(0, "gradcam", probabilities)
    for rows in ([], [[]], [[one, one], [one]]):
        with pytest.raises(ValueError, match="same length"):
            plot_explanation_grid(np.zeros((4, 4, 1)), rows, probabilities)
