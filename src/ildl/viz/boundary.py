"""Decision boundaries: what a classifier predicts over the whole plane of a 2-D dataset.

Static plots (``plot_decision_boundary``) and animations of a model learning, made from the frames
that a ``BoundaryRecorder`` takes while ``fit`` runs::

    model.compile("adam", "binary_crossentropy", ["accuracy"])
    recorder = animate_decision_boundary(model, x, y, epochs=100, path="learning.gif",
                                         summary_path="learning.png")

Colours follow ``ildl.graphics``: class 0 red, class 1 blue, the shading P(class 1) from red
through white to blue, and the black (white on the dark theme) line where P(class 1) = 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..graphics import (
    BOUNDARY_CMAP,
    CLASS_COLORS,
    SERIES_COLORS,
    freeze_layout,
    save_animation,
    save_figure,
    themed,
)
from .grid import grid_points, prediction_grid  # noqa: F401  (grid_points: its old home)

#: Training and validation curves in every boundary figure (not the class colours).
TRAIN_COLOR, VALIDATION_COLOR = SERIES_COLORS[6], SERIES_COLORS[5]
SHADING_ALPHA = 0.6
#: The shading uses this many bands of P(class 1): crisp contours like ``contourf``, and flat
#: areas of one colour that GIF compression shrinks far better than smooth gradients.
SHADING_BANDS = 10


# -- drawing one boundary --------------------------------------------------------------------------
def draw_points(ax, x: np.ndarray, y: np.ndarray, size: float = 14, alpha: float = 1.0,
                label: str = "") -> None:
    """Scatter (N, 2) points coloured by their class (0 red, 1 blue), one legend entry a class."""
    edge = _contour_color()
    for label_value, color in enumerate(CLASS_COLORS):
        chosen = np.ravel(y) == label_value
        ax.scatter(x[chosen, 0], x[chosen, 1], s=size, color=color, edgecolors=edge,
                   linewidths=0.4, alpha=alpha, label=f"{label}class {label_value}".strip())


def _contour_color() -> str:
    """The colour of the P = 0.5 line and point edges: the theme's text colour, so it contrasts
    with the background (white on dark, near-black on light)."""
    import matplotlib.pyplot as plt

    return plt.rcParams["text.color"]


class BoundaryPanel:
    """One Axes showing a boundary that can change: ``show(probabilities)`` redraws it.

    The shading is an image of P(class 1) on the grid (cheap to update for each frame of an
    animation); the line is the contour P(class 1) = 0.5, the decision boundary itself.
    """

    def __init__(self, ax, grid_x: np.ndarray, grid_y: np.ndarray, x: np.ndarray,
                 y: np.ndarray, point_size: float = 12, legend: bool = False):
        self.ax = ax
        self.grid_x, self.grid_y = grid_x, grid_y
        extent = (grid_x[0, 0], grid_x[0, -1], grid_y[0, 0], grid_y[-1, 0])
        import matplotlib

        banded = matplotlib.colormaps[BOUNDARY_CMAP].resampled(SHADING_BANDS)
        self.image = ax.imshow(np.full(grid_x.shape, 0.5), extent=extent, origin="lower",
                               cmap=banded, vmin=0, vmax=1, alpha=SHADING_ALPHA,
                               interpolation="bilinear", aspect="auto")
        self.contour = None
        draw_points(ax, x, y, size=point_size)
        if legend:
            ax.legend(loc="upper right", fontsize=7, handletextpad=0.2, borderpad=0.3)
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$", labelpad=1)

    def show(self, probabilities: np.ndarray, title: str | None = None) -> None:
        """Draw P(class 1) given on the grid, (resolution, resolution)."""
        self.image.set_data(probabilities)
        if self.contour is not None:
            self.contour.remove()
            self.contour = None
        if probabilities.min() < 0.5 < probabilities.max():  # no line while one class is everywhere
            self.contour = self.ax.contour(self.grid_x, self.grid_y, probabilities, levels=[0.5],
                                           colors=_contour_color(), linewidths=1.4)
        if title is not None:
            self.ax.set_title(title)


def plot_decision_boundary(model, x: np.ndarray, y: np.ndarray, ax=None, title: str = "",
                           resolution: int = 200):
    """Shade the plane by the predicted probability of class 1 and draw the points of (x, y).

    ``model`` is anything with ``predict`` (an ildl ``Sequential``) or a function of points.
    Returns the matplotlib Axes.

    >>> ax = plot_decision_boundary(model, x_test, y_test, title="test set")   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    predict = model.predict if hasattr(model, "predict") else model
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    grid_x, grid_y, probabilities = prediction_grid(predict, x, resolution)
    panel = BoundaryPanel(ax, grid_x, grid_y, x, y, point_size=22, legend=True)
    panel.show(probabilities, title or None)
    ax.figure.colorbar(panel.image, ax=ax, label="P(class 1)")
    return ax


