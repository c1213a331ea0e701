"""The Lorenz system: three differential equations whose nearby solutions fly apart (chaos).

    dx/dt = sigma (y - x)        dy/dt = x (rho - z) - y        dz/dt = x y - beta z

With Lorenz's values sigma = 10, rho = 28, beta = 8/3 every trajectory settles onto the butterfly
shaped "strange attractor", yet two starts 0.001 apart end up on different wings after a few
turns: their distance grows like ``e^(0.91 t)`` (0.91 is the largest Lyapunov exponent)::

    trajectories = integrate_lorenz(close_starts(6))       # (1501, 6, 3): step, start, xyz
    animate_lorenz(trajectories, "lorenz.gif")
    figure = plot_lorenz(trajectories)

The integrator is the classical fourth-order Runge-Kutta method (RK4), written once for an array
of any number of starts, so all trajectories advance together in one NumPy operation per stage.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from ..graphics import SERIES_COLORS, save_animation

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
#: Largest Lyapunov exponent of the attractor with these values: nearby paths separate ~e^(0.91 t).
LYAPUNOV = 0.91


def lorenz_derivative(states: np.ndarray, sigma: float = SIGMA, rho: float = RHO,
                      beta: float = BETA) -> np.ndarray:
    """d(x, y, z)/dt at ``states`` (..., 3): the right-hand side of the Lorenz equations."""
    x, y, z = states[..., 0], states[..., 1], states[..., 2]
    return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=-1)


def integrate_lorenz(starts: np.ndarray, steps: int = 1500, dt: float = 0.01,
                     sigma: float = SIGMA, rho: float = RHO, beta: float = BETA) -> np.ndarray:
    """Integrate from ``starts`` (..., 3) for ``steps`` RK4 steps of ``dt``.

    Returns ``(steps + 1, ..., 3)``: entry 0 is the start, entry k the state at time ``k dt``.
    One RK4 step from ``s`` evaluates the slope four times, ``k1 = f(s)``,
    ``k2 = f(s + dt/2 k1)``, ``k3 = f(s + dt/2 k2)``, ``k4 = f(s + dt k3)``, and moves by
    ``dt (k1 + 2 k2 + 2 k3 + k4) / 6``; the error per unit of time shrinks like ``dt^4``.
    """
    state = np.asarray(starts, dtype=float)
    if state.shape[-1:] != (3,):
        raise ArgumentError(f"starts must have shape (..., 3), got {state.shape}")

    def slope(s: np.ndarray) -> np.ndarray:
        return lorenz_derivative(s, sigma, rho, beta)

    trajectory = np.empty((steps + 1, *state.shape))
    trajectory[0] = state
    for step in range(1, steps + 1):
        k1 = slope(state)
        k2 = slope(state + 0.5 * dt * k1)
        k3 = slope(state + 0.5 * dt * k2)
        k4 = slope(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        trajectory[step] = state
    return trajectory


def close_starts(count: int = 6, center: tuple[float, float, float] = (-5.0, -5.0, 20.0),
                 spacing: float = 0.001) -> np.ndarray:
    """``count`` starts (count, 3) in a row from ``center``, ``spacing`` apart along x.

    The default center lies close to the attractor, so the paths swing between both wings at
    once, and with 0.001 between starts they stay together for about half of 15 time units.
    """
    starts = np.tile(np.asarray(center, dtype=float), (count, 1))
    starts[:, 0] += spacing * np.arange(count)
    return starts


def spread(trajectories: np.ndarray) -> np.ndarray:
    """Largest distance of any trajectory from the first one at each step: (steps + 1,) from
    trajectories (steps + 1, starts, 3). It grows exponentially while the paths diverge."""
    return np.linalg.norm(trajectories - trajectories[:, :1], axis=-1).max(axis=1)


def _limits(trajectories: np.ndarray) -> list[tuple[float, float]]:
    points = trajectories.reshape(-1, 3)
    return [(float(low), float(high)) for low, high in zip(points.min(0), points.max(0))]


def _style_3d(ax, trajectories: np.ndarray) -> None:
    """Fixed axis limits (so the camera does not jump) and see-through panes for the dark theme."""
    (x0, x1), (y0, y1), (z0, z1) = _limits(trajectories)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), zlim=(z0, z1), xlabel="x", ylabel="y", zlabel="z")
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((0, 0, 0, 0))
        axis.pane.set_edgecolor("#5f6368")
        axis._axinfo["grid"]["color"] = (0.5, 0.5, 0.5, 0.25)  # no public setter for 3-D grids
    ax.tick_params(labelsize=7, pad=0)


def _describe_starts(trajectories: np.ndarray) -> str:
    count = trajectories.shape[1]
    if count == 1:
        return "1 start"
    gap = np.linalg.norm(trajectories[0, 1] - trajectories[0, 0])
    return f"{count} starts {gap:.2g} apart"


def _fraction(value: float) -> str:
    # β = 8/3 reads better as a fraction than as 2.66667.
    return "8/3" if value == BETA else f"{value:g}"


def plot_lorenz(trajectories: np.ndarray, dt: float = 0.01, sigma: float = SIGMA,
                rho: float = RHO, beta: float = BETA):
    """Summary figure of trajectories (steps + 1, starts, 3): the paths in 3-D, and how far the
    others are from the first one over time (log scale). ``dt``, ``sigma``, ``rho`` and ``beta``
    are those the trajectories were integrated with (for the time axis and the title); with the
    classic values the distance panel also draws the growth ``1e-3 e^{0.91 t}`` (``LYAPUNOV``).
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(12, 5.2))
    ax3d = figure.add_subplot(1, 2, 1, projection="3d")
    for index in range(trajectories.shape[1]):
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        ax3d.plot(*trajectories[:, index].T, color=color, linewidth=0.7, alpha=0.85)
    _style_3d(ax3d, trajectories)
    ax3d.view_init(elev=20, azim=-60)
    ax3d.set_title(f"{_describe_starts(trajectories)}, {len(trajectories) - 1} RK4 steps")

    ax = figure.add_subplot(1, 2, 2)
    times = np.arange(len(trajectories)) * dt
    distances = np.linalg.norm(trajectories - trajectories[:, :1], axis=-1)
    for index in range(1, trajectories.shape[1]):
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        ax.semilogy(times, distances[:, index], color=color, linewidth=1.2,
                    label=f"start {index + 1}")
    ax.set_xlabel("time t")
    if (sigma, rho, beta) == (SIGMA, RHO, BETA):  # the exponent is known for these values only
        growth = 1e-3 * np.exp(LYAPUNOV * times)
        ax.semilogy(times[growth < 30], growth[growth < 30], color="#9aa0a6", linestyle="--",
                    linewidth=1.5, label=f"$10^{{-3}} e^{{{LYAPUNOV} t}}$")
    ax.set_ylabel("distance from start 1's trajectory")
    ax.set_title("Close starts diverge exponentially, then stay on the attractor")
    ax.grid(alpha=0.25, which="both")
    ax.legend(fontsize=8, loc="lower right")
    figure.suptitle(f"Lorenz system: σ = {sigma:g}, ρ = {rho:g}, β = {_fraction(beta)}",
                    fontsize=13)
    figure.tight_layout()
    return figure


