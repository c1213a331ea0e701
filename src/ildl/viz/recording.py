"""Record what a classifier predicts over the plane while ``fit`` trains it.

A ``BoundaryRecorder`` is an ``ildl.nn`` callback. Every ``every`` epochs (or optimizer steps) it
asks the model being trained for P(class 1) on a fixed grid of points covering the data, and
measures loss and accuracy on the data at that same moment. The recorded frames are therefore the
real boundaries of the one model as it learns, not of models retrained for each picture::

    recorder = BoundaryRecorder(x, y, every=5)
    model.fit(x, y, epochs=200, callbacks=[recorder], verbose=0)
    recorder.steps[-1], recorder.probabilities[-1].shape    # 200, (100, 100)
    recorder.metrics["accuracy"][-1]                        # accuracy after the last epoch
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from ..nn.callbacks import Callback
from .grid import grid_points

UNITS = ("epoch", "step")


def measure(model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy of a binary classifier on (x, y) as it is now.

    ``loss`` is the compiled loss (with any regularization, as ``evaluate`` reports it);
    ``accuracy`` is the fraction of points where ``P(class 1) > 0.5`` agrees with ``y``.
    """
    results = model.evaluate(x, y)
    if "accuracy" not in results:  # the model was compiled without metrics=["accuracy"]
        predicted = model.predict(x)[:, 0] > 0.5
        results["accuracy"] = float(np.mean(predicted == np.ravel(y)))
    return {"loss": float(results["loss"]), "accuracy": float(results["accuracy"])}


class BoundaryRecorder(Callback):
    """A callback that records P(class 1) on a grid, and loss/accuracy, while ``fit`` runs.

    Args:
        x, y: the 2-D data, (N, 2) and (N,); the grid covers ``x`` with ``margin`` around it, and
            loss/accuracy are measured on (x, y) at each recorded moment.
        every: record after every ``every`` epochs (``per="epoch"``) or optimizer steps
            (``per="step"``, one step = one batch).
        per: ``"epoch"`` or ``"step"``.
        resolution: the grid has ``resolution x resolution`` points.
        validation_data: optional (x_val, y_val), measured too (``val_loss``, ``val_accuracy``).
        record_start: also record the untrained model (step 0) when training begins.

    After (or during) ``fit``:
        ``steps``: list of ints, the epoch or step count of each recorded frame;
        ``probabilities``: list of (resolution, resolution) float arrays, P(class 1) per grid point;
        ``metrics``: dict of lists, ``loss``, ``accuracy`` (and ``val_loss``, ``val_accuracy``);
        ``grid_x``, ``grid_y``: (resolution, resolution) coordinates; ``points``: the grid as
        (resolution**2, 2), in the order of ``probabilities[i].ravel()``.

    The last epoch of ``fit`` (or the one where a callback stopped training) is always recorded.
    Put the recorder after an ``EarlyStopping(restore_best_weights=True)`` in the callback list
    only if you want its frames to end before the weights are restored (they always do).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, every: int = 1, per: str = "epoch",
                 resolution: int = 100, margin: float = 0.5,
                 validation_data: tuple[np.ndarray, np.ndarray] | None = None,
                 record_start: bool = True):
        super().__init__()
        if per not in UNITS:
            raise ArgumentError(f"per must be one of {', '.join(UNITS)}, got {per!r}")
        if not isinstance(every, int | np.integer) or every < 1:
            raise ArgumentError(f"every must be a positive integer, got {every!r}")
        self.x = np.asarray(x, np.float32)
        self.y = np.asarray(y)
        self.every = int(every)
        self.per = per
        self.validation_data = validation_data
        self.record_start = record_start
        self.grid_x, self.grid_y, self.points = grid_points(self.x, resolution, margin)
        self.steps: list[int] = []
        self.probabilities: list[np.ndarray] = []
        self.metrics: dict[str, list[float]] = {}

    # -- the moments to record ------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.step = 0  # optimizer steps taken in this fit
        if self.record_start and not self.steps:
            self.record(0)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.per == "step" and self.step % self.every == 0:
            self.record(self.step)

    def on_epoch_end(self, epoch, logs=None):
        count = epoch + 1 if self.per == "epoch" else self.step
        last = epoch + 1 >= self.model.fit_info["epochs"] or self.model.stop_training
        due = self.per == "epoch" and count % self.every == 0
        if (due or last) and (not self.steps or self.steps[-1] != count):
            self.record(count)

    # -- what is recorded -----------------------------------------------------------------------
    def record(self, count: int) -> None:
        """Store the model's grid predictions and its loss/accuracy now, labelled ``count``."""
        # One forward pass over the whole grid: predict's default batches would only add calls.
        probabilities = self.model.predict(self.points, batch_size=len(self.points))
        self.probabilities.append(probabilities[:, 0].reshape(self.grid_x.shape))
        self.steps.append(int(count))
        values = measure(self.model, self.x, self.y)
        if self.validation_data is not None:
            validation = measure(self.model, *self.validation_data)
            values.update({f"val_{name}": value for name, value in validation.items()})
        for name, value in values.items():
            self.metrics.setdefault(name, []).append(value)

    def __len__(self) -> int:
        """The number of recorded frames."""
        return len(self.steps)
