"""``Sequential``: a stack of layers that trains with ``fit`` (the Keras model API, in NumPy).

Training one batch is three passes over the stack: ``forward`` (each layer's output feeds the next),
the loss and its gradient at the end, ``backward`` (each layer turns the gradient of its output into
gradients of its weights and its input, last layer first), then one optimizer step on all weights::

    model = nn.Sequential([nn.Dense(25, activation="relu", input_shape=(2,)),
                           nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.1)
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from ..errors import ArgumentError, DataError, TrainingError, UsageError
from ..validation import (
    as_array,
    check_flag,
    check_input_shape,
    check_integer,
    check_number,
    check_same_length,
    check_shape,
)
from . import losses, metrics, optimizers, saving, threads
from .callbacks import Callback, History, ProgbarLogger, expected_logs
from .layers import Layer
from .layers.base import reusing_arrays, training_step_arrays

_DTYPES = ("float32", "float64")


class Sequential:
    """A linear stack of layers.

    ``seed`` makes weight initialisation, shuffling and dropout repeatable; ``dtype`` is
    ``"float32"`` (default, fast) or ``"float64"`` (for gradient checks).
    """

    def __init__(self, layers: list[Layer] | None = None, seed: int | None = None,
                 dtype: str = "float32", name: str = "sequential"):
        if _dtype_name(dtype) not in _DTYPES:
            raise ArgumentError(f"Sequential: dtype must be one of {_DTYPES}, got {dtype!r}")
        if layers is not None and not isinstance(layers, list | tuple):
            raise ArgumentError(f"Sequential: layers must be a list of layers, e.g. "
                                f"Sequential([nn.Dense(8)]), got {type(layers).__name__}")
        if not (isinstance(name, str) and name):
            raise ArgumentError(f"Sequential: name must be a non-empty string, got {name!r}")
        self.dtype = np.dtype(dtype)
        self.seed = None if seed is None else check_integer(seed, "seed", "Sequential", minimum=0)
        self.rng = np.random.default_rng(self.seed)
        self.name = name
        self.layers: list[Layer] = []
        self.built = False
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metric_names: list[str] = []
        self.stop_training = False
        self.epochs_trained = 0  # completed epochs, saved with the model so training can resume
        self.fit_info: dict = {}
        for layer in layers or []:
            self.add(layer)

    # -- building -------------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer; the model is built as soon as the first layer knows its input shape."""
        if not isinstance(layer, Layer):
            raise ArgumentError(
                f"Sequential.add expects an ildl.nn layer (e.g. nn.Dense(8)) but got "
                f"{type(layer).__name__}")
        taken = {existing.name for existing in self.layers}
        base, count = layer.name, 1
        while layer.name in taken:  # Keras-style unique names: dense, dense_1, dense_2...
            layer.name = f"{base}_{count}"
            count += 1
        self.layers.append(layer)
        if len(self.layers) == 1 and layer.input_shape is not None:
            self.build(layer.input_shape)
        elif self.built:  # Keras builds layer by layer once the input shape is known
            self.output_shape = self._build_layer(layer, self.output_shape)

    def build(self, input_shape: tuple) -> None:
        """Create every layer's weights for inputs of shape ``(N, *input_shape)``."""
        if not self.layers:
            raise UsageError("the model has no layers; add some with Sequential([...]) or add()")
        shape = check_shape(input_shape, "input_shape", f"model {self.name!r}")
        self.input_shape = shape
        for layer in self.layers:
            shape = self._build_layer(layer, shape)
        self.output_shape = shape
        self.built = True

    def _build_layer(self, layer: Layer, input_shape: tuple) -> tuple:
        if layer is not self.layers[0] and layer.input_shape not in (None, input_shape):
            raise ArgumentError(f"layer {layer.name!r} was given input_shape={layer.input_shape} "
                                f"but the layer before it outputs {input_shape}")
        return layer.build(input_shape, self.rng, self.dtype)

    def _ensure_built(self, x: np.ndarray) -> None:
        if not self.built:
            self.build(x.shape[1:])

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """Every trainable array, layer by layer (updated in place by the optimizer)."""
        return [w for layer in self.layers for w in layer.params.values()]

    @property
    def gradients(self) -> list[np.ndarray]:
        """The gradients of ``trainable_weights`` from the last backward pass, same order."""
        return [g for layer in self.layers for g in layer.grads.values()]

    # -- compile, forward, backward --------------------------------------------------------------
    def compile(self, optimizer: str | optimizers.Optimizer = "rmsprop",
                loss: str | losses.Loss | None = None, metrics: list[str] | None = None) -> None:
        """Choose the optimizer, the loss and the metrics to report (Keras names)."""
        if loss is None:
            raise ArgumentError(f"compile needs a loss, e.g. loss='binary_crossentropy'; one of "
                                f"{', '.join(losses.names())}")
        if metrics is not None and (not isinstance(metrics, list | tuple)
                                    or not all(isinstance(name, str) for name in metrics)):
            raise ArgumentError(f"compile: metrics must be a list of metric names, e.g. "
                                f"metrics=['accuracy'], got {metrics!r}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.metric_names = list(metrics or [])
        self._metric_functions = [(name, _metric(name, self.loss)) for name in self.metric_names]

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Output for one batch: (N, *input_shape) -> (N, *output_shape)."""
        x = self._prepare_x(x)
        return self._forward(x, training)

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        # Inference returns new arrays, even when a callback or a loss runs it inside a step.
        with self._cores(), training_step_arrays(reusing_arrays() and training):
            for layer in self.layers:
                x = layer.forward(x, training)
        return x

    def _fuses_loss(self) -> bool:
        # sigmoid + binary cross-entropy (softmax + categorical) are differentiated together from
        # the logits: exact where p rounds to 0 or 1, and cheaper.
        return self.loss.fuses_with is not None \
            and self.loss.fuses_with == self.layers[-1].activation.name

    def compute_gradients(self, x, y) -> float:
        """Forward and backward on one batch: fills every layer's ``grads`` (``model.gradients``)
        and returns the loss (with regularization). The weights are not changed.

        ``x`` and ``y`` are taken as ``fit`` takes them. This is the first half of
        ``train_on_batch``; the second is ``optimizer.update(model.trainable_weights,
        model.gradients)``.

        >>> loss = model.compute_gradients(x_batch, y_batch)           # doctest: +SKIP
        >>> [grad.shape for grad in model.gradients]                    # doctest: +SKIP
        """
        return self._batch_gradients(*self._prepare_xy(x, y))

    def _batch_gradients(self, x: np.ndarray, y: np.ndarray) -> float:
        # compute_gradients on arrays already checked by _prepare_xy (the training loop's path).
        outputs = self._forward(x, training=True)
        layers = self.layers
        with self._cores():
            if self._fuses_loss():
                last = layers[-1]  # its pre-activation output holds the logits
                loss = self.loss.value_from_logits(y, last.pre_activation)
                grad = last.backward_from_pre_activation(
                    self.loss.gradient_from_logits(y, last.pre_activation),
                    need_input_grad=len(layers) > 1)
                layers = layers[:-1]
            else:
                loss = self.loss.value(y, outputs)
                grad = self.loss.gradient(y, outputs)
            _backward(layers, grad, need_input_grad=False)
        self._last_outputs = outputs
        return loss + sum(layer.regularization_loss() for layer in self.layers)

    # -- gradients with respect to inputs and activations (for explanations) ---------------------
    def input_gradient(self, x, output_gradient) -> np.ndarray:
        """Gradient of ``sum(model(x) * output_gradient)`` with respect to the input ``x``.

        Shapes: x ``(N, *input_shape)`` (images ``(N, H, W, C)``), output_gradient
        ``(N, *output_shape)`` -> ``(N, *input_shape)``. A one-hot ``output_gradient`` on class c
        gives ``d p_c / d x``, how each input value moves the probability of c (a saliency map).
        It runs the layers' own backward pass in inference mode (dropout off, batch normalization
        with its moving statistics). The layers' parameter gradients (``model.gradients``) are
        overwritten on the way; training is unaffected, since every step recomputes them.

        >>> grad = model.input_gradient(images, np.eye(10)[[3, 3]])   # two images, class 3
        """
        x = self._prepare_x(x)
        self._forward(x, training=False)
        with self._cores():
            return _backward(self.layers,
                             self._prepare_output_gradient(output_gradient, len(x)),
                             need_input_grad=True)

    def activations_and_gradient(self, x, layer: Layer | str, output_gradient
                                 ) -> tuple[np.ndarray, np.ndarray]:
        """One layer's outputs on ``x`` and the gradient of ``sum(model(x) * output_gradient)``
        with respect to them (what Grad-CAM weighs the channels of a convolution with).

        ``layer`` is one of the model's layers or its name. Shapes: x ``(N, *input_shape)``,
        output_gradient ``(N, *output_shape)`` -> activations and gradient, both
        ``(N, *layer.output_shape)``, e.g. ``(N, H', W', filters)`` for a ``Conv2D``. Inference
        mode and parameter gradients as in ``input_gradient``.

        >>> maps, grad = model.activations_and_gradient(images, "conv2d_1", np.eye(10)[[3, 3]])
        """
        x = self._prepare_x(x)
        index = self._layer_index(layer)
        self._forward(x, training=False)
        with self._cores():
            grad = _backward(self.layers[index + 1:],
                             self._prepare_output_gradient(output_gradient, len(x)),
                             need_input_grad=True)
        return self.layers[index].outputs, grad

    def _layer_index(self, layer: Layer | str) -> int:
        for index, own in enumerate(self.layers):
            if own is layer or own.name == layer:
                return index
        raise ArgumentError(f"{layer!r} is not a layer of model {self.name!r}; pass one of its "
                            f"layers or their names: {[own.name for own in self.layers]}")

    def _prepare_output_gradient(self, output_gradient, rows: int) -> np.ndarray:
        output_gradient = as_array(output_gradient, "output_gradient", self.dtype)
        expected = (rows, *self.output_shape)
        if output_gradient.shape != expected:
            raise ArgumentError(
                f"output_gradient must have the shape of the model's output "
                f"{expected} but has shape {output_gradient.shape}; e.g. "
                f"np.eye({self.output_shape[-1]})[classes] weighs one class per row")
        return output_gradient

    # -- training -------------------------------------------------------------------------------
    def train_on_batch(self, x, y) -> float:
        """One optimizer step on one batch; returns the batch loss (before the step)."""
        x, y = self._prepare_xy(x, y)
        return self._train_step(x, y, where="in train_on_batch")

    def _cores(self):
        """How this model's passes share the CPU's cores: a network without layers that split
        images across ildl's threads (convolution, pooling) lets BLAS's threads run its products
        (``ildl.nn.threads.products_on_blas_threads``)."""
        return threads.products_on_blas_threads(
            not any(layer.splits_images for layer in self.layers))

    def _train_step(self, x: np.ndarray, y: np.ndarray, where: str) -> float:
        # Nobody keeps a training step's arrays once the weights are updated: the layers may
        # write them into arrays they keep from step to step.
        with training_step_arrays():
            loss = self._batch_gradients(x, y)
            if not math.isfinite(loss):
                raise TrainingError(
                    f"the loss became {loss} {where}; training diverged. The weights are those "
                    f"from before this step. Try a lower learning rate (now "
                    f"{self.optimizer.learning_rate:g}), scale the inputs, or check the data"
                )
            self.optimizer.update(self.trainable_weights, self.gradients)
        return loss

    def fit(self, x, y, batch_size: int = 32, epochs: int = 1, verbose: int = 1,
            callbacks: list[Callback] | None = None, validation_split: float = 0.0,
            validation_data: tuple | None = None, shuffle: bool = True,
            initial_epoch: int = 0) -> History:
        """Train for ``epochs`` passes over the data in mini-batches of ``batch_size``.

        ``validation_data=(x_val, y_val)`` or ``validation_split`` (the last fraction of x, y, as
        Keras) adds ``val_loss`` and ``val_<metric>`` to the logs. ``verbose`` 0 is silent, 1 shows
        a progress bar, 2 one line per epoch. Returns the ``History``.
        """
        batch_size, epochs, initial_epoch = _check_fit_arguments(
            batch_size, epochs, verbose, callbacks, shuffle, initial_epoch)
        x, y = self._prepare_xy(x, y)
        x, y, validation = _split_validation(x, y, validation_split, validation_data)
        if validation is not None:
            validation = self._prepare_xy(*validation, names=("validation x", "validation y"))
        steps = math.ceil(len(x) / batch_size)
        history = History()
        callback_list = [history] + list(callbacks or [])
        if verbose:
            callback_list.append(ProgbarLogger(verbose, stream=sys.stdout))
        logged = ["loss", *self.metric_names]
        if validation is not None:
            logged += [f"val_{name}" for name in logged]
        self.fit_info = {"epochs": epochs, "steps": steps, "samples": len(x),
                         "initial_epoch": initial_epoch,
                         # what each epoch's logs will hold (callbacks check their names)
                         "metrics": expected_logs(logged, callback_list)}
        self.stop_training = False
        for callback in callback_list:
            callback.set_model(self)
            callback.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            for callback in callback_list:
                callback.on_epoch_begin(epoch, {})
            logs = self._run_epoch(x, y, batch_size, shuffle, epoch, callback_list)
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate_arrays(*validation).items()})
            self.epochs_trained = epoch + 1
            for callback in callback_list:
                callback.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for callback in callback_list:
            callback.on_train_end({})
        self.history = history
        return history

    def _run_epoch(self, x, y, batch_size, shuffle, epoch, callback_list) -> dict:
        # Shuffling picks each batch's rows from a permutation (x[rows] copies just the batch):
        # a shuffled copy of the whole set would be written to fresh memory every epoch, which
        # cost the MLP 0.15 ms a batch, mostly in page faults.
        order = self.rng.permutation(len(x)) if shuffle else None
        totals = dict.fromkeys(["loss"] + self.metric_names, 0.0)
        seen = 0
        for batch, start in enumerate(range(0, len(x), batch_size)):
            for callback in callback_list:
                callback.on_train_batch_begin(batch, {})
            rows = slice(start, start + batch_size)
            if shuffle:
                rows = order[rows]
            x_batch, y_batch = x[rows], y[rows]
            where = f"at epoch {epoch + 1}, batch {batch + 1}"
            totals["loss"] += self._train_step(x_batch, y_batch, where) * len(x_batch)
            for name, function in self._metric_functions:
                totals[name] += function(y_batch, self._last_outputs) * len(x_batch)
            seen += len(x_batch)
            logs = {name: total / seen for name, total in totals.items()}
            logs["samples"] = seen
            for callback in callback_list:
                callback.on_train_batch_end(batch, logs)
        return {name: total / seen for name, total in totals.items()}

    # -- inference ------------------------------------------------------------------------------
    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Outputs (probabilities for a sigmoid/softmax model) for every row of x, in batches."""
        check_integer(batch_size, "batch_size", "predict", minimum=1)
        return self._predict_arrays(self._prepare_x(x), batch_size)

    def _predict_arrays(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        # predict on an array already checked by _prepare_x (fit's validation, every epoch).
        outputs = [self._forward(x[start:start + batch_size], training=False)
                   for start in range(0, len(x), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0, *self.output_shape),
                                                               self.dtype)

    def evaluate(self, x, y, batch_size: int = 256) -> dict[str, float]:
        """Loss (with regularization, as in training) and metrics on (x, y), e.g.
        ``{"loss": 0.12, "accuracy": 0.96}``."""
        check_integer(batch_size, "batch_size", "evaluate", minimum=1)
        return self._evaluate_arrays(*self._prepare_xy(x, y), batch_size=batch_size)

    def _evaluate_arrays(self, x, y, batch_size: int = 256) -> dict[str, float]:
        outputs = self._predict_arrays(x, batch_size)
        results = {"loss": self.loss.value(y, outputs)
                   + sum(layer.regularization_loss() for layer in self.layers)}
        for name, function in self._metric_functions:
            results[name] = function(y, outputs)
        return results

    # -- input checks ---------------------------------------------------------------------------
    def _prepare_x(self, x, name: str = "x") -> np.ndarray:
        x = as_array(x, name, self.dtype)
        if x.ndim < 2:
            raise ArgumentError(f"{name} must be a batch of shape (N, features...) but has shape "
                                f"{x.shape}; for a single sample use x[None]")
        self._ensure_built(x)
        check_input_shape(x, self.input_shape, f"model {self.name!r} (first layer "
                                               f"{self.layers[0].name!r})")
        return x

    def _prepare_xy(self, x, y, names: tuple[str, str] = ("x", "y")
                    ) -> tuple[np.ndarray, np.ndarray]:
        if self.loss is None:
            raise UsageError("the model must be compiled before training or evaluation: call "
                             "model.compile(optimizer=..., loss=...) first")
        x = self._prepare_x(x, names[0])
        if len(x) == 0:
            raise DataError(f"{names[0]} has no samples (shape {x.shape}); fit, evaluate and "
                            "train_on_batch need at least one row: check the slice or filter "
                            f"that made {names[0]}")
        labels = isinstance(self.loss, losses.SparseCategoricalCrossentropy)  # they stay ints
        y = as_array(y, names[1], None if labels else self.dtype)
        check_same_length(x, y, names)
        return x, self.loss.check_targets(y, (len(x), *self.output_shape))

    # -- weights, summary, saving ----------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, layer by layer in Keras order (kernel, bias, ...)."""
        return [w.copy() for layer in self.layers for w in layer.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Overwrite all weights (same order and shapes as ``get_weights``)."""
        own = [w for layer in self.layers for w in layer.weights]
        if len(weights) != len(own):
            raise ArgumentError(f"set_weights got {len(weights)} arrays but the model has "
                                f"{len(own)} weights; pass what get_weights() returns")
        for index, (target, value) in enumerate(zip(own, weights)):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ArgumentError(
                    f"set_weights: weight {index} must have shape {target.shape} but "
                    f"got {value.shape}")
            target[...] = value  # in place: the optimizer keeps tracking the same arrays

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print) -> None:
        """Print a table of layers, output shapes and parameter counts."""
        rows = [(f"{layer.name} ({type(layer).__name__})",
                 str((None, *layer.output_shape)) if layer.built else "?",
                 f"{layer.count_params():,}") for layer in self.layers]
        header = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(r[i]) for r in rows + [header]) + 2 for i in range(3)]
        line = "".join(cell.ljust(width) for cell, width in zip(header, widths))
        rule = "-" * len(line)
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        print_fn(line)
        print_fn(rule)
        for row in rows:
            print_fn("".join(cell.ljust(width) for cell, width in zip(row, widths)))
        print_fn(rule)
        print_fn(f"Total params: {self.count_params():,}")

    def save(self, path: str) -> None:
        """Write architecture, weights, compile settings and optimizer state to ``path``
        (atomically; read it back with ``nn.load_model``)."""
        saving.save_model(self, path)


def load_model(path: str | os.PathLike) -> Sequential:
    """Rebuild a model saved with ``model.save(path)``: same layers, weights, compile settings and
    optimizer state, so ``fit`` continues exactly where it stopped. A damaged, edited or foreign
    file gives a ``ModelFileError`` that names it and says what is wrong (see ``saving``).

    >>> model = nn.load_model("moons.ildl")          # doctest: +SKIP
    """
    return saving.read_model(path, Sequential)


def _dtype_name(dtype) -> str | None:
    """``"float32"`` for "float32", np.float32 or np.dtype("float32"); None if not a dtype."""
    try:
        return str(np.dtype(dtype))
    except TypeError:  # "float23", 5...
        return None


def _backward(layers: list[Layer], grad: np.ndarray, need_input_grad: bool):
    """Push ``grad`` (the gradient w.r.t. the last layer's output) back through ``layers``, last
    first, filling their ``grads``; returns the gradient w.r.t. the first layer's input, or None
    when ``need_input_grad`` is False (training never needs it, so the first layer skips it)."""
    for index in range(len(layers) - 1, -1, -1):
        grad = layers[index].backward(grad, need_input_grad=need_input_grad or index > 0)
    return grad


def _metric(name: str, loss: losses.Loss):
    return metrics.get(name, loss.name)


def _check_fit_arguments(batch_size, epochs, verbose, callbacks, shuffle, initial_epoch
                         ) -> tuple[int, int, int]:
    """Refuse what ``fit`` cannot use before any work is done (bools count as ints in Python, so
    ``batch_size=True`` would otherwise mean 1); returns batch_size, epochs and initial_epoch."""
    batch_size = check_integer(batch_size, "batch_size", "fit", minimum=1)
    epochs = check_integer(epochs, "epochs", "fit", minimum=1)
    initial_epoch = check_integer(initial_epoch, "initial_epoch", "fit", minimum=0)
    if initial_epoch > epochs:
        raise ArgumentError(
            f"fit: initial_epoch={initial_epoch} is past epochs={epochs}; epochs is the number "
            f"of the last epoch, not a count (as in Keras): to train {epochs} more epochs pass "
            f"epochs={initial_epoch + epochs}")
    if not isinstance(verbose, int | np.integer) or verbose not in (0, 1, 2):
        raise ArgumentError(f"fit: verbose must be 0 (silent), 1 (progress bar) or 2 (one line "
                            f"per epoch), got {verbose!r}")
    check_flag(shuffle, "shuffle", "fit")
    if callbacks is not None and (not isinstance(callbacks, list | tuple) or not all(
            isinstance(callback, Callback) for callback in callbacks)):
        raise ArgumentError(f"fit: callbacks must be a list of nn.callbacks.Callback objects, "
                            f"e.g. [nn.callbacks.EarlyStopping()], got {callbacks!r}")
    return batch_size, epochs, initial_epoch


def _split_validation(x, y, validation_split, validation_data):
    """(x_train, y_train, validation or None): Keras takes the *last* fraction, before shuffling."""
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ArgumentError(f"fit: validation_data must be a tuple (x_val, y_val), got "
                                f"{type(validation_data).__name__}")
        return x, y, tuple(validation_data)
    check_number(validation_split, "validation_split", "fit", low=0, high=1, bounds="[)")
    if not validation_split:
        return x, y, None
    n_train = int(len(x) * (1 - validation_split))
    if n_train == 0 or n_train == len(x):
        raise ArgumentError(f"validation_split={validation_split} of {len(x)} samples leaves an "
                            "empty training or validation set")
    return x[:n_train], y[:n_train], (x[n_train:], y[n_train:])