# -- learning curves beside the boundary -----------------------------------------------------------
class CurvePanels:
    """Accuracy and loss against training time, growing frame by frame (two stacked Axes)."""

    def __init__(self, ax_accuracy, ax_loss, steps: list[int], metrics: dict[str, list[float]],
                 unit: str = "epoch"):
        self.steps = np.asarray(steps)
        self.metrics = {name: np.asarray(values) for name, values in metrics.items()}
        self.lines = []  # (line, marker, values) per curve
        for ax, name in ((ax_accuracy, "accuracy"), (ax_loss, "loss")):
            for prefix, color, label in (("", TRAIN_COLOR, "training"),
                                         ("val_", VALIDATION_COLOR, "validation")):
                if prefix + name in self.metrics:
                    self._add_curve(ax, self.metrics[prefix + name], color, label)
            ax.set_xlim(0, max(1, self.steps[-1]))
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
        top = max(values.max() for key, values in self.metrics.items() if key.endswith("loss"))
        ax_loss.set_ylim(0, top * 1.08)
        ax_accuracy.set_ylim(min(0.4, min(v.min() for k, v in self.metrics.items()
                                           if k.endswith("accuracy")) - 0.02), 1.02)
        ax_accuracy.legend(loc="lower right", fontsize=8)
        ax_accuracy.tick_params(labelbottom=False)
        ax_loss.set_xlabel(f"training {unit}s" if unit == "step" else "epoch")

    def _add_curve(self, ax, values: np.ndarray, color: str, label: str) -> None:
        line, = ax.plot([], [], color=color, linewidth=1.8, label=label)
        marker, = ax.plot([], [], "o", color=color, markersize=5)
        self.lines.append((line, marker, values))

    def show(self, frame: int) -> None:
        """Draw the curves up to recorded frame ``frame`` with a dot at its end."""
        steps = self.steps[: frame + 1]
        for line, marker, values in self.lines:
            line.set_data(steps, values[: frame + 1])
            marker.set_data(steps[-1:], values[frame: frame + 1])


def _frame_title(recorder, frame: int) -> str:
    unit = "step" if recorder.per == "step" else "epoch"
    accuracy = recorder.metrics["accuracy"][frame]
    return f"{unit} {recorder.steps[frame]:,}: accuracy {accuracy:.1%}"


