"""Optimizers: rules that turn gradients into weight updates.

The arithmetic is that of ``torch.optim`` (epsilon added after the square root, bias-corrected
Adam), with Keras names and defaults, so a model and its PyTorch twin stay equal step for step.

An optimizer updates any list of arrays in place from their gradients. It does not know about
models: the same object trains a network or walks a point across a 2-D loss surface::

    >>> point = np.array([1.0, -0.5])
    >>> opt = Adam(learning_rate=0.1)
    >>> for _ in range(100):
    ...     opt.update([point], [2 * point])     # gradient of x^2 + y^2
    >>> np.abs(point).max() < 0.05
    True

State (momenta, squared-gradient averages) is kept per position in the list, so pass the same
arrays in the same order every step; ``get_state``/``set_state`` save and restore it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from ..validation import check_flag, check_number
from .registry import Registry

# Elements updated at a time: the five arrays of an Adam update (weights, gradient, two moments,
# work space) then take about 1.3 MB, which fits in a core's L2 cache on current x86 CPUs.
_BLOCK = 1 << 16


class Optimizer:
    """Base class. Subclasses name their per-parameter state arrays in ``slot_names`` and implement
    ``_update_one(param, grad, slots, scratch)``."""

    name = "optimizer"
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float):
        self.learning_rate = check_number(learning_rate, "learning_rate", type(self).__name__,
                                          low=0, bounds="(]")
        self.iterations = 0  # steps taken so far (Adam's bias correction uses it)
        self.slots: dict[str, list[np.ndarray]] = {}
        self._shapes: list[tuple] | None = None
        self._scratch_arrays: dict[int, np.ndarray] = {}

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One step: change every array of ``params`` in place using its gradient in ``grads``."""
        self._check_or_create_slots(params, grads)
        self.iterations += 1
        for index, (param, grad) in enumerate(zip(params, grads)):
            slots = {name: arrays[index] for name, arrays in self.slots.items()}
            scratch = self._scratch(index, param)
            if param.size <= _BLOCK or not (param.flags.c_contiguous and grad.flags.c_contiguous):
                self._update_one(param, grad, slots, scratch)
                continue
            # Large parameters go block by block: the dozen passes of an update then run on
            # data that stays in the CPU cache (flat views, so the parameter itself changes).
            # One thread does them all: shared out among ildl's threads the blocks took longer
            # (the CNN's Adam step: 0.91 ms on two threads, 0.82 ms on one), because each block's
            # dozen short passes hand the GIL back and forth between the threads.
            flat_param, flat_grad, flat_scratch = (array.reshape(-1)
                                                   for array in (param, grad, scratch))
            flat_slots = {name: slot.reshape(-1) for name, slot in slots.items()}
            for start in range(0, param.size, _BLOCK):
                block = slice(start, start + _BLOCK)
                self._update_one(flat_param[block], flat_grad[block],
                                 {name: slot[block] for name, slot in flat_slots.items()},
                                 flat_scratch[block])

    def _update_one(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                    scratch: np.ndarray) -> None:
        """Update ``param`` in place; ``slots`` are its state arrays, ``scratch`` free work space.

        An update touches every weight about a dozen times, so on big layers its speed is set by
        memory traffic: the formulas are written with ``out=`` to allocate no temporary arrays.
        """
        raise NotImplementedError

    def _initial_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.zeros_like(param)

    def _scratch(self, index: int, param: np.ndarray) -> np.ndarray:
        """A reusable work array shaped like parameter ``index`` (not state: never saved)."""
        if index not in self._scratch_arrays:
            self._scratch_arrays[index] = np.empty_like(param)
        return self._scratch_arrays[index]

    def _check_or_create_slots(self, params, grads) -> None:
        if len(params) != len(grads):
            raise ArgumentError(f"{type(self).__name__}.update got {len(params)} parameters but "
                                f"{len(grads)} gradients; pass one gradient per parameter")
        shapes = [p.shape for p in params]
        for index, (param, grad) in enumerate(zip(params, grads)):
            if param.shape != grad.shape:
                raise ArgumentError(f"{type(self).__name__}.update: parameter {index} has shape "
                                    f"{param.shape} but its gradient has shape {grad.shape}")
        if self._shapes is None:
            self._shapes = shapes
            self.slots = {name: [self._initial_slot(name, p) for p in params]
                          for name in self.slot_names}
        elif shapes != self._shapes:
            raise ArgumentError(
                f"{type(self).__name__} was first used on parameters of shapes {self._shapes} and "
                f"now gets {shapes}; an optimizer keeps state per parameter, so use a new "
                "optimizer for a different model"
            )

    def get_config(self) -> dict:
        """Constructor arguments, JSON-ready: ``type(opt)(**opt.get_config())`` is a fresh twin."""
        return {"learning_rate": self.learning_rate}

    def get_state(self) -> dict[str, np.ndarray]:
        """All state as named arrays (``"m/0"`` is slot m of parameter 0), for saving."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for name, arrays in self.slots.items():
            for index, array in enumerate(arrays):
                state[f"{name}/{index}"] = array
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what ``get_state`` returned (the arrays are copied)."""
        self.iterations = int(state["iterations"])
        count = len([key for key in state if key.startswith(f"{self.slot_names[0]}/")]) \
            if self.slot_names else 0
        self.slots = {name: [np.array(state[f"{name}/{i}"]) for i in range(count)]
                      for name in self.slot_names}
        self._shapes = [a.shape for a in self.slots[self.slot_names[0]]] if count else None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent ``w -= lr * g``, optionally with momentum (heavy ball) or Nesterov momentum.

    With momentum ``mu`` (PyTorch form): ``v = mu v + g`` (``v = g`` on the first step), then
    ``w -= lr * v``, or ``w -= lr * (g + mu v)`` with ``nesterov=True``.
    """

    name = "sgd"
    slot_names = ("momentum",)

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum = check_number(momentum, "momentum", "SGD", low=0, high=1, bounds="[)")
        self.nesterov = check_flag(nesterov, "nesterov", "SGD")
        if self.nesterov and self.momentum == 0:
            raise ArgumentError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        if self.momentum == 0:
            self.slot_names = ()

    def _update_one(self, param, grad, slots, scratch):
        if self.momentum == 0:
            np.multiply(grad, self.learning_rate, out=scratch)
            param -= scratch
            return
        velocity = slots["momentum"]
        if self.iterations == 1:
            velocity[...] = grad
        else:
            velocity *= self.momentum
            velocity += grad
        if self.nesterov:  # step = g + mu v
            np.multiply(velocity, self.momentum, out=scratch)
            scratch += grad
        else:
            scratch[...] = velocity
        scratch *= self.learning_rate
        param -= scratch

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of recent gradients.

    ``s = rho s + (1 - rho) g^2``;  ``w -= lr * g / (sqrt(s) + eps)``. With ``momentum`` the scaled
    step is accumulated as in SGD. (PyTorch calls ``rho`` alpha.)
    """

    name = "rmsprop"
    slot_names = ("square_avg", "momentum")

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7,
                 momentum: float = 0.0):
        super().__init__(learning_rate)
        self.rho = check_number(rho, "rho", "RMSprop", low=0, high=1, bounds="[)")
        self.epsilon = check_number(epsilon, "epsilon", "RMSprop", low=0)
        self.momentum = check_number(momentum, "momentum", "RMSprop", low=0, high=1, bounds="[)")
        if self.momentum == 0:
            self.slot_names = ("square_avg",)

    def _update_one(self, param, grad, slots, scratch):
        square_avg = slots["square_avg"]
        np.square(grad, out=scratch)  # s = rho s + (1 - rho) g^2
        scratch *= 1 - self.rho
        square_avg *= self.rho
        square_avg += scratch
        np.sqrt(square_avg, out=scratch)  # scaled gradient g / (sqrt(s) + eps)
        scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        if self.momentum:
            velocity = slots["momentum"]
            velocity *= self.momentum
            velocity += scratch
            scratch[...] = velocity
        scratch *= self.learning_rate
        param -= scratch

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon,
                "momentum": self.momentum}


