"""The ``Layer``: the one building block every network in ildl.nn is made of.

A layer owns its parameters (``params``, e.g. ``{"kernel": ..., "bias": ...}``) and their gradients
(``grads``, same names and shapes), and knows two things: how to compute its output from its input
(``call``) and how to turn the gradient of the loss with respect to its output into gradients with
respect to its input and its parameters (``call_backward``). Layers that end in an activation
(``Dense(8, activation="relu")``) get it applied by ``forward``/``backward`` here, so each layer
writes only its own arithmetic.

To write a layer: subclass, create parameters in ``build`` with ``add_weight``, implement ``call``
and ``call_backward`` next to each other, and list constructor arguments in ``get_config``.
"""

from __future__ import annotations

import numpy as np

from .. import activations, initializers, regularizers


class Layer:
    """Base class of all layers.

    Shapes: ``forward`` maps a batch ``(N, *input_shape)`` to ``(N, *output_shape)``; ``backward``
    maps a gradient shaped like the output to one shaped like the input.
    """

    def __init__(self, activation: str | activations.ActivationFunction | None = None,
                 input_shape: tuple | None = None, name: str | None = None):
        self.activation = activations.get(activation)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.name = name or type(self).__name__.lower()
        self.params: dict[str, np.ndarray] = {}  # trainable weights, Keras order
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}  # non-trainable weights (e.g. moving averages)
        self.regularizers: dict[str, regularizers.Regularizer] = {}
        self.built = False
        self.dtype = np.dtype("float32")
        self.output_shape: tuple | None = None
        self.logits: np.ndarray | None = None  # last output before the activation
        self.outputs: np.ndarray | None = None  # last output after the activation
        self.rng: np.random.Generator | None = None  # random layers draw from it (set by build)

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

    def add_weight(self, name: str, shape: tuple, initializer: str, rng: np.random.Generator,
                   regularizer: regularizers.Regularizer | None = None,
                   trainable: bool = True) -> np.ndarray:
        """Create a parameter (and its zero gradient) drawn from a named initializer."""
        value = initializers.get(initializer)(tuple(shape), rng).astype(self.dtype)
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

    def call_backward(self, grad_logits: np.ndarray, need_input_grad: bool = True):
        """From dL/d(pre-activation output) fill ``self.grads`` and return dL/d(input)
        (None when ``need_input_grad`` is False: the first layer's input gradient is never used)."""
        raise NotImplementedError

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Output of the layer for a batch, remembering what ``backward`` needs."""
        self.logits = self.call(inputs, training)
        self.outputs = self.activation(self.logits)
        return self.outputs

    def backward(self, grad_output: np.ndarray, need_input_grad: bool = True):
        """Gradient w.r.t. the input from the gradient w.r.t. the output of the last ``forward``."""
        grad_logits = self.activation.backward(self.logits, self.outputs, grad_output)
        return self.call_backward(grad_logits, need_input_grad)

    # -- regularization -------------------------------------------------------------------------
    def regularization_loss(self) -> float:
        """Sum of the penalties on this layer's weights (added to the training loss)."""
        return sum(reg.penalty(self.params[name]) for name, reg in self.regularizers.items())

    def add_regularization_gradients(self) -> None:
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
