"""Optimizers walking across a surface: their paths, drawn in 2-D and 3-D, still or animated.

The walker is a real ``ildl.nn`` optimizer, the object that trains networks: the point ``(x, y)``
is its only "weight" and the surface's gradient its gradient. So the paths show exactly what
``SGD(momentum=0.9)`` or ``Adam`` would do to two weights of a model::

    from ildl.nn.optimizers import SGD, Adam
    from ildl.viz import animate_optimizers, saddle
    animate_optimizers(saddle(), {"SGD": SGD(0.02), "Adam": Adam(0.02)}, start=(1, -0.001),
                       steps=180, path="race.gif")

Building blocks, for figures of your own: :func:`optimizer_path` (one path),
:func:`optimizer_paths` (several, with labels and colours), the views :class:`PathsView2D`,
:class:`PathsView3D` and :class:`LossView` (each draws once, then ``show(step)`` moves the
paths on), and :func:`frame_steps` (which step each animation frame shows).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..graphics import (
    OPTIMIZER_COLORS,
    SURFACE_CMAP,
    freeze_layout,
    save_animation,
    save_figure,
    themed,
)
from ..nn.optimizers import SGD, Optimizer
from .surfaces import Domain, Surface

Optimizers = Mapping[str, Optimizer] | Sequence[Optimizer] | Optimizer


def optimizer_path(surface: Surface, optimizer: Optimizer, start: Sequence[float],
                   steps: int) -> np.ndarray:
    """Let ``optimizer`` move a point from ``start`` for ``steps`` steps down ``surface``.

    Returns the visited points, shape ``(steps + 1, 2)``: row 0 is ``start``, row ``t`` the point
    after ``t`` updates. The optimizer object is used as is, so its state (momentum, averages)
    carries on from any earlier use: pass a fresh one for a fresh run. A run that diverges
    (towards minus infinity on an unbounded surface) ends in rows of inf/NaN, which plots omit.
    """
    point = np.array(start, dtype=float)  # the one "weight" the optimizer updates in place
    path = np.empty((steps + 1, 2))
    path[0] = point
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a result, not an error
        for step in range(1, steps + 1):
            optimizer.update([point], [surface.gradient_at(point)])
            path[step] = point
    return path


def optimizer_label(optimizer: Optimizer) -> str:
    """A short name for the legend: "SGD", "Momentum", "Nesterov", "RMSprop", "Adam", ..."""
    names = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop",
             "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad"}
    return names.get(_color_key(optimizer), type(optimizer).__name__)


def _color_key(optimizer: Optimizer) -> str:
    # SGD with momentum is drawn as its own method: the collection compares the three.
    if isinstance(optimizer, SGD) and optimizer.momentum > 0:
        return "nesterov" if optimizer.nesterov else "momentum"
    return optimizer.name


def _labelled(optimizers: Optimizers) -> dict[str, Optimizer]:
    """Optimizers by legend label; a list gets names, made unique by learning rate if needed."""
    if isinstance(optimizers, Optimizer):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        return dict(optimizers)
    labels = [optimizer_label(opt) for opt in optimizers]
    if len(set(labels)) < len(labels):
        labels = [f"{label} lr={opt.learning_rate:g}" for label, opt in zip(labels, optimizers)]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{index + 1}" for index, label in enumerate(labels)]
    return dict(zip(labels, optimizers))


def _colors(optimizers: dict[str, Optimizer]) -> dict[str, str]:
    """The theme colour of each method when they are different methods (so Adam is purple in every
    figure), otherwise the same colours in turn (e.g. SGD at several learning rates): they are
    the ones that stand out on the surface's colour map."""
    keys = [_color_key(opt) for opt in optimizers.values()]
    if len(set(keys)) == len(keys) and all(key in OPTIMIZER_COLORS for key in keys):
        return {label: OPTIMIZER_COLORS[key] for label, key in zip(optimizers, keys)}
    palette = list(OPTIMIZER_COLORS.values())
    return {label: palette[index % len(palette)] for index, label in enumerate(optimizers)}


