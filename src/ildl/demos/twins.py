"""PyTorch twins of ildl models: the same weights in ``torch.nn`` modules, so that the moons
experiment and the speed benchmarks race from the same start (needs torch)."""

from __future__ import annotations

import numpy as np

from .. import nn
from ..errors import ArgumentError


def copy_weights_to_torch(model, torch_model) -> None:
    """Copy the weights of ildl's ``model`` into the matching ``Linear`` and ``Conv2d`` modules of
    ``torch_model``, in order. Keras/ildl kernels are (in, out), torch weights (out, in); conv
    kernels (kh, kw, C, F) become (F, C, kh, kw); a ``Dense`` after ``Flatten`` of (H, W, C) maps
    has its rows reordered to (C, H, W), the order in which torch flattens NCHW maps.

    >>> twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),   # doctest: +SKIP
    ...                            torch.nn.Linear(3, 1))
    >>> copy_weights_to_torch(model, twin)   # model: Dense(3, "relu"), Dense(1)  # doctest: +SKIP
    """
    import torch

    modules = [module for module in torch_model.modules()
               if isinstance(module, torch.nn.Linear | torch.nn.Conv2d)]
    pairs = [(before, layer) for before, layer in zip([None, *model.layers], model.layers)
             if layer.params]
    for _, layer in pairs:
        if not isinstance(layer, nn.Dense | nn.Conv2D):
            raise ArgumentError(
                f"copy_weights_to_torch copies models whose layers with weights are Dense and "
                f"Conv2D, but {model.name!r} has {type(layer).__name__} {layer.name!r}; copy "
                "that layer's weights into its torch module yourself")
    if len(modules) != len(pairs):
        raise ArgumentError(
            f"copy_weights_to_torch: the ildl model has {len(pairs)} Dense/Conv2D layer(s) but "
            f"the torch model has {len(modules)} Linear/Conv2d module(s); build the twin with "
            "one module per Dense or Conv2D layer, in the same order")
    for (before, layer), module in zip(pairs, modules):
        kernel = layer.params["kernel"]
        if kernel.ndim == 4:
            weight = kernel.transpose(3, 2, 0, 1)
        elif isinstance(before, nn.Flatten) and len(before.input_shape) == 3:
            weight = kernel.reshape(*before.input_shape, -1).transpose(3, 2, 0, 1)
            weight = weight.reshape(len(weight), -1)
        else:
            weight = kernel.T
        if tuple(module.weight.shape) != weight.shape or (module.bias is None) == layer.use_bias:
            raise ArgumentError(
                f"copy_weights_to_torch: {type(layer).__name__} {layer.name!r} (torch weight "
                f"shape {weight.shape}, bias {layer.use_bias}) does not match {module} (weight "
                f"{tuple(module.weight.shape)}, bias {module.bias is not None}); give the twin's "
                "module the layer's sizes and bias")
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            if layer.use_bias:
                module.bias.copy_(torch.from_numpy(layer.params["bias"]))
