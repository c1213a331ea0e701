"""Gallery figures: optimizers walking across loss surfaces (see ildl.gallery.registry).

Every figure here is an ``ildl.nn`` optimizer moving a point on an analytic surface of
``ildl.viz.surfaces``; each writes an animation (options.format) and a summary PNG of the whole
paths. Quick mode renders a few small frames for tests.
"""

from __future__ import annotations

import os

import numpy as np

from ..graphics import CLASS_COLORS, OPTIMIZER_COLORS, save_animation, save_figure, themed
from .registry import Figure, RenderOptions, register

STILL_DPI = 110  # the summary PNGs


def _frames(options: RenderOptions, full: int) -> int:
    return 6 if options.quick else full


def _dpi(options: RenderOptions, full: float) -> float:
    # Quick renders are small (about 300 px wide) so the tests stay fast.
    return 35 if options.quick else full


# --- gradient_descent --------------------------------------------------------------------------

GD_START, GD_LEARNING_RATE, GD_STEPS = (3.0, -1.0), 0.04, 300


class CurveFitView:
    """The data and the curve ``sin(b cos(a x))`` of the current ``(a, b)`` in a 2-D ``ax``;
    ``show(step)`` redraws the curve at that step of ``path`` ((steps + 1, 2))."""

    def __init__(self, ax, surface, path: np.ndarray, color: str):
        import matplotlib

        self.surface, self.path = surface, path
        self.x = np.linspace(-1, 1, 200)
        ax.scatter(surface.x_data, surface.y_data, s=9, color=CLASS_COLORS[1], alpha=0.7,
                   label="data")
        a, b = surface.true_params
        ink = matplotlib.rcParams["text.color"]  # white on the dark theme, black on the light
        ax.plot(self.x, surface.predict(a, b, self.x), "--", color=ink, lw=1.2,
                label=f"true a={a:g}, b={b:g}")
        (self.curve,) = ax.plot([], [], color=color, lw=2.5, label="fit")
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.6, 1.6)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.legend(loc="lower center", fontsize=8, ncol=3, framealpha=0.85)
        self.ax = ax

    def show(self, step: int) -> None:
        a, b = self.path[step]
        self.curve.set_data(self.x, self.surface.predict(a, b, self.x))
        loss = float(self.surface(a, b))
        self.ax.set_title(f"step {step}: a={a:.2f}, b={b:.2f}, MSE={loss:.3f}")


def _gradient_descent_figure(surface, path, dpi):
    import matplotlib.pyplot as plt

    from ..viz.optimizer_paths import PathsView3D

    figure = plt.figure(figsize=(8.6, 3.9), dpi=dpi)
    grid = figure.add_gridspec(1, 2, width_ratios=[1.15, 1])
    ax3d = figure.add_subplot(grid[0], projection="3d")
    color = OPTIMIZER_COLORS["sgd"]
    paths = {"path": path}
    surface_view = PathsView3D(ax3d, surface, paths, {label: color for label in paths},
                               elevation=40, azimuth=-120, legend=False)
    # Under the turning surface, in one row: inside the 3-D box it would cover the surface.
    ax3d.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3, fontsize=8,
                framealpha=0.85)
    ax3d.set_title(f"MSE over (a, b); lr {GD_LEARNING_RATE:g}", pad=0)
    curve_view = CurveFitView(figure.add_subplot(grid[1]), surface, path, color)
    figure.suptitle("Gradient descent fits $y = \\sin(b\\cos(ax))$ to 200 noisy points")
    figure.subplots_adjust(left=0.0, right=0.98, bottom=0.13, top=0.85, wspace=0.12)
    return figure, surface_view, curve_view


def _render_gradient_descent(out_dir: str, options: RenderOptions) -> list[str]:
    import matplotlib.pyplot as plt

    from ..nn.optimizers import SGD
    from ..viz.optimizer_paths import frame_steps, optimizer_path
    from ..viz.surfaces import curve_fit_surface

    surface = curve_fit_surface()
    path = optimizer_path(surface, SGD(GD_LEARNING_RATE), GD_START, GD_STEPS)
    frames = _frames(options, 90)
    shown = frame_steps(GD_STEPS, frames)
    azimuths = np.linspace(-120, -40, frames)
    name = f"gradient_descent.{options.format}"
    with themed(options.theme):
        figure, surface_view, curve_view = _gradient_descent_figure(surface, path,
                                                                    _dpi(options, 85))

        def update(frame: int) -> None:
            surface_view.show(shown[frame])
            surface_view.turn(azimuths[frame])
            curve_view.show(shown[frame])

        save_animation(figure, update, frames, os.path.join(out_dir, name), fps=15)
        plt.close(figure)
        figure, surface_view, curve_view = _gradient_descent_figure(surface, path, 100)
        surface_view.show(GD_STEPS)
        curve_view.show(GD_STEPS)
        save_figure(figure, os.path.join(out_dir, "gradient_descent.png"), STILL_DPI, tight=True)
    return [name, "gradient_descent.png"]


