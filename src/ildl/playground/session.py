"""One learner's playground: the data, the network, and its training on ildl.nn, step by step.

A ``Session`` is what a browser tab drives. It holds the configuration, the points (split into
train and test), and the compiled model, and does what the page's buttons ask:

* ``step(epochs)``: train with ``model.fit`` for that many more epochs, exactly as a script
  calling ``fit(features(x_train), y, batch_size, epochs=N)`` once would (the model's one random
  generator shuffles and drops out in the same order either way; a test checks the weights);
* ``configure(config)``, ``reset(new_seed)``, ``regenerate()``, ``upload(text, name)``;
* ``frame(full)``: what the page draws (``views.py``), with the losses and the epoch.

A session is used by one request at a time (the server holds its lock).
"""

from __future__ import annotations

import dataclasses
import secrets

import numpy as np

from ..data import train_test_split
from ..errors import ArgumentError, TrainingError
from ..nn import saving
from . import views
from .config import MAX_SEED, UPLOADED, Config
from .csv_upload import UploadedData, parse_csv
from .datasets import dataset_call, held_out_fraction
from .features import FEATURES, compute_features
from .network import build_model

MAX_EPOCHS_PER_STEP = 100


@dataclasses.dataclass
class Split:
    """The points of a configuration: raw x ``(N, 2)`` and y (labels ``(N,)`` or targets)."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def draw_points(config: Config, uploaded: UploadedData | None = None) -> Split:
    """The configuration's dataset (or the uploaded CSV), split with ``train_test_split``."""
    if config.dataset == UPLOADED:
        if uploaded is None:
            raise ArgumentError("the dataset 'csv' is your own file: upload one first")
        x, y = uploaded.x, uploaded.y
    else:
        x, y = dataset_call(config).run(config.points)
    return Split(*train_test_split(x, y, test_size=held_out_fraction(config),
                                   random_state=config.data_seed))


def targets(y: np.ndarray, problem: str) -> np.ndarray:
    """y as the loss takes it: class labels ``(N,)`` for softmax, a column ``(N, 1)`` else."""
    return y if problem == "multiclass" else y.reshape(-1, 1)


class Session:
    """The state behind one tab (see the module's text)."""

    def __init__(self, config: Config | None = None):
        self.csv_text: str | None = None  # the uploaded file, parsed again when the problem changes
        self.csv_name = "data.csv"
        self.configure(config or Config())

    # -- what the buttons do ----------------------------------------------------------------------
    def configure(self, config: Config) -> None:
        """Use ``config``: new points and a new, untrained network. Nothing changes if it fails."""
        uploaded = self._uploaded(config.problem) if config.dataset == UPLOADED else None
        split = draw_points(config, uploaded)
        inputs, outputs = len(config.features), self._outputs(config, split)
        model = build_model(config, inputs, outputs)
        self.config, self.uploaded, self.split, self.model = config, uploaded, split, model
        self.error: str | None = None
        self.domain = views.plane_domain(np.concatenate([split.x_train, split.x_test]))
        every_y = np.concatenate([split.y_train, split.y_test]).astype(np.float64)
        self.target_range = (float(every_y.min()), float(every_y.max()))
        self.metrics = self._evaluate()

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` more epochs. A loss that turns NaN stops training, keeps the weights
        from before that step and sets ``self.error`` (the page shows it)."""
        if not (isinstance(epochs, int) and not isinstance(epochs, bool)
                and 1 <= epochs <= MAX_EPOCHS_PER_STEP):
            raise ArgumentError(f"epochs must be a whole number from 1 to "
                                f"{MAX_EPOCHS_PER_STEP}, got {epochs!r}")
        if self.error:
            return
        done = self.model.epochs_trained
        try:  # a diverging loss raises TrainingError below: no overflow warnings on the way
            with np.errstate(over="ignore", invalid="ignore"):
                self.model.fit(self._inputs(self.split.x_train),
                               self._targets(self.split.y_train),
                               batch_size=self.config.batch_size, epochs=done + epochs,
                               initial_epoch=done, verbose=0)
        except TrainingError as error:
            self.error = str(error)
        self.metrics = self._evaluate()

    def reset(self, new_seed: bool = False) -> None:
        """A fresh network: the same initial weights, or those of a new random seed."""
        seed = secrets.randbelow(MAX_SEED) if new_seed else self.config.seed
        self.configure(dataclasses.replace(self.config, seed=seed))

    def regenerate(self) -> None:
        """New points of the same dataset (a new data seed) and a fresh network."""
        self.configure(dataclasses.replace(self.config, data_seed=secrets.randbelow(MAX_SEED)))

    def upload(self, text: str, name: str = "data.csv") -> None:
        """Train on the learner's CSV from now on (see ``csv_upload``); a refused file changes
        nothing."""
        previous = self.csv_text, self.csv_name
        self.csv_text, self.csv_name = text, name
        try:
            self.configure(dataclasses.replace(self.config, dataset=UPLOADED))
        except Exception:
            self.csv_text, self.csv_name = previous
            raise

    def model_bytes(self) -> bytes:
        """The trained model as the bytes of an ``.ildl`` file (``nn.load_model`` reads them)."""
        return saving.model_bytes(self.model)

    # -- what the page draws ---------------------------------------------------------------------
    def frame(self, full: bool = False) -> dict:
        """The epoch, losses, weights and maps; ``full`` adds what changes only with the
        configuration (the points, the layers' sizes and names, the plane's extent)."""
        frame = {"epoch": self.model.epochs_trained, "metrics": self.metrics,
                 "error": self.error, "weights": views.weights_of(self.model),
                 **views.render(self.model, self.config.features, self.domain,
                                self.config.problem, self.target_range)}
        if full:
            frame.update(self._description())
        return frame

    def _description(self) -> dict:
        split, config = self.split, self.config
        return {
            "config": config.to_dict(), "query": config.to_query(),
            "csv_name": self.csv_name if self.csv_text is not None else None,
            "domain": self.domain, "target_range": list(self.target_range),
            "classes": self._outputs(config, split) if config.problem == "multiclass" else 2,
            "layers": [[FEATURES[name].label for name in config.features],
                       *[[activation] * units for units, activation in config.hidden],
                       [self.model.layers[-1].activation.name] * self.model.output_shape[-1]],
            "points": {"train": views.points_of(split.x_train, split.y_train),
                       "test": views.points_of(split.x_test, split.y_test)},
        }

    # -- helpers ---------------------------------------------------------------------------------
    def _uploaded(self, problem: str) -> UploadedData:
        if self.csv_text is None:
            raise ArgumentError("the dataset 'csv' is your own file: upload one first")
        return parse_csv(self.csv_text, problem, self.csv_name)

    @staticmethod
    def _outputs(config: Config, split: Split) -> int:
        return split.classes if config.problem == "multiclass" else 1

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        return compute_features(x, self.config.features)

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return targets(y, self.config.problem)

    def _evaluate(self) -> dict:
        """Train and test loss (and accuracy), as ``model.evaluate`` computes them; a loss that
        overflows (a diverging model) is None, without a warning."""
        results = {}
        for part, x, y in (("train", self.split.x_train, self.split.y_train),
                           ("test", self.split.x_test, self.split.y_test)):
            with np.errstate(over="ignore", invalid="ignore"):
                evaluated = self.model.evaluate(self._inputs(x), self._targets(y))
            for name, value in evaluated.items():
                results[f"{part}_{name}"] = float(value) if np.isfinite(value) else None
        return results