def animate_lorenz(trajectories: np.ndarray, path: str, frames: int = 100, dt: float = 0.01,
                   fps: float = 20, size: float = 6.0, dpi: int = 100, turns: float = 1.0,
                   progress: Callable[[int, int], None] | None = None) -> str:
    """Animate trajectories (steps + 1, starts, 3) being drawn over time while the camera turns
    ``turns`` times around the z axis; writes ``path`` (.gif or .mp4) of ``frames`` frames,
    ``size`` inches square at ``dpi``. Returns ``path``."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(size, size), dpi=dpi)
    ax = figure.add_axes((0.02, 0.0, 0.96, 0.9), projection="3d")
    _style_3d(ax, trajectories)
    ax.set_box_aspect(None, zoom=0.9)  # room for the axis labels at every camera angle
    ax.grid(False)  # a grid turning with the camera changes most pixels: the GIF is 60% larger
    count = trajectories.shape[1]
    colors = [SERIES_COLORS[index % len(SERIES_COLORS)] for index in range(count)]
    lines = [ax.plot([], [], [], color=color, linewidth=0.9)[0] for color in colors]
    heads = [ax.plot([], [], [], "o", color=color, markersize=4)[0] for color in colors]
    title = figure.suptitle("", fontsize=11, y=0.97)
    starts = _describe_starts(trajectories)
    # The last frame shows the whole trajectory; steps are spread evenly over the frames.
    ends = np.linspace(1, len(trajectories) - 1, frames).round().astype(int)
    distances = spread(trajectories)

    def update(frame: int) -> None:
        end = ends[frame]
        for index, (line, head) in enumerate(zip(lines, heads)):
            path_so_far = trajectories[: end + 1, index]
            line.set_data_3d(*path_so_far.T)
            head.set_data_3d(*path_so_far[-1:].T)
        ax.view_init(elev=25, azim=-60 + 360 * turns * frame / max(frames - 1, 1))
        title.set_text(f"Lorenz attractor, {starts} — t = {end * dt:5.2f}\n"
                       f"largest distance between them: {distances[end]:7.3f}")

    try:
        return save_animation(figure, update, frames, path, fps, progress)
    finally:
        plt.close(figure)
