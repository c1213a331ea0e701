"""plot_history: learning curves from fit's History or its dict."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ildl.viz import plot_history  # noqa: E402


def test_one_panel_per_metric_with_training_and_validation_curves():
    logs = {"loss": [0.9, 0.5, 0.4], "accuracy": [0.6, 0.8, 0.85],
            "val_loss": [1.0, 0.7, 0.6], "val_accuracy": [0.5, 0.7, 0.75]}
    figure = plot_history(logs)
    try:
        accuracy_ax, loss_ax = figure.axes
        assert [ax.get_title() for ax in figure.axes] == ["accuracy", "loss"]
        training, validation = loss_ax.lines
        assert list(training.get_xdata()) == [1, 2, 3]
        assert list(validation.get_ydata()) == logs["val_loss"]
        figure.canvas.draw()
        ticks = [tick for tick in accuracy_ax.get_xticks()
                 if accuracy_ax.get_xlim()[0] <= tick <= accuracy_ax.get_xlim()[1]]
        assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
    finally:
        plt.close(figure)


def test_one_epoch_gets_one_whole_epoch_tick():
    figure = plot_history({"loss": [0.9], "val_loss": [1.0]})  # e.g. ildl nn mnist --epochs 1
    try:
        figure.canvas.draw()
        ax = figure.axes[0]
        low, high = ax.get_xlim()
        assert [tick for tick in ax.get_xticks() if low <= tick <= high] == [1]
    finally:
        plt.close(figure)


def test_unknown_metrics_name_what_the_history_holds():
    with pytest.raises(ValueError, match=r"holds \['loss'\]"):
        plot_history({"loss": [1.0]}, metrics=("accuracy",))