def _path_widths(labels: Sequence[str]) -> dict[str, float]:
    """A line width per path, from 6 for the first (drawn first, at the bottom) down to 1.5
    for the last: where paths run together, each still shows as a band of its own colour."""
    widths = np.linspace(6.0, 1.5, len(labels)) if len(labels) > 1 else [2.0]
    return dict(zip(labels, widths))


def optimizer_paths(surface: Surface, optimizers: Optimizers, start: Sequence[float],
                    steps: int) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Run every optimizer from ``start``: ``({label: (steps + 1, 2) path}, {label: colour})``.

    ``optimizers`` is a dict ``{label: optimizer}``, a list (labelled by method) or one optimizer.
    """
    labelled = _labelled(optimizers)
    paths = {label: optimizer_path(surface, opt, start, steps) for label, opt in labelled.items()}
    return paths, _colors(labelled)


def frame_steps(steps: int, frames: int, hold: float = 0.15) -> np.ndarray:
    """The step shown in each of ``frames`` frames: steps 0..``steps`` spread evenly over the
    first ``1 - hold`` of the animation, then the last step held so the end can be seen."""
    moving = max(2, int(round(frames * (1 - hold))))
    shown = np.linspace(0, steps, moving).round().astype(int)
    return np.concatenate([shown, np.full(max(0, frames - moving), steps)])[:frames]


def _inside(surface: Surface, path: np.ndarray) -> np.ndarray:
    """(steps + 1,) bool: which points lie in the plotted domain."""
    (x_min, x_max), (y_min, y_max) = surface.domain
    with np.errstate(invalid="ignore"):
        return ((path[:, 0] >= x_min) & (path[:, 0] <= x_max)
                & (path[:, 1] >= y_min) & (path[:, 1] <= y_max))


def _mark_critical_points(ax, surface: Surface, z: Callable | None = None) -> None:
    """White stars on minima, crosses on saddles (in 3-D at height ``z(x, y)``)."""
    for points, marker, label in ((surface.minima, "*", "minimum"),
                                  (surface.saddles, "X", "saddle point")):
        if not points:
            continue
        xs, ys = np.array(points, dtype=float).T
        style = dict(marker=marker, s=90, color="white", edgecolors="black", linewidths=0.6,
                     label=label, zorder=5)
        if z is None:
            ax.scatter(xs, ys, **style)
        else:  # depthshade would grey out the far markers
            ax.scatter(xs, ys, z(xs, ys), depthshade=False, **style)


HEAD_LABEL = "current position"  # the legend's name for the dot at the head of every path


def _add_head_to_legend(ax) -> None:
    """One legend entry for the dots at the heads of all paths, in a neutral grey: each head
    has its path's colour."""
    ax.plot([], [], "o", color="#9e9e9e", markersize=7, markeredgecolor="black",
            label=HEAD_LABEL)


class PathsView2D:
    """Paths on a filled contour plot of ``surface`` in ``ax``; ``show(step)`` draws each path up
    to that step with a dot at its head. ``window`` ((x_min, x_max), (y_min, y_max)) shows part
    of the surface's domain. Points off the picture leave it."""

    def __init__(self, ax, surface: Surface, paths: dict[str, np.ndarray],
                 colors: dict[str, str], resolution: int = 150, levels: int = 30,
                 legend: bool = True, window: Domain | None = None):
        self.paths = paths
        grid_x, grid_y, grid_z = surface.grid(resolution)
        ax.contourf(grid_x, grid_y, grid_z, levels=levels, cmap=SURFACE_CMAP, alpha=0.9)
        ax.contour(grid_x, grid_y, grid_z, levels=levels, colors="black", linewidths=0.3,
                   alpha=0.5)
        _mark_critical_points(ax, surface)
        start = next(iter(paths.values()))[0]
        ax.plot(*start, "o", color="white", markersize=7, markeredgecolor="black", label="start")
        widths = _path_widths(list(paths))
        self.lines = {label: ax.plot([], [], "-", color=colors[label], lw=widths[label],
                                     label=label)[0] for label in paths}
        self.heads = {label: ax.plot([], [], "o", color=colors[label], markersize=7,
                                     markeredgecolor="black")[0] for label in paths}
        _add_head_to_legend(ax)
        (x_min, x_max), (y_min, y_max) = window or surface.domain
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(y_min, y_max)
        ax.set_xlabel(surface.axis_labels[0])
        ax.set_ylabel(surface.axis_labels[1])
        if legend:
            ax.legend(loc="upper left", fontsize=8, framealpha=0.85)

    def show(self, step: int) -> None:
        for label, path in self.paths.items():
            self.lines[label].set_data(path[: step + 1, 0], path[: step + 1, 1])
            self.heads[label].set_data(path[step : step + 1, 0], path[step : step + 1, 1])