register(Figure(
    name="gradient_descent",
    caption="Gradient descent (learning rate 0.04, 300 steps from a=3, b=-1) fitting the two "
            "parameters of y = sin(b cos(a x)) to 200 noisy points: left, the path on the 3-D "
            "mean-squared-error surface over (a, b); right, the data and the current fit.",
    code="from ildl.nn.optimizers import SGD\n"
         "from ildl.viz import animate_descent_3d, curve_fit_surface\n"
         "animate_descent_3d(curve_fit_surface(true_params=(2, 1.5)), SGD(learning_rate=0.04),\n"
         "                   start=(3, -1), steps=300, path='gradient_descent.gif')",
    render=_render_gradient_descent,
))


# --- critical_points ---------------------------------------------------------------------------

CP_START, CP_LEARNING_RATE, CP_STEPS = (1.0, 0.0), 0.005, 400


def _critical_points_figure(panels, dpi):
    import matplotlib.pyplot as plt

    from ..viz.optimizer_paths import PathsView3D

    figure = plt.figure(figsize=(8.6, 4.0), dpi=dpi)
    views = []
    for index, (surface, path, title) in enumerate(panels):
        ax = figure.add_subplot(1, 2, index + 1, projection="3d")
        label = f"gradient descent, lr={CP_LEARNING_RATE:g}"
        # each panel its own legend: their markers differ (a saddle; minima)
        views.append(PathsView3D(ax, surface, {label: path}, {label: OPTIMIZER_COLORS["sgd"]},
                                 elevation=35, azimuth=-60))
        ax.set_title(title, pad=0)
    figure.suptitle(f"Critical points: gradient descent from (1, 0), {CP_STEPS} steps")
    figure.subplots_adjust(left=0.0, right=1.0, bottom=0.03, top=0.86, wspace=0.02)
    return figure, views


def _render_critical_points(out_dir: str, options: RenderOptions) -> list[str]:
    import matplotlib.pyplot as plt

    from ..nn.optimizers import SGD
    from ..viz.optimizer_paths import frame_steps, optimizer_path
    from ..viz.surfaces import monkey_saddle, peaks

    panels = []
    for surface, title in ((monkey_saddle(), "monkey saddle $x^3 - 3xy^2$: stalls at the saddle"),
                           (peaks(), "peaks: trapped in a shallow local minimum")):
        path = optimizer_path(surface, SGD(CP_LEARNING_RATE), CP_START, CP_STEPS)
        panels.append((surface, path, title))
    frames = _frames(options, 90)
    shown = frame_steps(CP_STEPS, frames)
    azimuths = np.linspace(-60, 30, frames)
    name = f"critical_points.{options.format}"
    with themed(options.theme):
        figure, views = _critical_points_figure(panels, _dpi(options, 85))

        def update(frame: int) -> None:
            for view in views:
                view.show(shown[frame])
                view.turn(azimuths[frame])

        save_animation(figure, update, frames, os.path.join(out_dir, name), fps=15)
        plt.close(figure)
        figure, views = _critical_points_figure(panels, 100)
        for view in views:
            view.show(CP_STEPS)
        save_figure(figure, os.path.join(out_dir, "critical_points.png"), STILL_DPI, tight=True)
    return [name, "critical_points.png"]


register(Figure(
    name="critical_points",
    caption="Where the gradient vanishes, gradient descent (learning rate 0.005, from (1, 0)) "
            "slows down: on the monkey saddle x^3 - 3xy^2 it creeps towards the flat saddle point "
            "and stalls there; on MATLAB's peaks surface it settles in a shallow local minimum "
            "(f = -0.06) while the global one (f = -6.55, the lowest white star) lies over the "
            "ridge.",
    code="from ildl.nn.optimizers import SGD\n"
         "from ildl.viz import animate_descent_3d, monkey_saddle, peaks\n"
         "for surface in (monkey_saddle(), peaks()):\n"
         "    animate_descent_3d(surface, SGD(learning_rate=0.005), start=(1, 0), steps=400,\n"
         "                       path=f'critical_points_{surface.name}.gif')",
    render=_render_critical_points,
))


# --- optimizers_comparison ---------------------------------------------------------------------

