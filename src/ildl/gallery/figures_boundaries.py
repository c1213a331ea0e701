"""Gallery figures about decision boundaries, overfitting and regularization.

Every boundary here is recorded from the one model while ``fit`` trains it (``BoundaryRecorder``),
never from models retrained for each picture. The datasets and networks are those of the
collection (see the table "The figures" in the design notes):

- boundary_frames, boundary_animation: ``make_circles(1000, factor=.3, noise=.10)``, 2-4-6-6-4-1;
- numpy_model_animation: the moons of ``ildl.demos.moons``, 2-25-50-50-25-1, 10 000 GD steps;
- bias_variance, train_vs_validation, weights_l2: ``make_moons(2000, noise=0.4,
  random_state=100)``, the deep 2-8-32-128-256-256-128-64-16-1 network. Only 10% of the points
  train it (the rest validate), so that it has room to overfit in a few seconds of training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import nn
from ..data import make_circles, make_moons, train_test_split
from ..errors import ArgumentError
from ..graphics import freeze_layout, save_animation, save_figure, themed
from .registry import Figure, RenderOptions, register

DEEP_UNITS = (8, 32, 128, 256, 256, 128, 64, 16)
CIRCLES_UNITS = (4, 6, 6, 4)
# Measured on this data (seeds 0-2, 200 epochs): 0.003 smooths the boundary but leaves training
# accuracy as high as without L2 (85-90%); 0.005 lowers it to 84-86% and lifts validation to 85%
# on every seed; from 0.007 some seeds collapse to a constant prediction (54% / 50%).
L2_STRENGTH = 0.005


# -- data and models ------------------------------------------------------------------------------
def dense_network(units: tuple[int, ...], seed: int = 0, l2: float = 0.0) -> nn.Sequential:
    """ReLU layers of the given widths and one sigmoid output, e.g. (4, 6) -> 2-4-6-1.
    ``l2 > 0`` puts an ``L2(l2)`` penalty on every kernel."""
    regularizer = nn.regularizers.L2(l2) if l2 else None
    layers = [nn.Dense(width, activation="relu", kernel_regularizer=regularizer)
              for width in units]
    layers.append(nn.Dense(1, activation="sigmoid", kernel_regularizer=regularizer))
    model = nn.Sequential(layers, seed=seed)
    model.build((2,))  # inputs are points of the plane: weights exist before any fit
    return model


def compiled(model: nn.Sequential, optimizer) -> nn.Sequential:
    model.compile(optimizer, "binary_crossentropy", ["accuracy"])
    return model


def circles_data(quick: bool = False):
    """The circles of the collection as float32 (x (N, 2), y (N,)); 200 points when quick."""
    x, y = make_circles(200 if quick else 1000, factor=0.3, noise=0.10, random_state=0)
    return x.astype(np.float32), y


@dataclass
class OverfitData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def overfit_data(quick: bool = False) -> OverfitData:
    """``make_moons(2000, noise=0.4, random_state=100)``: 10% to train, 90% to validate."""
    x, y = make_moons(400 if quick else 2000, noise=0.4, random_state=100)
    x_train, x_val, y_train, y_val = train_test_split(x.astype(np.float32), y, test_size=0.9,
                                                      random_state=100)
    return OverfitData(x_train, y_train, x_val, y_val)


def _deep_units(quick: bool = False) -> tuple[int, ...]:
    # Quick renders only check that the figure is made: a narrow net of the same depth will do.
    return tuple(max(2, width // 8) for width in DEEP_UNITS) if quick else DEEP_UNITS


# How the deep net trains: Adam in every figure; weights_l2 also with SGD, for comparison.
DEEP_OPTIMIZERS = {
    "adam": lambda: nn.optimizers.Adam(learning_rate=3e-3),
    "sgd": lambda: nn.optimizers.SGD(learning_rate=0.05, momentum=0.9),
}


def _deep_network(l2: float = 0.0, quick: bool = False, optimizer: str = "adam") -> nn.Sequential:
    return compiled(dense_network(_deep_units(quick), seed=0, l2=l2), DEEP_OPTIMIZERS[optimizer]())


def _optimizer_title(optimizer: nn.optimizers.Optimizer) -> str:
    """A column's title, e.g. "SGD with momentum 0.9, lr 0.05"."""
    momentum = getattr(optimizer, "momentum", 0)
    return (type(optimizer).__name__ + (f" with momentum {momentum:g}" if momentum else "")
            + f", lr {optimizer.learning_rate:g}")


