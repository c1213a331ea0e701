"""The ``Layer``: the one building block every network in ildl.nn is made of.

A layer owns its parameters (``params``, e.g. ``{"kernel": ..., "bias": ...}``) and their gradients
(``grads``, same names and shapes), and knows two things: how to compute its output from its input
(``call``) and how to turn the gradient of the loss with respect to that output into gradients with
respect to its input and its parameters (``call_backward``). Everything else is done here, for
every layer alike: the activation of ``Dense(8, activation="relu")`` is applied by ``forward`` and
differentiated by ``backward``, and the gradients of the weight penalties (``kernel_regularizer``)
are added to ``grads`` after every ``call_backward``, whichever way the backward pass enters.

To write a layer: subclass, create parameters in ``build`` with ``add_weight`` (a ``regularizer``
given there is then part of the loss and its gradient), implement ``call`` and ``call_backward``
next to each other, and list constructor arguments in ``get_config``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from ...errors import ArgumentError
from ...validation import check_shape
from .. import activations, initializers, regularizers

# True inside ``training_step_arrays`` (per thread: two models may train in two threads).
_reusing_workspaces = contextvars.ContextVar("ildl_reusing_workspaces", default=False)


@contextlib.contextmanager
def training_step_arrays(enabled: bool = True):
    """``with training_step_arrays():`` layers write their forward and backward results into
    arrays they keep between steps (``Layer.workspace``) instead of new ones;
    ``training_step_arrays(False)`` turns that off again inside.

    ``Sequential`` enters it for one training step, whose arrays nobody needs once the weights
    are updated, and turns it off for inference. So ``model(x, training=True)`` (Monte Carlo
    dropout), ``predict`` and the explanations return new arrays, while a layer's ``outputs``
    and ``pre_activation`` after a training step are its kept arrays, valid until the next step
    (a callback that keeps them copies them).
    """
    token = _reusing_workspaces.set(enabled)
    try:
        yield
    finally:
        _reusing_workspaces.reset(token)


def reusing_arrays() -> bool:
    """Whether layers write into their kept arrays now (inside ``training_step_arrays``)."""
    return _reusing_workspaces.get()


class Layer:
    """Base class of all layers.

    Shapes: ``forward`` maps a batch ``(N, *input_shape)`` to ``(N, *output_shape)``; ``backward``
    maps a gradient shaped like the output to one shaped like the input.
    """

    # True for layers that split whole images across ildl.nn's own threads (convolution,
    # pooling); a model without any lets BLAS's threads run its products (ildl.nn.threads).
    splits_images = False

    def __init__(self, activation: str | activations.ActivationFunction | None = None,
                 input_shape: tuple | None = None, name: str | None = None):
        where = type(self).__name__
        self.activation = activations.get(activation)
        self.input_shape = None if input_shape is None else check_shape(input_shape,
                                                                         "input_shape", where)
        if name is not None and not (isinstance(name, str) and name):
            raise ArgumentError(f"{where}: name must be a non-empty string, got {name!r}")
        self.name = name or type(self).__name__.lower()
        self.params: dict[str, np.ndarray] = {}  # trainable weights, Keras order
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}  # non-trainable weights (e.g. moving averages)
        self.regularizers: dict[str, regularizers.Regularizer] = {}
        self.built = False
        self.dtype = np.dtype("float32")
        self.output_shape: tuple | None = None
        self.pre_activation: np.ndarray | None = None  # last output before the activation
        self.outputs: np.ndarray | None = None  # last output after the activation
        self.rng: np.random.Generator | None = None  # random layers draw from it (set by build)
        self._workspaces: dict[str, np.ndarray] = {}

    # -- construction -----------------------------------------------------------------------
    def build(self, input_shape: tuple, rng: np.random.Generator, dtype: np.dtype) -> tuple:
        """Create the parameters for inputs of ``input_shape`` (without the batch axis); return the
        output shape. Subclasses with weights extend this and call ``add_weight``."""
        self.input_shape = tuple(input_shape)
        self.dtype = np.dtype(dtype)
        self.rng = rng
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def add_weight(self, name: str, shape: tuple,
                   initializer: str | initializers.Initializer, rng: np.random.Generator,
                   regularizer: regularizers.Regularizer | None = None,
                   trainable: bool = True) -> np.ndarray:
        """Create a parameter (and its zero gradient) drawn from an initializer; a
        ``regularizer``'s penalty joins the loss and its gradient the parameter's gradient."""
        shape = tuple(shape)
        try:
            value = initializers.get(initializer)(shape, rng).astype(self.dtype)
        # NumPy's words for "not free" and "beyond any array", and float's for a fan beyond it
        except (MemoryError, ValueError, OverflowError):
            raise ArgumentError(
                f"{type(self).__name__} {self.name!r}: its weight {name!r} of shape {shape} "
                f"({math.prod(shape):,} values) does not fit in memory; use fewer units or "
                "filters, or a smaller input") from None
        if trainable:
            self.params[name] = value
            self.grads[name] = np.zeros_like(value)
            if regularizer is not None:
                self.regularizers[name] = regularizer
        else:
            self.state[name] = value
        return value

    # -- the computation ----------------------------------------------------------------------
    def call(self, inputs: np.ndarray, training: bool) -> np.ndarray:
        """The layer's own computation, before its activation: (N, *in) -> (N, *out)."""
        raise NotImplementedError

    def call_backward(self, grad_pre_activation: np.ndarray, need_input_grad: bool = True):
        """From dL/d(pre-activation output) fill ``self.grads`` with the gradients of ``call``'s
        own arithmetic and return dL/d(input) (None when ``need_input_grad`` is False: the first
        layer's input gradient is never used). Penalties are not its business: see ``backward``."""
        raise NotImplementedError

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Output of the layer for a batch, remembering what ``backward`` needs."""
        self.pre_activation = self.call(inputs, training)
        pre = self.pre_activation
        out = self.workspace("outputs", pre.shape, pre.dtype) \
            if self.activation.writes_out else None
        self.outputs = self.activation(pre, out=out)
        return self.outputs

    def backward(self, grad_output: np.ndarray, need_input_grad: bool = True):
        """Gradient w.r.t. the input from the gradient w.r.t. the output of the last ``forward``;
        fills ``grads``, penalties included."""
        grad_pre_activation = grad_output
        if not isinstance(self.activation, activations.Linear):  # else nothing to do
            grad_pre_activation = self.activation.backward(
                self.pre_activation, self.outputs, grad_output, out=self.workspace(
                    "grad_pre_activation", grad_output.shape,
                    np.result_type(grad_output, self.outputs)))
        return self.backward_from_pre_activation(grad_pre_activation, need_input_grad)

    def backward_from_pre_activation(self, grad_pre_activation: np.ndarray,
                                     need_input_grad: bool = True):
        """``backward`` from dL/d(pre-activation) directly, skipping the activation: a loss fused
        with the output's softmax or sigmoid computes that gradient itself. Fills ``grads`` with
        ``call_backward``'s gradients plus those of the penalties."""
        grad_input = self.call_backward(grad_pre_activation, need_input_grad)
        self.add_regularization_gradients()
        return grad_input

    def workspace(self, name: str, shape: tuple, dtype) -> np.ndarray | None:
        """An array of ``shape`` for ``name`` that this layer keeps between training steps, or
        None outside one (``training_step_arrays``), where results must be new arrays.

        A training step needs arrays of the same shapes every batch. Taken fresh from the
        allocator, their memory went back to the system and was faulted in again each step
        (the moons network: ~100 page faults, a quarter of its step). The array is kept as
        large as the largest batch seen, and a smaller batch (an epoch's last) gets its first
        rows, so batch sizes can alternate without new arrays.
        """
        if not reusing_arrays():
            return None
        shape = tuple(shape)
        array = self._workspaces.get(name)
        if array is None or array.shape[1:] != shape[1:] or array.dtype != dtype \
                or len(array) < shape[0]:
            array = self._workspaces[name] = np.empty(shape, dtype)
        return array[:shape[0]]

    # -- regularization -------------------------------------------------------------------------
    def regularization_loss(self) -> float:
        """Sum of the penalties on this layer's weights (added to the training loss)."""
        return sum(reg.penalty(self.params[name]) for name, reg in self.regularizers.items())

    def add_regularization_gradients(self) -> None:
        """Add d(penalty)/dw to each regularized weight's gradient (``backward`` calls it)."""
        for name, regularizer in self.regularizers.items():
            self.grads[name] += regularizer.gradient(self.params[name])

    # -- weights and config ---------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """Trainable then non-trainable weights, Keras order (what ``get_weights`` returns)."""
        return list(self.params.values()) + list(self.state.values())

    def weight_names(self) -> list[str]:
        return list(self.params) + list(self.state)

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def get_config(self) -> dict:
        """Constructor arguments as plain JSON types: ``type(layer)(**config)`` rebuilds it."""
        config = {"name": self.name}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        if not isinstance(self.activation, activations.Linear):
            config["activation"] = activations.serialize(self.activation)
        return config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