class LossView:
    """``f`` along each path against the step number in ``ax``; ``show(step)`` extends the curves.
    The vertical range is that of the points inside the plotted domain, so a run that dives to
    minus infinity leaves the panel downwards instead of squashing the others."""

    def __init__(self, ax, surface: Surface, paths: dict[str, np.ndarray],
                 colors: dict[str, str]):
        self.losses = {}
        visible = []
        for label, path in paths.items():
            with np.errstate(all="ignore"):
                loss = np.asarray(surface(path[:, 0], path[:, 1]), dtype=float)
            loss[~np.isfinite(loss)] = np.nan
            self.losses[label] = loss
            visible.append(loss[_inside(surface, path)])
        visible = np.concatenate(visible)
        low, high = np.nanmin(visible), np.nanmax(visible)
        margin = 0.05 * (high - low or 1.0)
        widths = _path_widths(list(paths))
        self.lines = {label: ax.plot([], [], color=colors[label], lw=widths[label],
                                     label=label)[0] for label in paths}
        steps = len(next(iter(paths.values()))) - 1
        ax.set_xlim(0, steps)
        ax.set_ylim(low - margin, high + margin)
        ax.set_xlabel("step")
        ax.set_ylabel(f"$f$({surface.axis_labels[0]}, {surface.axis_labels[1]})")
        ax.grid(True, alpha=0.4)

    def show(self, step: int) -> None:
        for label, loss in self.losses.items():
            self.lines[label].set_data(np.arange(step + 1), loss[: step + 1])


class PathsView3D:
    """``surface`` as a 3-D plot in ``ax`` (made with ``projection="3d"``) with the paths drawn on
    it; ``show(step)`` moves them on, ``turn(azimuth)`` swings the camera round.

    Matplotlib sorts 3-D artists by depth as a whole, which would often hide a path under the
    surface it lies on; here paths are simply always drawn on top, lifted slightly above it.
    """

    def __init__(self, ax, surface: Surface, paths: dict[str, np.ndarray],
                 colors: dict[str, str], resolution: int = 45, elevation: float = 35,
                 azimuth: float = -60, legend: bool = True):
        self.ax = ax
        self.elevation = elevation
        grid_x, grid_y, grid_z = surface.grid(resolution)
        ax.computed_zorder = False
        ax.plot_surface(grid_x, grid_y, grid_z, cmap=SURFACE_CMAP, alpha=0.75, linewidth=0,
                        antialiased=False, rstride=1, cstride=1, zorder=1)
        lift = 0.01 * (grid_z.max() - grid_z.min())
        self.points = {}
        for label, path in paths.items():
            # Points off the domain are dropped (NaN): 3-D axes do not clip lines to their box.
            inside = _inside(surface, path)
            xyz = np.full((len(path), 3), np.nan)
            xyz[inside, :2] = path[inside]
            xyz[inside, 2] = surface(path[inside, 0], path[inside, 1]) + lift
            self.points[label] = xyz
        _mark_critical_points(ax, surface, z=lambda x, y: surface(x, y) + lift)
        start = self.points[next(iter(paths))][0]
        ax.plot(*start[:, None], "o", color="white", markeredgecolor="black", markersize=6,
                zorder=6, label="start")
        self.lines = {label: ax.plot([], [], [], color=colors[label], lw=2.2, zorder=7,
                                     label=label)[0] for label in paths}
        self.heads = {label: ax.plot([], [], [], "o", color=colors[label], markersize=7,
                                     markeredgecolor="black", zorder=8)[0] for label in paths}
        _add_head_to_legend(ax)
        (x_min, x_max), (y_min, y_max) = surface.domain
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(y_min, y_max)
        ax.set_zlim(grid_z.min(), grid_z.max())
        ax.set_xlabel(surface.axis_labels[0], labelpad=-6)
        ax.set_ylabel(surface.axis_labels[1], labelpad=-6)
        ax.set_zlabel("$f$", labelpad=-8)
        ax.tick_params(labelsize=8, pad=-2)
        ax.locator_params(nbins=5)  # fewer ticks: 3-D tick labels crowd as the camera turns
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_pane_color((0, 0, 0, 0))  # transparent panes suit both themes
        if legend:
            ax.legend(loc="upper left", fontsize=8, framealpha=0.85)
        self.turn(azimuth)

    def show(self, step: int) -> None:
        for label, xyz in self.points.items():
            self.lines[label].set_data_3d(*xyz[: step + 1].T)
            self.heads[label].set_data_3d(*xyz[step : step + 1].T)

    def turn(self, azimuth: float) -> None:
        self.ax.view_init(elev=self.elevation, azim=azimuth)