def _comparison_optimizers() -> dict:
    from ..nn.optimizers import SGD, Adam, RMSprop

    rate = 0.02
    return {"SGD": SGD(rate), "Momentum": SGD(rate, momentum=0.9),
            "Nesterov": SGD(rate, momentum=0.9, nesterov=True), "RMSprop": RMSprop(rate),
            "Adam": Adam(rate)}


def _render_race(out_dir: str, options: RenderOptions, name: str, surface, make_optimizers,
                 start: tuple[float, float], steps: int, title: str, zoom=None) -> list[str]:
    """A race of optimizers on a surface: the animation and its summary PNG. Fresh optimizers
    for each (they keep state). ``zoom``: an area to show magnified too."""
    from ..viz.optimizer_paths import animate_optimizers, plot_optimizers

    animation = f"{name}.{options.format}"
    animate_optimizers(surface, make_optimizers(), start, steps,
                       os.path.join(out_dir, animation), frames=_frames(options, 90), fps=15,
                       dpi=_dpi(options, 85), title=title, theme=options.theme, zoom=zoom)
    figure = plot_optimizers(surface, make_optimizers(), start, steps, title=title,
                             theme=options.theme, zoom=zoom)
    save_figure(figure, os.path.join(out_dir, f"{name}.png"), STILL_DPI, tight=True)
    return [animation, f"{name}.png"]


def _render_optimizers_comparison(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.surfaces import saddle

    return _render_race(out_dir, options, "optimizers_comparison", saddle(),
                        _comparison_optimizers, (1.0, -0.001), 180,
                        "Optimizers leaving the saddle of $x^2 - y^2$ from (1, -0.001), lr 0.02")


register(Figure(
    name="optimizers_comparison",
    caption="SGD, momentum, Nesterov, RMSprop and Adam (learning rate 0.02, 180 steps) start "
            "next to the saddle point of x^2 - y^2. Plain SGD slides into the saddle and leaves "
            "it only slowly; momentum and Nesterov shoot away once they find the downhill "
            "direction; RMSprop and Adam scale each coordinate and escape at once.",
    code="from ildl.nn.optimizers import SGD, Adam, RMSprop\n"
         "from ildl.viz import animate_optimizers, saddle\n"
         "optimizers = {'SGD': SGD(0.02), 'Momentum': SGD(0.02, momentum=0.9),\n"
         "              'Nesterov': SGD(0.02, momentum=0.9, nesterov=True),\n"
         "              'RMSprop': RMSprop(0.02), 'Adam': Adam(0.02)}\n"
         "animate_optimizers(saddle(), optimizers, start=(1, -0.001), steps=180,\n"
         "                   path='optimizers_comparison.gif')",
    render=_render_optimizers_comparison,
))


# --- learning_rate -----------------------------------------------------------------------------

LR_START, LEARNING_RATES, LR_STEPS = (1.0, 0.0), (0.005, 0.03, 0.1, 0.2), 150
#: Three of the four paths stay in this area between the start and the nearby minimum, where
#: the surface's full view is too small to tell them apart: the figure magnifies it.
LR_ZOOM = ((0.08, 1.08), (-0.12, 0.48))


def learning_rate_optimizers() -> dict:
    """``{"lr = 0.005": SGD(0.005), ...}``, new ones at each call (optimizers keep state)."""
    from ..nn.optimizers import SGD

    return {f"lr = {rate:g}": SGD(rate) for rate in LEARNING_RATES}


def _render_learning_rate(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.surfaces import peaks

    return _render_race(out_dir, options, "learning_rate", peaks(), learning_rate_optimizers,
                        LR_START, LR_STEPS,
                        "Gradient descent on peaks from (1, 0) with four learning rates",
                        zoom=LR_ZOOM)


register(Figure(
    name="learning_rate",
    caption="The learning rate decides where gradient descent ends: from (1, 0) on the peaks "
            "surface, 0.005 creeps, 0.03 and 0.1 reach the nearby shallow minimum quickly, and "
            "0.2 overshoots it, jumps into the deeper valley on the left and keeps bouncing "
            "across its bottom without settling. The inset magnifies the framed area, where the "
            "first three paths run together (the wider line under the narrower).",
    code="from ildl.nn.optimizers import SGD\n"
         "from ildl.viz import animate_optimizers, peaks\n"
         "animate_optimizers(peaks(), [SGD(lr) for lr in (0.005, 0.03, 0.1, 0.2)],\n"
         "                   start=(1, 0), steps=150, path='learning_rate.gif',\n"
         "                   zoom=((0.08, 1.08), (-0.12, 0.48)))",
    render=_render_learning_rate,
))
