"""Exponentially weighted moving averages: the running mean inside momentum, RMSprop and Adam.

``v_0 = 0`` and ``v_t = beta v_{t-1} + (1 - beta) x_t``. Unrolled, ``v_t = (1 - beta) *
sum_{k=1..t} beta^(t-k) x_k``: recent points weigh most and the weights fall by ``beta`` per step,
so the average remembers roughly the last ``1 / (1 - beta)`` points. Because ``v_0 = 0`` the first
values are too small (the weights sum to ``1 - beta^t``, not 1); dividing by that sum, ``v_t /
(1 - beta^t)``, is Adam's bias correction::

    x = temperature_series()
    smooth = ewma(x, beta=0.9)
    corrected = ewma(x, beta=0.98, bias_correction=True)
    figure = plot_ewma(x)
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from ..graphics import SERIES_COLORS


def ewma(x: np.ndarray, beta: float, bias_correction: bool = False) -> np.ndarray:
    """Exponentially weighted average of ``x`` along its first axis (time), same shape as ``x``.

    ``out[t-1] = v_t`` with ``v_t = beta v_{t-1} + (1 - beta) x_t``, ``v_0 = 0``; with
    ``bias_correction`` it is ``v_t / (1 - beta^t)``. Any trailing axes are averaged independently.
    """
    if not 0 <= beta < 1:
        raise ArgumentError(f"beta must be in [0, 1), got {beta!r}")
    x = np.asarray(x, dtype=float)
    averages = np.empty_like(x)
    v = np.zeros_like(x[0])
    # A plain loop over time: each value depends on the previous one, exactly as in an optimizer.
    for t in range(len(x)):
        v = beta * v + (1 - beta) * x[t]
        averages[t] = v
    if bias_correction:
        steps = np.arange(1, len(x) + 1).reshape(-1, *([1] * (x.ndim - 1)))
        averages /= 1 - beta**steps
    return averages


def temperature_series(days: int = 365, seed: int = 0) -> np.ndarray:
    """A noisy daily temperature over a year from spring, shape ``(days,)``, in degrees Celsius: a
    seasonal sine around 14 °C (warmest after 3 months) plus Gaussian noise of 3.5 °C.

    It starts far from 0 on purpose, so the bias of an average started at ``v_0 = 0`` shows."""
    rng = np.random.default_rng(seed)
    day = np.arange(days)
    season = 14 + 9 * np.sin(2 * np.pi * day / 365)
    return season + rng.normal(0, 3.5, size=days)


def plot_ewma(x: np.ndarray, betas: tuple[float, ...] = (0.5, 0.9, 0.98),
              corrected_beta: float = 0.98, start_steps: int = 120):
    """Two panels: the series ``x`` (T,) with its average for each beta; and the first
    ``start_steps`` steps of the average with ``corrected_beta`` without and with bias
    correction. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=float)
    steps = np.arange(1, len(x) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8),
                                         gridspec_kw={"width_ratios": (1.6, 1)})
    shown = slice(0, min(start_steps, len(x)))
    for ax, part in ((left, slice(None)), (right, shown)):
        ax.scatter(steps[part], x[part], s=7, color="#9aa0a6", alpha=0.55, label="data $x_t$")
        ax.set_xlabel("step t (day)")
        ax.set_ylabel("temperature (°C)")
        ax.grid(alpha=0.25)
    for color, beta in zip(SERIES_COLORS, betas):
        left.plot(steps, ewma(x, beta), color=color, linewidth=2,
                  label=f"β = {beta:g}  (≈ last {1 / (1 - beta):.0f} points)")
    left.set_title("Exponentially weighted averages $v_t = β v_{t-1} + (1-β) x_t$")
    left.legend(loc="upper right", fontsize=9)

    # The colour of corrected_beta in the left panel: dashed uncorrected, solid corrected.
    known = list(betas)
    color = SERIES_COLORS[known.index(corrected_beta) if corrected_beta in known else len(known)]
    right.plot(steps[shown], ewma(x, corrected_beta)[shown], color=color, linewidth=2,
               linestyle="--", label=f"β = {corrected_beta:g}, $v_t$ (starts at 0)")
    right.plot(steps[shown], ewma(x, corrected_beta, bias_correction=True)[shown],
               color=color, linewidth=2,
               label=f"β = {corrected_beta:g}, bias-corrected $v_t / (1 - β^t)$")
    right.set_xlim(0, shown.stop + 1)
    right.set_title(f"Bias correction over the first {shown.stop} steps")
    right.legend(loc="lower right", fontsize=9)
    figure.tight_layout()
    return figure