class Adam(Optimizer):
    """Momentum plus RMSprop, bias-corrected for the zero start of both averages.

    ``m = b1 m + (1 - b1) g``;  ``v = b2 v + (1 - b2) g^2``;
    ``w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``  (step t = 1, 2, ...).
    ``amsgrad=True`` uses the running maximum of ``v``.
    """

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False):
        super().__init__(learning_rate)
        where = type(self).__name__
        self.beta_1 = check_number(beta_1, "beta_1", where, low=0, high=1, bounds="[)")
        self.beta_2 = check_number(beta_2, "beta_2", where, low=0, high=1, bounds="[)")
        self.epsilon = check_number(epsilon, "epsilon", where, low=0)
        self.amsgrad = check_flag(amsgrad, "amsgrad", where)
        if self.amsgrad:
            self.slot_names = ("m", "v", "v_max")

    def _update_one(self, param, grad, slots, scratch):
        m, v = slots["m"], slots["v"]
        np.subtract(grad, m, out=scratch)  # m += (1 - b1) (g - m), the form of torch's lerp
        scratch *= 1 - self.beta_1
        m += scratch
        np.square(grad, out=scratch)  # v = b2 v + (1 - b2) g^2 (square: twice as fast as g * g)
        scratch *= 1 - self.beta_2
        v *= self.beta_2
        v += scratch
        if self.amsgrad:
            np.maximum(slots["v_max"], v, out=slots["v_max"])
            v = slots["v_max"]
        step = self.iterations
        bias_correction_2 = math.sqrt(1 - self.beta_2**step)
        # lr / (1 - b1^t) * m / (sqrt(v) / c + eps) with c = sqrt(1 - b2^t), computed as
        # (lr c / (1 - b1^t)) * m / (sqrt(v) + eps c): one pass over the weights fewer.
        np.sqrt(v, out=scratch)
        scratch += self.epsilon * bias_correction_2
        np.divide(m, scratch, out=scratch)
        scratch *= self.learning_rate * bias_correction_2 / (1 - self.beta_1**step)
        param -= scratch

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w -= lr * weight_decay * w`` before the Adam step
    (Loshchilov & Hutter), instead of an L2 term whose gradient Adam would rescale."""

    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad)
        self.weight_decay = check_number(weight_decay, "weight_decay", "AdamW", low=0)

    def _update_one(self, param, grad, slots, scratch):
        param *= 1 - self.learning_rate * self.weight_decay
        super()._update_one(param, grad, slots, scratch)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


class Adagrad(Optimizer):
    """Per-weight learning rates that shrink with the sum of all past squared gradients.

    ``s += g^2``;  ``w -= lr * g / (sqrt(s) + eps)``; ``s`` starts at ``initial_accumulator_value``.
    """

    name = "adagrad"
    slot_names = ("accumulator",)

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = check_number(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", low=0)
        self.epsilon = check_number(epsilon, "epsilon", "Adagrad", low=0)

    def _initial_slot(self, name, param):
        return np.full_like(param, self.initial_accumulator_value)

    def _update_one(self, param, grad, slots, scratch):
        accumulator = slots["accumulator"]
        np.square(grad, out=scratch)
        accumulator += scratch
        np.sqrt(accumulator, out=scratch)  # w -= lr g / (sqrt(s) + eps)
        scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        scratch *= self.learning_rate
        param -= scratch

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_REGISTRY = Registry("optimizer", Optimizer, [SGD, RMSprop, Adam, AdamW, Adagrad])
names = _REGISTRY.names
get = _REGISTRY.get
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize
