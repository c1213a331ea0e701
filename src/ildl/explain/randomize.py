"""The model randomisation test of Adebayo et al. (2018) needs the same network with everything it
learned thrown away: ``randomized_copy`` re-initialises every layer of a copy, as if training had
never happened. The model itself is left untouched."""

from __future__ import annotations

import copy
import math
import sys

from ..errors import ArgumentError
from ..nn import Sequential


def randomized_copy(model, seed: int = 0):
    """A copy of ``model`` (an ildl.nn ``Sequential`` or a ``torch.nn.Module``) with freshly
    initialised weights, drawn with ``seed``.

    - ildl: the same layers rebuilt from their configs, so each weight is drawn from the layer's
      own initializer (Glorot or He kernels, zero biases, batch-norm statistics reset);
    - torch (TorchScript too): every parameter of a layer with a kernel of 2 or more dimensions
      (``Linear``, ``Conv2d``) is drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, torch's own
      default for those layers; normalisation scales and shifts keep their values.

    >>> untrained = randomized_copy(model, seed=1)
    >>> untrained.predict(images)            # same shapes, no knowledge
    """
    if isinstance(model, Sequential):
        return _randomized_sequential(model, seed)
    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    if torch is not None and isinstance(model, torch.nn.Module):
        return _randomized_module(torch, model, seed)
    raise ArgumentError(f"randomized_copy needs an ildl.nn Sequential or a torch.nn.Module whose "
                        f"weights it can redraw, but got {type(model).__name__}; a bare predict "
                        f"function has no weights to randomise")


def _randomized_sequential(model: Sequential, seed: int) -> Sequential:
    layers = [type(layer)(**layer.get_config()) for layer in model.layers]
    fresh = Sequential(layers, seed=seed, dtype=str(model.dtype), name=f"{model.name}_randomized")
    if model.built and not fresh.built:  # the first layer was not given its input shape
        fresh.build(model.input_shape)
    return fresh


def _randomized_module(torch, module, seed: int):
    fresh = _deep_copy(module)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in fresh.modules():
            parameters = dict(layer.named_parameters(recurse=False))
            kernel = parameters.get("weight")
            if kernel is None or kernel.dim() < 2:
                continue
            bound = 1 / math.sqrt(kernel[0].numel())  # fan_in: inputs x kernel positions
            for parameter in parameters.values():
                draw = torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype)
                parameter.copy_((2 * draw - 1) * bound)
    return fresh


def _deep_copy(module):
    """A copy of a torch module whose parameters are leaves, as in the original. A deep copy of a
    TorchScript module records the copying in autograd, which would leave it with parameters
    that are results of an operation (and warn when shap resets their gradients)."""
    fresh = copy.deepcopy(module)
    for parameter in fresh.parameters():
        trainable = parameter.requires_grad
        parameter.detach_().requires_grad_(trainable)
    return fresh
