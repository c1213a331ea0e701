"""PyTorch twins of ildl models: the same weights in ``torch.nn`` modules, so that the moons
experiment and the speed benchmarks race from the same start (needs torch)."""

from __future__ import annotations

import numpy as np

from .. import nn


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
    if len(modules) != len(pairs):
        raise ValueError(f"{len(pairs)} ildl layers with weights, {len(modules)} torch modules")
    for (before, layer), module in zip(pairs, modules):
        kernel = layer.params["kernel"]
        if kernel.ndim == 4:
            weight = kernel.transpose(3, 2, 0, 1)
        elif isinstance(before, nn.Flatten) and len(before.input_shape) == 3:
            weight = kernel.reshape(*before.input_shape, -1).transpose(3, 2, 0, 1)
            weight = weight.reshape(len(weight), -1)
        else:
            weight = kernel.T
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            module.bias.copy_(torch.from_numpy(layer.params["bias"]))