def _boundary_and_curves_figure(recorder, x, y, title: str, size: tuple[float, float]):
    """The animation's layout: the boundary on the left, accuracy above loss on the right."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=size)
    grid = figure.add_gridspec(2, 2, width_ratios=(1.0, 1.05), left=0.08, right=0.97,
                               bottom=0.13, top=0.84 if title else 0.9, wspace=0.28,
                               hspace=0.12)
    panel = BoundaryPanel(figure.add_subplot(grid[:, 0]), recorder.grid_x, recorder.grid_y, x, y,
                          legend=True)
    curves = CurvePanels(figure.add_subplot(grid[0, 1]), figure.add_subplot(grid[1, 1]),
                         recorder.steps, recorder.metrics, recorder.per)
    if title:
        figure.suptitle(title, fontsize=12)
    return figure, panel, curves


def save_boundary_animation(recorder, x: np.ndarray, y: np.ndarray, path: str, title: str = "",
                            fps: float = 15, theme: str = "dark",
                            size: tuple[float, float] = (8.0, 4.0),
                            progress: Callable[[int, int], None] | None = None) -> str:
    """Write the frames of a ``BoundaryRecorder`` as an animation (.gif or .mp4): the boundary
    with the points (x, y) on the left, accuracy and loss growing on the right. ``size`` is in
    inches at 100 dpi (8 x 4 -> 800 x 400 pixels). Returns ``path``."""
    import matplotlib.pyplot as plt

    with themed(theme):
        figure, panel, curves = _boundary_and_curves_figure(recorder, x, y, title, size)

        def update(frame: int) -> None:
            panel.show(recorder.probabilities[frame], _frame_title(recorder, frame))
            curves.show(frame)

        try:
            return save_animation(figure, update, len(recorder), path, fps, progress)
        finally:
            plt.close(figure)


# -- a summary picture: snapshots of the boundary --------------------------------------------------
def snapshot_frames(steps: list[int], count: int, spacing: str = "log") -> list[int]:
    """Indices of ``count`` recorded frames to show, first and last included.

    ``spacing="log"`` spaces them evenly in log(1 + step): a network often changes most at the
    start, so early frames get more of the pictures; ``"linear"`` spaces them evenly in steps.
    """
    steps = np.asarray(steps, dtype=float)
    if count >= len(steps):
        return list(range(len(steps)))
    if spacing == "log":
        targets = np.expm1(np.linspace(np.log1p(steps[0]), np.log1p(steps[-1]), count))
    else:
        targets = np.linspace(steps[0], steps[-1], count)
    chosen = []
    for target in targets:  # the nearest frame, or the next one if the nearest is taken
        index = int(np.argmin(np.abs(steps - target)))
        chosen.append(max(index, chosen[-1] + 1) if chosen else index)
    chosen[-1] = len(steps) - 1  # pull back any frame pushed past the end
    for position in range(count - 2, -1, -1):
        chosen[position] = min(chosen[position], chosen[position + 1] - 1)
    return chosen


def plot_boundary_snapshots(recorder, x: np.ndarray, y: np.ndarray, count: int = 5,
                            columns: int | None = None, curves: bool = True, title: str = "",
                            theme: str = "dark", spacing: str = "log"):
    """A grid of ``count`` recorded boundaries (chosen by ``snapshot_frames(steps, count,
    spacing)``), and below them, with ``curves``, the whole accuracy and loss curves with the
    snapshot moments marked. Returns the matplotlib Figure (``save_figure(figure, path)``)."""
    import matplotlib.pyplot as plt

    frames = snapshot_frames(recorder.steps, count, spacing)
    columns = columns or len(frames)
    rows = math.ceil(len(frames) / columns)
    with themed(theme):
        # Square panels in taller cells leave empty bands between the rows: the "compressed"
        # layout closes them up (it cannot place the curves' free-shaped panels, so not then).
        figure = plt.figure(figsize=(2.7 * columns, 2.9 * rows + (2.6 if curves else 0) + 0.5),
                            layout="constrained" if curves else "compressed")
        grid = figure.add_gridspec(rows + int(curves), 2 * columns,
                                   height_ratios=[1.0] * rows + ([0.85] if curves else []))
        snapshot_axes = []
        for position, frame in enumerate(frames):
            row, column = divmod(position, columns)
            ax = figure.add_subplot(grid[row, 2 * column: 2 * column + 2])
            snapshot_axes.append(ax)
            panel = BoundaryPanel(ax, recorder.grid_x, recorder.grid_y, x, y, point_size=5,
                                  legend=position == 0)
            panel.show(recorder.probabilities[frame], _frame_title(recorder, frame)
                       .replace(": ", "\n"))
            ax.set_aspect("equal", adjustable="box")
            if column:
                ax.set_ylabel("")
            if row < rows - 1:
                ax.set_xlabel("")
        figure.colorbar(panel.image, ax=snapshot_axes, label="P(class 1)", shrink=0.8)
        if curves:
            _summary_curves(figure, grid[rows, :], recorder, frames)
        if title:
            figure.suptitle(title, fontsize=13)
    return figure


def _summary_curves(figure, cell, recorder, frames: list[int]) -> None:
    """Accuracy and loss side by side under the snapshots, dotted lines at the snapshots."""
    inner = cell.subgridspec(1, 2, wspace=0.15)
    ax_accuracy, ax_loss = figure.add_subplot(inner[0]), figure.add_subplot(inner[1])
    unit = "training steps" if recorder.per == "step" else "epoch"
    for ax, name in ((ax_accuracy, "accuracy"), (ax_loss, "loss")):
        for prefix, color, label in (("", TRAIN_COLOR, "training"),
                                     ("val_", VALIDATION_COLOR, "validation")):
            if prefix + name in recorder.metrics:
                ax.plot(recorder.steps, recorder.metrics[prefix + name], color=color, label=label)
        for index, frame in enumerate(frames):
            ax.axvline(recorder.steps[frame], color="grey", linestyle=":", linewidth=1,
                       label="snapshots above" if index == 0 else None)
        ax.set_xlabel(unit)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    ax_accuracy.legend(loc="lower right", fontsize=8)


# -- train a model and animate it ------------------------------------------------------------------
def animate_decision_boundary(model, x: np.ndarray, y: np.ndarray, epochs: int = 100,
                              path: str = "decision_boundary.gif", *, batch_size: int = 32,
                              every: int | None = None, per: str = "epoch",
                              validation_data: tuple | None = None, resolution: int = 100,
                              summary_path: str | None = None, title: str = "",
                              fps: float = 15, theme: str = "dark",
                              size: tuple[float, float] = (8.0, 4.0),
                              progress: Callable[[int, int], None] | None = None,
                              callbacks: list | None = None):
    """Train the compiled binary classifier ``model`` on (x, y) (N, 2), (N,), recording its
    boundary as it learns, and write the animation to ``path`` (.gif or .mp4).

    ``every`` epochs (or optimizer steps, with ``per="step"``) make a frame; by default about 80
    frames over the whole training. ``summary_path`` also writes a PNG of snapshots with the full
    curves. ``callbacks`` are passed on to ``fit`` (e.g. EarlyStopping). Returns the
    ``BoundaryRecorder``, whose ``steps``, ``probabilities`` and ``metrics`` hold every frame.

    >>> model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(2,)),
    ...                        nn.Dense(1, activation="sigmoid")], seed=0)  # doctest: +SKIP
    >>> model.compile("adam", "binary_crossentropy", ["accuracy"])           # doctest: +SKIP
    >>> animate_decision_boundary(model, x, y, epochs=50, path="moons.gif")  # doctest: +SKIP
    """
    from .recording import BoundaryRecorder

    if every is None:
        total = epochs if per == "epoch" else epochs * math.ceil(len(x) / batch_size)
        every = max(1, round(total / 80))
    recorder = BoundaryRecorder(x, y, every=every, per=per, resolution=resolution,
                                validation_data=validation_data)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=list(callbacks or []) + [recorder])
    save_boundary_animation(recorder, x, y, path, title, fps, theme, size, progress)
    if summary_path:
        save_figure(plot_boundary_snapshots(recorder, x, y, title=title, theme=theme),
                    summary_path)
    return recorder


# -- several models side by side -------------------------------------------------------------------
def train_with_recorders(models: dict, x: np.ndarray, y: np.ndarray, epochs: int,
                         batch_size: int = 32, every: int = 1,
                         validation_data: tuple | None = None, resolution: int = 80) -> dict:
    """Train each compiled model of ``{name: model}`` on (x, y) with its own
    ``BoundaryRecorder``; returns ``{name: recorder}`` (same grid, same recorded epochs)."""
    from .recording import BoundaryRecorder

    recorders = {}
    for name, model in models.items():
        recorders[name] = BoundaryRecorder(x, y, every=every, resolution=resolution,
                                           validation_data=validation_data)
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                  callbacks=[recorders[name]])
    return recorders


def _panel_title(name: str, recorder, frame: int) -> str:
    text = f"{name}\ntraining {recorder.metrics['accuracy'][frame]:.1%}"
    if "val_accuracy" in recorder.metrics:
        text += f" · validation {recorder.metrics['val_accuracy'][frame]:.1%}"
    return text


def save_boundaries_animation(recorders: dict, x: np.ndarray, y: np.ndarray, path: str,
                              validation_data: tuple | None = None, title: str = "",
                              fps: float = 15, theme: str = "dark",
                              size: tuple[float, float] = (7.2, 7.2),
                              progress: Callable[[int, int], None] | None = None) -> str:
    """Animate several recorded models side by side, after a first panel with the data alone
    (training points, and validation points faded). ``recorders`` is ``{name: BoundaryRecorder}``
    as made by ``train_with_recorders``. Returns ``path``."""
    import matplotlib.pyplot as plt

    first = next(iter(recorders.values()))
    count = len(recorders) + 1
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    with themed(theme):
        figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False,
                                    layout="constrained")
        _data_panel(axes.flat[0], first, x, y, validation_data)
        panels = {name: BoundaryPanel(ax, rec.grid_x, rec.grid_y, x, y, point_size=12)
                  for (name, rec), ax in zip(recorders.items(), axes.flat[1:])}
        for ax in axes.flat[count:]:
            ax.set_visible(False)
        heading = figure.suptitle("", fontsize=12)

        def update(frame: int) -> None:
            for name, recorder in recorders.items():
                index = min(frame, len(recorder) - 1)  # a model stopped early keeps its last
                panels[name].show(recorder.probabilities[index],
                                  _panel_title(name, recorder, index))
            unit = "step" if first.per == "step" else "epoch"
            heading.set_text(f"{title}{': ' if title else ''}{unit} {first.steps[frame]:,}")

        try:
            update(0)
            freeze_layout(figure)  # titles change from frame to frame, their room does not
            frames = max(len(recorder) for recorder in recorders.values())
            return save_animation(figure, update, frames, path, fps, progress)
        finally:
            plt.close(figure)


def _data_panel(ax, recorder, x, y, validation_data) -> None:
    """The data alone: training points, validation points faded behind them."""
    extent = (recorder.grid_x[0, 0], recorder.grid_x[0, -1],
              recorder.grid_y[0, 0], recorder.grid_y[-1, 0])
    if validation_data is not None:
        draw_points(ax, *validation_data, size=5, alpha=0.25)
    draw_points(ax, x, y, size=12)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[-2:], labels[-2:], loc="upper right", fontsize=7)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$", labelpad=1)
    shown = f"{len(x)} training points"
    if validation_data is not None:
        shown += f"\n({len(validation_data[0])} validation, faded)"
    ax.set_title(f"data: {shown}")


def plot_boundaries_snapshots(recorders: dict, x: np.ndarray, y: np.ndarray, count: int = 4,
                              title: str = "", theme: str = "dark"):
    """One row per recorded model, ``count`` snapshots per row (the same recorded moments for
    every model): a still summary of ``save_boundaries_animation``. Returns the Figure."""
    import matplotlib.pyplot as plt

    first = next(iter(recorders.values()))
    frames = snapshot_frames(first.steps, count)
    with themed(theme):
        figure, axes = plt.subplots(len(recorders), len(frames), squeeze=False, sharex=True,
                                    sharey=True, figsize=(2.6 * len(frames) + 0.6,
                                                          2.6 * len(recorders) + 0.6),
                                    layout="constrained")
        unit = "step" if first.per == "step" else "epoch"
        for row, (name, recorder) in enumerate(recorders.items()):
            for column, frame in enumerate(frames):
                ax = axes[row, column]
                index = min(frame, len(recorder) - 1)
                panel = BoundaryPanel(ax, recorder.grid_x, recorder.grid_y, x, y, point_size=12)
                panel.show(recorder.probabilities[index],
                           f"{unit} {recorder.steps[index]:,}: "
                           f"{recorder.metrics['accuracy'][index]:.0%}"
                           + (f" / {recorder.metrics['val_accuracy'][index]:.0%}"
                              if "val_accuracy" in recorder.metrics else ""))
                ax.set_ylabel(f"{name}\n$x_2$")
                ax.label_outer()  # the panels share their axes: labels on the outer ones only
        figure.colorbar(panel.image, ax=axes, label="P(class 1)", shrink=0.6)
        figure.suptitle((title + "\n" if title else "")
                        + "accuracy on training / validation data", fontsize=11)
    return figure
