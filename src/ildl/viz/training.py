"""Learning curves: a metric per epoch for training and validation data."""

from __future__ import annotations

from ..errors import ArgumentError


def plot_history(history, metrics: tuple[str, ...] = ("accuracy", "loss"), title: str = ""):
    """One panel per metric with its training and validation curves (from ``fit``'s History or
    its ``.history`` dict). Returns the matplotlib Figure.

    >>> figure = plot_history(model.fit(x, y, validation_split=0.2, epochs=5))   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ..graphics import SERIES_COLORS

    logs = getattr(history, "history", history)
    shown = [metric for metric in metrics if metric in logs]
    if not shown:
        raise ArgumentError(f"none of {metrics} is in the history (it holds {sorted(logs)})")
    figure, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 4), squeeze=False)
    # A History knows which epochs it saw (a resumed run starts later); a dict counts from 1.
    epochs = [epoch + 1 for epoch in getattr(history, "epoch", [])] or \
        list(range(1, len(logs[shown[0]]) + 1))
    for ax, metric in zip(axes[0], shown):
        ax.plot(epochs, logs[metric], marker="o", color=SERIES_COLORS[3], label="training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], marker="o", color=SERIES_COLORS[0],
                    label="validation")
        ax.set_xlabel("epoch")
        # Whole epochs only, and one tick is enough: with min_n_ticks=2 (the default) one epoch
        # gets fractional ticks 0.96, 0.98, ... where no two whole numbers fit.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