def _title(surface: Surface, start: Sequence[float], steps: int) -> str:
    return f"{surface.formula} from ({start[0]:g}, {start[1]:g}), {steps} steps"


def _zoomed_view(ax, surface: Surface, paths: dict[str, np.ndarray], colors: dict[str, str],
                 window: Domain) -> PathsView2D:
    """A magnified view of ``window`` inset in the lower right of the paths panel ``ax``, with a
    frame on the area it magnifies: for paths too close together to tell apart at full size."""
    import matplotlib.pyplot as plt

    inset = ax.inset_axes((0.56, 0.03, 0.41, 0.41))
    # A finer grid: the inset shows a small part of the domain several times larger.
    view = PathsView2D(inset, surface, paths, colors, resolution=400, legend=False,
                       window=window)
    inset.set(xticks=[], yticks=[], xlabel="", ylabel="")
    ax.indicate_inset_zoom(inset, edgecolor=plt.rcParams["text.color"], alpha=0.9)
    return view


def _optimizer_figure(surface, paths, colors, loss_panel, title, size, dpi, zoom=None):
    """The paths panel (with its ``zoom`` inset if given) and the loss panel, and one legend for
    both under them, off the surface where it would hide part of a path."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2 if loss_panel else 1, figsize=size, dpi=dpi, squeeze=False,
                                gridspec_kw={"width_ratios": [1.15, 1] if loss_panel else [1]},
                                layout="constrained")
    views = [PathsView2D(axes[0, 0], surface, paths, colors, legend=False)]
    if zoom is not None:
        views.append(_zoomed_view(axes[0, 0], surface, paths, colors, zoom))
    if loss_panel:
        views.append(LossView(axes[0, 1], surface, paths, colors))
        axes[0, 1].set_title("value along each path")
    axes[0, 0].set_title("paths")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=math.ceil(len(labels) / 2),
                  fontsize=8)
    figure.suptitle(title)
    return figure, views


def animate_optimizers(surface: Surface, optimizers: Optimizers, start: Sequence[float],
                       steps: int, path: str, *, frames: int = 90, fps: float = 20,
                       loss_panel: bool = True, size: tuple[float, float] = (8.0, 3.8),
                       dpi: float = 85, title: str | None = None, theme: str = "dark",
                       zoom: Domain | None = None,
                       progress: Callable[[int, int], None] | None = None
                       ) -> dict[str, np.ndarray]:
    """Animate ``optimizers`` racing from ``start`` on a contour map of ``surface`` (and, with
    ``loss_panel``, ``f`` against the step beside it); write ``path`` (.gif or .mp4).

    ``frames`` frames show steps 0..``steps`` (see :func:`frame_steps`); the image is ``size``
    inches at ``dpi``. ``zoom`` ((x_min, x_max), (y_min, y_max)) adds a magnified view of that
    area. Returns the paths ``{label: (steps + 1, 2)}``.
    """
    import matplotlib.pyplot as plt

    paths, colors = optimizer_paths(surface, optimizers, start, steps)
    shown = frame_steps(steps, frames)
    with themed(theme):
        figure, views = _optimizer_figure(surface, paths, colors, loss_panel,
                                          title or _title(surface, start, steps), size, dpi,
                                          zoom)

        def update(frame: int) -> None:
            for view in views:
                view.show(shown[frame])

        try:
            freeze_layout(figure)  # nothing moves between frames but the paths
            save_animation(figure, update, frames, path, fps=fps, progress=progress)
        finally:
            plt.close(figure)
    return paths


def plot_optimizers(surface: Surface, optimizers: Optimizers, start: Sequence[float], steps: int,
                    path: str | None = None, *, loss_panel: bool = True,
                    size: tuple[float, float] = (8.0, 3.8), dpi: float = 110,
                    title: str | None = None, theme: str = "dark",
                    zoom: Domain | None = None):
    """The last frame of :func:`animate_optimizers` as a still figure (whole paths); saved as an
    image to ``path`` if given. Returns the matplotlib Figure (close it when done)."""
    paths, colors = optimizer_paths(surface, optimizers, start, steps)
    with themed(theme):
        figure, views = _optimizer_figure(surface, paths, colors, loss_panel,
                                          title or _title(surface, start, steps), size, dpi,
                                          zoom)
        for view in views:
            view.show(steps)
        if path:
            save_figure(figure, path, dpi, tight=True, close=False)  # the caller gets it
    return figure


def _descent_figure(surface, paths, colors, title, size, dpi, elevation, azimuth):
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=size, dpi=dpi)
    ax = figure.add_subplot(projection="3d")
    view = PathsView3D(ax, surface, paths, colors, elevation=elevation, azimuth=azimuth)
    ax.set_title(title, pad=0)
    figure.subplots_adjust(left=0, right=1, bottom=0.02, top=0.93)
    return figure, view


def animate_descent_3d(surface: Surface, optimizers: Optimizers, start: Sequence[float],
                       steps: int, path: str, *, frames: int = 90, fps: float = 20,
                       elevation: float = 35, azimuth: tuple[float, float] = (-60, 30),
                       size: tuple[float, float] = (6.0, 4.8), dpi: float = 80,
                       title: str | None = None, theme: str = "dark",
                       progress: Callable[[int, int], None] | None = None
                       ) -> dict[str, np.ndarray]:
    """Animate ``optimizers`` descending ``surface`` in 3-D from ``start`` while the camera turns
    from ``azimuth[0]`` to ``azimuth[1]`` degrees; write ``path`` (.gif or .mp4).
    Returns the paths ``{label: (steps + 1, 2)}``."""
    import matplotlib.pyplot as plt

    paths, colors = optimizer_paths(surface, optimizers, start, steps)
    shown = frame_steps(steps, frames)
    azimuths = np.linspace(azimuth[0], azimuth[1], frames)
    with themed(theme):
        figure, view = _descent_figure(surface, paths, colors,
                                       title or _title(surface, start, steps), size, dpi,
                                       elevation, azimuth[0])

        def update(frame: int) -> None:
            view.show(shown[frame])
            view.turn(azimuths[frame])

        try:
            save_animation(figure, update, frames, path, fps=fps, progress=progress)
        finally:
            plt.close(figure)
    return paths


def plot_descent_3d(surface: Surface, optimizers: Optimizers, start: Sequence[float], steps: int,
                    path: str | None = None, *, elevation: float = 35, azimuth: float = -60,
                    size: tuple[float, float] = (6.0, 4.8), dpi: float = 110,
                    title: str | None = None, theme: str = "dark"):
    """The whole paths of :func:`animate_descent_3d` on one still 3-D view; saved to ``path`` if
    given. Returns the matplotlib Figure (close it when done)."""
    paths, colors = optimizer_paths(surface, optimizers, start, steps)
    with themed(theme):
        figure, view = _descent_figure(surface, paths, colors,
                                       title or _title(surface, start, steps), size, dpi,
                                       elevation, azimuth)
        view.show(steps)
        if path:
            save_figure(figure, path, dpi, tight=True, close=False)  # the caller gets it
    return figure
