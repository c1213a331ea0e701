"""Gallery figures: activations, EWMA, the Lorenz attractor, convolution kernels and the CNN's
learning curves (see ildl.gallery.registry).

Each render function draws with the public ``ildl.viz`` call shown in its ``code`` and writes
its files into ``out_dir``; ``options.quick`` shrinks frames, sizes and training for tests.
"""

from __future__ import annotations

import os

from ..graphics import save_figure, themed
from .registry import Figure, RenderOptions, register


def _render_activations(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.activations import plot_activations

    with themed(options.theme):
        save_figure(plot_activations(), os.path.join(out_dir, "activations.png"),
                    options.still_dpi, tight=True)
    return ["activations.png"]


def _render_ewma(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.ewma import plot_ewma, temperature_series

    with themed(options.theme):
        save_figure(plot_ewma(temperature_series()), os.path.join(out_dir, "ewma.png"),
                    options.still_dpi, tight=True)
    return ["ewma.png"]


def _render_lorenz(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.lorenz import animate_lorenz, close_starts, integrate_lorenz, plot_lorenz

    trajectories = integrate_lorenz(close_starts(6), steps=1500, dt=0.01)
    animation = f"lorenz_attractor.{options.format}"
    with themed(options.theme):
        if options.quick:
            animate_lorenz(trajectories, os.path.join(out_dir, animation), frames=6, size=3,
                           dpi=50)
        else:
            animate_lorenz(trajectories, os.path.join(out_dir, animation), frames=100)
        save_figure(plot_lorenz(trajectories), os.path.join(out_dir, "lorenz_attractor.png"),
                    options.still_dpi, tight=True)
    return [animation, "lorenz_attractor.png"]


def _render_convolution(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.convolution import animate_convolution, plot_kernels, sample_image

    animation = f"convolution.{options.format}"
    with themed(options.theme):
        if options.quick:
            animate_convolution(sample_image(24), "outline", os.path.join(out_dir, animation),
                                frames=5, dpi=40)
        else:
            animate_convolution(sample_image(48), "outline", os.path.join(out_dir, animation),
                                frames=80)
        save_figure(plot_kernels(sample_image(32 if options.quick else 96)),
                    os.path.join(out_dir, "convolution.png"), options.still_dpi, tight=True)
    return [animation, "convolution.png"]


def _render_cnn_training(out_dir: str, options: RenderOptions) -> list[str]:
    from ..demos.mnist import digit_data, train_cnn
    from ..viz.training import plot_history

    # Synthetic digits only: the gallery must run with no data files and no network.
    samples, epochs = (200, 2) if options.quick else (3000, 6)
    data = digit_data(allow_download=False, fallback_samples=samples)
    _, history = train_cnn(data, epochs=epochs, verbose=0)
    accuracy = history.history["val_accuracy"][-1]
    with themed(options.theme):
        figure = plot_history(history, title=(
            f"ildl.nn CNN on {len(data.x_train):,} {data.source}: validation accuracy "
            f"{accuracy:.1%} after {epochs} epochs"))
        save_figure(figure, os.path.join(out_dir, "cnn_training.png"), options.still_dpi,
                    tight=True)
    return ["cnn_training.png"]


register(Figure(
    name="activations",
    caption="Every activation function of ildl.nn (solid) with its derivative (dashed), computed "
            "by the very objects the layers call. Where the derivative is near 0 (the tails of "
            "sigmoid and tanh, ReLU's negative side) little gradient flows back.",
    code="from ildl.viz.activations import plot_activations\n"
         "figure = plot_activations()   # or plot_activations(['relu', 'gelu'])",
    render=_render_activations,
))

register(Figure(
    name="ewma",
    caption="Exponentially weighted averages v_t = β v_(t-1) + (1-β) x_t of a noisy daily "
            "temperature for β = 0.5, 0.9, 0.98 (larger β: smoother, later), and, on the right, "
            "how dividing by 1 - β^t removes the bias toward 0 of the first steps (Adam's "
            "bias correction).",
    code="from ildl.viz.ewma import ewma, plot_ewma, temperature_series\n"
         "x = temperature_series()\nsmooth = ewma(x, beta=0.9)\nfigure = plot_ewma(x)",
    render=_render_ewma,
))

register(Figure(
    name="lorenz_attractor",
    caption="Six trajectories of the Lorenz system (σ = 10, ρ = 28, β = 8/3) from starts 0.001 "
            "apart, integrated with RK4 (dt = 0.01, 1500 steps) and drawn over time while the "
            "camera turns: they travel together, then split across the two wings. The summary "
            "plots their distance, growing exponentially until it is the attractor's size.",
    code="from ildl.viz.lorenz import animate_lorenz, close_starts, integrate_lorenz, "
         "plot_lorenz\ntrajectories = integrate_lorenz(close_starts(6), steps=1500, dt=0.01)\n"
         "animate_lorenz(trajectories, 'lorenz_attractor.gif')\n"
         "figure = plot_lorenz(trajectories)",
    render=_render_lorenz,
))

register(Figure(
    name="convolution",
    caption="A 3x3 kernel sliding over a synthetic image: each output pixel is the sum of the "
            "patch under the kernel times its weights. The still shows the image convolved with "
            "classic kernels (blur, sharpen, outline, emboss, Sobel) by ildl's Conv2D arithmetic, "
            "each with its weights; values are clipped to [0, 1] for display.",
    code="from ildl.viz.convolution import animate_convolution, plot_kernels, sample_image\n"
         "animate_convolution(sample_image(48), 'outline', 'convolution.gif')\n"
         "figure = plot_kernels(sample_image())",
    render=_render_convolution,
))

register(Figure(
    name="cnn_training",
    caption="Accuracy and loss per epoch of the collection's CNN (conv 32 - pool - conv 64 - "
            "pool - dense 128 - softmax, Adam) written in ildl.nn, trained on synthetic digits "
            "that need no download, for training and validation data.",
    code="from ildl.demos.mnist import digit_data, train_cnn\nfrom ildl.viz import plot_history\n"
         "data = digit_data(allow_download=False, fallback_samples=3000)\n"
         "model, history = train_cnn(data, epochs=6)\nfigure = plot_history(history)",
    render=_render_cnn_training,
))
