"""The model randomisation test of Adebayo et al. (2018) needs the same network with what it
learned thrown away. ``randomized_copy`` re-initialises every layer of a copy, as if training had
never happened; ``cascading_randomization`` does it layer by layer from the output down, so that
one can watch a heat map lose (or keep) its shape as more of the network is forgotten. The model
itself is left untouched: both work on a copy.

>>> untrained = randomized_copy(model, seed=1)
>>> for layers, partly_random in cascading_randomization(module):
...     print(layers[-1], explain(partly_random, image, target).heatmap.std())
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Iterator, Sequence

from ..errors import ArgumentError
from ..nn import Sequential

# Child modules that only hold other layers in order: the cascade opens them (EfficientNet's
# ``blocks``), so each block is one step down the network.
CONTAINERS = ("Sequential", "ModuleList")


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
    torch = _torch_of(model, "randomized_copy needs an ildl.nn Sequential or a torch.nn.Module")
    fresh = _deep_copy(model)
    _redraw(torch, fresh.modules(), torch.Generator().manual_seed(seed))
    return fresh


def layers_top_down(module) -> list[str]:
    """The names of a torch module's layers from the output down to the input: its children in
    reverse order of registration (the order ``forward`` uses them in, by convention), a
    ``Sequential`` or ``ModuleList`` child opened into its own children, and only layers that
    hold a kernel (a convolution or a linear layer inside them: what the randomisation redraws;
    a lone normalisation layer keeps its values, so it is not listed).

    >>> layers_top_down(EfficientNetLite0())
    ['classifier', 'head', 'blocks.15', 'blocks.14', ..., 'blocks.0', 'stem']
    """
    _torch_of(module, "layers_top_down needs a torch.nn.Module")
    names = []
    for name, child in module.named_children():
        if _kind(child) in CONTAINERS:
            names += [f"{name}.{inner}" for inner, _ in child.named_children()]
        else:
            names.append(name)
    modules = dict(module.named_modules())
    return [name for name in reversed(names)
            if any(_kernel(layer) is not None for layer in modules[name].modules())]


def cascade_counts(layers: int) -> list[int]:
    """How many layers the cascade has randomised after each of its steps: 1, 2, 4, 8, ...,
    and finally all ``layers``. A few steps, fine near the output where a network's knowledge
    of the classes lives, coarse further down.

    >>> cascade_counts(19)
    [1, 2, 4, 8, 16, 19]
    """
    if not isinstance(layers, int) or layers < 1:
        raise ArgumentError(f"the cascade needs at least one layer with a kernel (a "
                            f"convolution or a linear layer), got {layers!r}")
    counts, count = [], 1
    while count < layers:
        counts.append(count)
        count *= 2
    return counts + [layers]


def cascading_randomization(module, seed: int = 0, counts: Sequence[int] | None = None
                            ) -> Iterator[tuple[list[str], object]]:
    """Adebayo et al.'s cascading randomisation: yields ``(names, copy)`` after each step, where
    ``names`` are the layers randomised so far, from the top (``layers_top_down``), and ``copy``
    is a copy of ``module`` with exactly those layers re-initialised as ``randomized_copy``
    does. Cumulative: step k keeps the random weights of step k - 1 and randomises the next
    layers down, to ``counts[k]`` layers in all (default ``cascade_counts``).

    One copy is randomised further at every step, so use it before asking for the next;
    ``module`` itself never changes.

    >>> [names[-1] for names, _ in cascading_randomization(EfficientNetLite0())]
    ['classifier', 'head', 'blocks.14', 'blocks.10', 'blocks.2', 'stem']
    """
    torch = _torch_of(module, "cascading_randomization needs a torch.nn.Module")
    order = layers_top_down(module)
    counts = cascade_counts(len(order)) if counts is None else list(counts)
    if not counts or counts != sorted(set(counts)) or counts[0] < 1 or counts[-1] > len(order):
        raise ArgumentError(f"counts must increase from 1 to at most {len(order)} (the layers of "
                            f"{type(module).__name__} with a kernel), got {counts!r}")
    fresh = _deep_copy(module)
    layers = dict(fresh.named_modules())
    generator = torch.Generator().manual_seed(seed)
    done = 0
    for count in counts:
        for name in order[done:count]:
            _redraw(torch, layers[name].modules(), generator)
        done = count
        yield order[:count], fresh


def _torch_of(model, needs: str):
    """torch, when ``model`` is a torch module; else the refusal ``needs`` (what was expected)."""
    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    if torch is None or not isinstance(model, torch.nn.Module):
        raise ArgumentError(f"{needs} whose weights it can redraw, but got "
                            f"{type(model).__name__}; a bare predict function has no weights to "
                            f"randomise")
    return torch


def _kind(module) -> str:
    """A module's class name, also for a TorchScript module (which keeps it as original_name)."""
    return getattr(module, "original_name", type(module).__name__)


def _randomized_sequential(model: Sequential, seed: int) -> Sequential:
    layers = [type(layer)(**layer.get_config()) for layer in model.layers]
    fresh = Sequential(layers, seed=seed, dtype=str(model.dtype), name=f"{model.name}_randomized")
    if model.built and not fresh.built:  # the first layer was not given its input shape
        fresh.build(model.input_shape)
    return fresh


def _redraw(torch, layers, generator) -> None:
    """Draw in place every parameter of each of ``layers`` that has a kernel of 2 or more
    dimensions from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    with torch.no_grad():
        for layer in layers:
            kernel = _kernel(layer)
            if kernel is None:
                continue
            bound = 1 / math.sqrt(kernel[0].numel())  # fan_in: inputs x kernel positions
            for parameter in layer.parameters(recurse=False):
                draw = torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype)
                parameter.copy_((2 * draw - 1) * bound)


def _kernel(layer):
    """The layer's own ``weight`` when it has 2 or more dimensions (``Linear``, ``Conv2d``), else
    None (a normalisation's scale, a container)."""
    weight = dict(layer.named_parameters(recurse=False)).get("weight")
    return weight if weight is not None and weight.dim() >= 2 else None


def _deep_copy(module):
    """A copy of a torch module whose parameters are leaves, as in the original. A deep copy of a
    TorchScript module records the copying in autograd, which would leave it with parameters
    that are results of an operation (and warn when shap resets their gradients)."""
    fresh = copy.deepcopy(module)
    for parameter in fresh.parameters():
        trainable = parameter.requires_grad
        parameter.detach_().requires_grad_(trainable)
    return fresh
