"""Activation functions next to their derivatives, drawn from the objects ``ildl.nn`` layers use.

A network learns through the derivatives of its activations: where ``f'(x)`` is close to 0 (the
flat tails of sigmoid and tanh, the negative side of ReLU) the gradient that reaches earlier layers
nearly vanishes. Plotting ``f`` and ``f'`` side by side shows where each activation lets gradients
through::

    figure = plot_activations()                        # every activation of ildl.nn
    figure = plot_activations(["relu", "gelu"])        # or the ones you name
"""

from __future__ import annotations

import numpy as np

from ..graphics import SERIES_COLORS
from ..nn import activations

#: The activations of ildl.nn in the order the figure shows them ("silu" is another name of swish).
DEFAULT_ACTIVATIONS = ("linear", "sigmoid", "tanh", "softmax", "relu", "leaky_relu", "elu",
                       "softplus", "swish", "gelu")

#: Readable titles for the panels.
TITLES = {"linear": "linear", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
          "leaky_relu": "leaky ReLU", "elu": "ELU", "softplus": "softplus",
          "swish": "swish / SiLU", "silu": "swish / SiLU", "gelu": "GELU",
          "softmax": "softmax of [x, 0], first output"}

FUNCTION_COLOR, DERIVATIVE_COLOR = SERIES_COLORS[3], SERIES_COLORS[0]


def activation_curves(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and ``f'(x)`` for the activation called ``name``, both shaped like ``x`` (1-D).

    Computed by ``ildl.nn.activations.get(name)``, the object a ``Dense(..., activation=name)``
    layer calls. Softmax is not elementwise (it normalises over the last axis), so for it the
    curve is the first output of ``softmax([x, 0])`` and the derivative the diagonal of its
    Jacobian ``y (1 - y)``: the two-class case, which equals the sigmoid.
    """
    activation = activations.get(name)
    x = np.asarray(x, dtype=float)
    if isinstance(activation, activations.Softmax):
        pairs = np.stack([x, np.zeros_like(x)], axis=-1)  # (N, 2): scores of two classes
        return activation(pairs)[:, 0], activation.derivative(pairs)[:, 0]
    return activation(x), activation.derivative(x)


def plot_activations(names: list[str] | tuple[str, ...] = DEFAULT_ACTIVATIONS,
                     x: np.ndarray | None = None, columns: int = 5):
    """One panel per activation with ``f(x)`` (solid) and ``f'(x)`` (dashed) on ``x``
    (default 401 points on [-5, 5]). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=float)
    rows = -(-len(names) // columns)  # ceiling division
    figure, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 3.0 * rows + 0.4),
                                squeeze=False)
    for ax, name in zip(axes.flat, names):
        y, dy = activation_curves(name, x)
        ax.axhline(0, color="grey", linewidth=0.6, alpha=0.6)
        ax.axvline(0, color="grey", linewidth=0.6, alpha=0.6)
        ax.plot(x, y, color=FUNCTION_COLOR, linewidth=2.2, label="f(x)")
        ax.plot(x, dy, color=DERIVATIVE_COLOR, linewidth=1.8, linestyle="--", label="f'(x)")
        ax.set_title(TITLES.get(name, name), fontsize=11)
        ax.grid(alpha=0.25)
        low, high = min(y.min(), dy.min()), max(y.max(), dy.max())
        pad = 0.08 * (high - low)
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlabel("x")
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("value")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, ["activation f(x)", "derivative f'(x)"], loc="upper right",
                  ncol=2, frameon=True)
    figure.suptitle("Activation functions of ildl.nn and their derivatives", x=0.01,
                    ha="left", fontsize=13)
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return figure