def _deep_name(l2: float = 0.0) -> str:
    return "deep net" + (f" + L2({l2:g})" if l2 else "")


# -- rendering helpers ----------------------------------------------------------------------------
def _paths(name: str, options: RenderOptions) -> tuple[str, str]:
    """(animation file name, summary PNG name) of a figure."""
    return f"{name}.{options.format}", f"{name}_summary.png"


# -- boundary_frames and boundary_animation -------------------------------------------------------
def circles_recording(quick: bool = False):
    """Train the 2-4-6-6-4-1 network on the circles with Adam, recording its boundary every few
    optimizer steps. Returns ``(recorder, x, y)``."""
    from ..viz.recording import BoundaryRecorder

    x, y = circles_data(quick)
    model = compiled(dense_network(CIRCLES_UNITS), nn.optimizers.Adam(learning_rate=0.002))
    epochs, every = (3, 5) if quick else (12, 5)  # 12 epochs x 32 batches: 77 frames
    recorder = BoundaryRecorder(x, y, every=every, per="step", resolution=40 if quick else 100)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[recorder])
    return recorder, x, y


CIRCLES_TITLE = "2-4-6-6-4-1 network learning the circles"


def _render_boundary_frames(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.boundary import plot_boundary_snapshots

    recorder, x, y = circles_recording(options.quick)
    figure = plot_boundary_snapshots(recorder, x, y, count=8, columns=4, curves=False,
                                     title=CIRCLES_TITLE, theme=options.theme, spacing="linear")
    save_figure(figure, os.path.join(out_dir, "boundary_frames.png"), tight=True)
    return ["boundary_frames.png"]


def _render_boundary_animation(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.boundary import plot_boundary_snapshots, save_boundary_animation

    recorder, x, y = circles_recording(options.quick)
    animation, summary = _paths("boundary_animation", options)
    save_boundary_animation(recorder, x, y, os.path.join(out_dir, animation), CIRCLES_TITLE,
                            theme=options.theme, size=(6.0, 3.0) if options.quick else (8, 4))
    figure = plot_boundary_snapshots(recorder, x, y, count=5, title=CIRCLES_TITLE,
                                     theme=options.theme, spacing="linear")
    save_figure(figure, os.path.join(out_dir, summary))
    return [animation, summary]


register(Figure(
    name="boundary_frames",
    caption="The decision boundary of a small 2-4-6-6-4-1 network at successive moments of its "
            "training on the circles (Adam, mini-batches of 32): the shading is P(blue class), "
            "the line P = 0.5.",
    code="from ildl.viz import BoundaryRecorder, plot_boundary_snapshots\n"
         "recorder = BoundaryRecorder(x, y, every=5, per='step')\n"
         "model.fit(x, y, epochs=12, batch_size=32, callbacks=[recorder])\n"
         "plot_boundary_snapshots(recorder, x, y, count=8, columns=4, curves=False,\n"
         "                        spacing='linear')",
    render=_render_boundary_frames,
))

register(Figure(
    name="boundary_animation",
    caption="The same 2-4-6-6-4-1 network learning the circles, one frame every 5 optimizer "
            "steps: the boundary (left) and the accuracy and loss on the training data (right), "
            "all recorded from the model while fit runs.",
    code="from ildl.viz import animate_decision_boundary\n"
         "animate_decision_boundary(model, x, y, epochs=12, per='step', every=5,\n"
         "                          path='boundary_animation.gif',\n"
         "                          summary_path='boundary_animation_summary.png')",
    render=_render_boundary_animation,
))


# -- numpy_model_animation ------------------------------------------------------------------------
def moons_recording(quick: bool = False):
    """The collection's moons network (``ildl.demos.moons``): full-batch gradient descent, lr
    0.01, 10 000 steps, a frame every 125 steps. Returns ``(recorder, data)``."""
    from ..demos.moons import build_model, moons_data
    from ..viz.recording import BoundaryRecorder

    data = moons_data()
    steps, every = (60, 10) if quick else (10_000, 125)  # 81 frames
    model = compiled(build_model(seed=0), nn.optimizers.SGD(learning_rate=0.01))
    recorder = BoundaryRecorder(data.x_train, data.y_train, every=every, per="step",
                                resolution=40 if quick else 100,
                                validation_data=(data.x_test, data.y_test))
    # One batch of the whole training set per epoch: each epoch is one gradient-descent step.
    model.fit(data.x_train, data.y_train, epochs=steps, batch_size=len(data.x_train),
              shuffle=False, verbose=0, callbacks=[recorder])
    return recorder, data


def _render_numpy_model_animation(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.boundary import plot_boundary_snapshots, save_boundary_animation

    recorder, data = moons_recording(options.quick)
    title = "ildl.nn 2-25-50-50-25-1, gradient descent on the moons"
    animation, summary = _paths("numpy_model_animation", options)
    save_boundary_animation(recorder, data.x_train, data.y_train,
                            os.path.join(out_dir, animation), title, theme=options.theme,
                            size=(6.0, 3.0) if options.quick else (8, 4))
    figure = plot_boundary_snapshots(recorder, data.x_train, data.y_train, count=5, title=title,
                                     theme=options.theme)
    save_figure(figure, os.path.join(out_dir, summary))
    return [animation, summary]


register(Figure(
    name="numpy_model_animation",
    caption="The plain-NumPy network of the collection (2-25-50-50-25-1, ReLU, sigmoid output) "
            "learning the moons by full-batch gradient descent, learning rate 0.01, 10 000 steps: "
            "a frame every 125 steps, with accuracy and loss on the training data and on the 10% "
            "held out for testing.",
    code="from ildl.demos.moons import build_model, moons_data\n"
         "from ildl.viz import animate_decision_boundary\n"
         "data = moons_data()\nmodel = build_model()\n"
         "model.compile(nn.optimizers.SGD(0.01), 'binary_crossentropy', ['accuracy'])\n"
         "animate_decision_boundary(model, data.x_train, data.y_train, epochs=10_000,\n"
         "                          batch_size=len(data.x_train), every=125, per='step',\n"
         "                          validation_data=(data.x_test, data.y_test),\n"
         "                          path='numpy_model_animation.gif')",
    render=_render_numpy_model_animation,
))


# -- bias_variance --------------------------------------------------------------------------------
def bias_variance_recordings(quick: bool = False):
    """Logistic regression, the deep net and the deep net with L2, trained on the same 10% of the
    noisy moons and recorded every third epoch. Returns ``(recorders, data)``."""
    from ..viz.boundary import train_with_recorders

    data = overfit_data(quick)
    logistic = compiled(dense_network((), seed=0), nn.optimizers.Adam(learning_rate=0.03))
    models = {"logistic regression": logistic, _deep_name(): _deep_network(quick=quick),
              _deep_name(L2_STRENGTH): _deep_network(L2_STRENGTH, quick)}
    epochs, every = (4, 2) if quick else (200, 3)  # 68 frames
    recorders = train_with_recorders(models, data.x_train, data.y_train, epochs, every=every,
                                     validation_data=(data.x_val, data.y_val),
                                     resolution=24 if quick else 64)
    return recorders, data


def _render_bias_variance(out_dir: str, options: RenderOptions) -> list[str]:
    from ..viz.boundary import plot_boundaries_snapshots, save_boundaries_animation

    recorders, data = bias_variance_recordings(options.quick)
    animation, summary = _paths("bias_variance", options)
    save_boundaries_animation(recorders, data.x_train, data.y_train,
                              os.path.join(out_dir, animation), (data.x_val, data.y_val),
                              "underfitting, overfitting, regularization", theme=options.theme,
                              size=(4.0, 4.0) if options.quick else (6.6, 6.6))
    figure = plot_boundaries_snapshots(recorders, data.x_train, data.y_train, count=4,
                                       title="bias and variance while training",
                                       theme=options.theme)
    save_figure(figure, os.path.join(out_dir, summary))
    return [animation, summary]


register(Figure(
    name="bias_variance",
    caption="Bias and variance while training on noisy moons (200 training points): logistic "
            "regression can only draw a straight line (high bias); the deep "
            "2-8-32-128-256-256-128-64-16-1 network bends its boundary around single points "
            "(high variance: training accuracy above validation accuracy); the same network with "
            f"an L2({L2_STRENGTH:g}) penalty on its weights draws one smooth curve between the two "
            "moons instead, with a lower training and a higher validation accuracy (each panel's "
            "title gives both, measured in this run).",
    code="from ildl.viz import train_with_recorders, save_boundaries_animation\n"
         "recorders = train_with_recorders({'logistic regression': logistic, 'deep net': deep,\n"
         "                                  'deep net + L2': deep_l2}, x, y, epochs=200,\n"
         "                                 every=3, validation_data=(x_val, y_val))\n"
         "save_boundaries_animation(recorders, x, y, 'bias_variance.gif', (x_val, y_val))",
    render=_render_bias_variance,
))


# -- train_vs_validation --------------------------------------------------------------------------
class EarlyStoppingWatcher(nn.callbacks.EarlyStopping):
    """``EarlyStopping`` that notes the epoch where it would stop but lets training go on, to show
    what would have come after. ``would_stop`` and ``best_at`` are 0-based epochs (None: never)."""

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.would_stop = None
        self.best_at = None

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.model.stop_training and self.would_stop is None:
            self.would_stop, self.best_at = epoch, self.best_epoch
        self.model.stop_training = False  # keep training: the rest of the curve is the point


def train_vs_validation_history(quick: bool = False, patience: int = 20):
    """Train the deep net on 10% of the noisy moons, validating on the rest every epoch.
    Returns ``(history dict, watcher)``; the watcher says where EarlyStopping would stop."""
    data = overfit_data(quick)
    model = _deep_network(quick=quick)
    watcher = EarlyStoppingWatcher(monitor="val_loss", patience=3 if quick else patience)
    history = model.fit(data.x_train, data.y_train, epochs=12 if quick else 200, batch_size=32,
                        validation_data=(data.x_val, data.y_val), callbacks=[watcher],
                        verbose=0)
    return history.history, watcher


def _curves_figure(history: dict, watcher, size: tuple[float, float]):
    """Accuracy and loss panels with empty training/validation lines and the stopping marks."""
    import matplotlib.pyplot as plt

    from ..viz.boundary import TRAIN_COLOR, VALIDATION_COLOR

    epochs = len(history["loss"])
    figure, axes = plt.subplots(1, 2, figsize=size, layout="constrained")
    lines = []
    for ax, name in zip(axes, ("accuracy", "loss")):
        for prefix, color, label in (("", TRAIN_COLOR, "training"),
                                     ("val_", VALIDATION_COLOR, "validation")):
            line, = ax.plot([], [], color=color, linewidth=1.6, label=label)
            lines.append((line, np.asarray(history[prefix + name])))
        values = np.concatenate([history[name], history["val_" + name]])
        low, high = values.min(), values.max()
        ax.set_ylim(low - 0.05 * (high - low), high + 0.08 * (high - low))
        ax.set_xlim(1, epochs)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(f"{name} per epoch")
        ax.grid(alpha=0.3)
    marks = []
    if watcher.would_stop is not None:
        for ax in axes:
            best = ax.axvline(watcher.best_at + 1, color="#66bb6a", linestyle="--", linewidth=1.3,
                              label=f"best val_loss (epoch {watcher.best_at + 1})")
            stop = ax.axvline(watcher.would_stop + 1, color="#ffca28", linestyle=":",
                              linewidth=1.5,
                              label=f"early stopping (epoch {watcher.would_stop + 1})")
            marks += [(best, watcher.best_at), (stop, watcher.would_stop)]
    axes[0].legend(loc="lower right", fontsize=8)
    return figure, lines, marks


def _render_train_vs_validation(out_dir: str, options: RenderOptions) -> list[str]:
    history, watcher = train_vs_validation_history(options.quick)
    epochs = len(history["loss"])
    animation, summary = _paths("train_vs_validation", options)
    size = (5.0, 2.6) if options.quick else (8.0, 3.8)
    with themed(options.theme):
        figure, lines, marks = _curves_figure(history, watcher, size)
        figure.suptitle("deep net on 200 noisy moons: training vs validation", fontsize=12)
        shown = np.unique(np.linspace(1, epochs, min(epochs, 80)).round().astype(int))

        def update(frame: int) -> None:
            last = shown[frame]  # epochs 1..last are drawn
            for line, values in lines:
                line.set_data(np.arange(1, last + 1), values[:last])
            for mark, epoch in marks:
                mark.set_visible(epoch + 1 <= last)

        freeze_layout(figure)
        save_animation(figure, update, len(shown), os.path.join(out_dir, animation), fps=15)
        update(len(shown) - 1)
        save_figure(figure, os.path.join(out_dir, summary))
    return [animation, summary]


register(Figure(
    name="train_vs_validation",
    caption="Overfitting in numbers: the deep network's accuracy and loss on its 200 training "
            "points keep improving while those on the 1 800 validation points stall and then get "
            "worse. The dashed line is the epoch of the lowest validation loss, the dotted one "
            "where EarlyStopping(monitor='val_loss', patience=20) would stop training (and with "
            "restore_best_weights=True go back to the dashed epoch).",
    code="from ildl import nn\nfrom ildl.viz import plot_history\n"
         "stop = nn.callbacks.EarlyStopping('val_loss', patience=20, restore_best_weights=True)\n"
         "history = model.fit(x, y, epochs=200, validation_data=(x_val, y_val), "
         "callbacks=[stop])\nplot_history(history)",
    render=_render_train_vs_validation,
))


# -- weights_l2 -----------------------------------------------------------------------------------
L2_STRENGTHS = (0.0, 1e-4, 1e-3, 1e-2)
WEIGHTS_LAYER = -2  # the 64 -> 16 layer of the deep net: a (64, 16) kernel, small enough to see
# The same L2 penalty under the two DEEP_OPTIMIZERS. Measured (80 epochs): the mean |w| of the
# layer goes 0.137 -> 0.036 with L2(1e-4) under Adam (65% of the weights below 0.01), and
# 0.138 -> 0.131 under SGD with momentum (4%): Adam divides each weight's gradient, penalty
# included, by that weight's own running size.


def l2_weight_matrices(strengths: tuple[float, ...] = L2_STRENGTHS, optimizer: str = "adam",
                       quick: bool = False, epochs: int = 80) -> dict[float, np.ndarray]:
    """Train the deep net once per L2 strength (same data, same initial weights) with one of
    ``DEEP_OPTIMIZERS`` ("adam" or "sgd") and return ``{strength: kernel}`` of layer
    ``WEIGHTS_LAYER``, each of shape (inputs, units)."""
    if optimizer not in DEEP_OPTIMIZERS:
        raise ArgumentError(f"l2_weight_matrices: unknown optimizer {optimizer!r}; choose one "
                            f"of {sorted(DEEP_OPTIMIZERS)}")
    data = overfit_data(quick)
    kernels = {}
    for strength in strengths:
        model = _deep_network(strength, quick, optimizer)
        model.fit(data.x_train, data.y_train, epochs=4 if quick else epochs, batch_size=32,
                  verbose=0)
        kernels[strength] = model.layers[WEIGHTS_LAYER].params["kernel"].copy()
    return kernels


def _render_weights_l2(out_dir: str, options: RenderOptions) -> list[str]:
    import matplotlib.pyplot as plt

    matrices = {_optimizer_title(make()): l2_weight_matrices(optimizer=name, quick=options.quick)
                for name, make in DEEP_OPTIMIZERS.items()}
    limit = max(np.abs(kernel).max() for kernels in matrices.values()
                for kernel in kernels.values())  # one colour scale for all panels
    with themed(options.theme):
        figure, axes = plt.subplots(len(L2_STRENGTHS), len(matrices),
                                    figsize=(11, 1.45 * len(L2_STRENGTHS) + 1.1),
                                    layout="constrained", squeeze=False)
        for column, (title, kernels) in enumerate(matrices.items()):
            for ax, (strength, kernel) in zip(axes[:, column], kernels.items()):
                image = ax.imshow(kernel.T, cmap="PuOr_r", vmin=-limit, vmax=limit,
                                  aspect="auto", interpolation="nearest")
                ax.set_title(f"L2({strength:g}):  min {kernel.min():+.2f}  max "
                             f"{kernel.max():+.2f}  mean |w| {np.abs(kernel).mean():.3f}",
                             fontsize=9, loc="left")
                ax.set_xticks([])
                ax.set_yticks([0, kernel.shape[1] - 1])  # the first and last unit
            axes[0, column].annotate(title, (0.5, 1.32), xycoords="axes fraction", ha="center",
                                     fontsize=11, fontweight="bold")
            shape = next(iter(kernels.values())).shape
            axes[-1, column].set_xlabel(f"input from the previous layer (kernel {shape})")
        for ax in axes[:, 0]:
            ax.set_ylabel("unit")
        figure.colorbar(image, ax=axes, label="weight", shrink=0.8)
        figure.suptitle("weights of the deep net's 64 → 16 layer after the same training, by L2 "
                        "strength and optimizer", fontsize=12)
        save_figure(figure, os.path.join(out_dir, "weights_l2.png"))
    return ["weights_l2.png"]


register(Figure(
    name="weights_l2",
    caption="What an L2 penalty l·Σw² does to the weights depends on the optimizer: the 64 → 16 "
            "weight matrix of the deep network after the same training with L2 strengths 0, "
            "0.0001, 0.001 and 0.01 (one colour scale for all). With SGD (right) the penalty "
            "shrinks every weight in proportion to its size: 0.0001 hardly shows, 0.01 leaves "
            "only the weights the data needs. With Adam (left) even 0.0001 empties most of the "
            "matrix: Adam divides each gradient, penalty included, by its own running size, so "
            "a weight the data does not need shrinks at the pace of the learning rate whatever "
            "l is (the reason for nn.optimizers.AdamW, which decays the weights outside Adam's "
            "scaling).",
    code="from ildl.gallery.figures_boundaries import l2_weight_matrices\n"
         "adam = l2_weight_matrices((0.0, 1e-4, 1e-3, 1e-2), optimizer='adam')  # {l: (64, 16)}\n"
         "sgd = l2_weight_matrices((0.0, 1e-4, 1e-3, 1e-2), optimizer='sgd')\n"
         "# each network has nn.Dense(..., kernel_regularizer=nn.regularizers.L2(strength))",
    render=_render_weights_l2,
))
