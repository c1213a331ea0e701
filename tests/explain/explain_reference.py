"""Models for the ildl.explain tests: a small ildl.nn CNN and its PyTorch twin (same weights), a
small PyTorch CNN of its own, and a linear-softmax predict function.

Nothing here imports ildl.explain: the references the tests compare with are captum, lime, shap
and loops written in the tests.
"""

from __future__ import annotations

import numpy as np

from ildl import nn

IMAGE_SHAPE = (12, 12, 3)
CLASSES = 4


def ildl_cnn(seed=0, activation="relu"):
    """Conv2D(6, 3) -> MaxPooling2D(2) -> Conv2D(8, 3) -> Flatten -> Dense(4, softmax), float64.
    Feature maps: (10, 10, 6) -> (5, 5, 6) -> (3, 3, 8)."""
    return nn.Sequential([
        nn.Conv2D(6, 3, activation=activation, input_shape=IMAGE_SHAPE),
        nn.MaxPooling2D(2),
        nn.Conv2D(8, 3, activation=activation),
        nn.Flatten(),
        nn.Dense(CLASSES, activation="softmax"),
    ], seed=seed, dtype="float64")


def torch_twin(torch, model):
    """``ildl_cnn``'s network as a torch.nn.Sequential on NCHW images with the same weights.

    Index 3 is the ReLU after the second convolution: ildl's Conv2D output includes its
    activation. ildl flattens (h, w, c); torch flattens (c, h, w), so the Dense kernel's rows are
    reordered to match."""
    first, _, second, _, dense = model.layers
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(3 * 3 * 8, CLASSES), torch.nn.Softmax(dim=1)).double()
    rows_chw = dense.params["kernel"].reshape(3, 3, 8, CLASSES).transpose(2, 0, 1, 3)
    with torch.no_grad():
        for conv, layer in ((twin[0], first), (twin[3], second)):
            conv.weight.copy_(torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1)))
            conv.bias.copy_(torch.tensor(layer.params["bias"]))
        twin[6].weight.copy_(torch.tensor(rows_chw.reshape(-1, CLASSES).T))
        twin[6].bias.copy_(torch.tensor(dense.params["bias"]))
    return twin


def torch_cnn(torch, seed=0, dtype=None):
    """A torch-only CNN: padded convolutions, max pooling, global average pooling, softmax.
    Feature maps (NCHW): (5, 12, 12) -> (5, 6, 6) -> (6, 6, 6) -> (6,)."""
    torch.manual_seed(seed)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(5, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(6, CLASSES), torch.nn.Softmax(dim=1))
    return module.to(dtype or torch.float64)


def linear_softmax(shape=IMAGE_SHAPE, classes=CLASSES, seed=0, scale=3.0):
    """A predict function images (N, H, W, C) -> softmax(flattened images @ W), row by row
    independent (so results never depend on how images are batched)."""
    weights = np.random.default_rng(seed).normal(size=(int(np.prod(shape)), classes))
    weights *= scale / np.sqrt(len(weights))

    def predict(images):
        logits = np.asarray(images).reshape(len(images), -1) @ weights
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    return predict


def nchw(torch, image, dtype=None):
    """One HWC image -> a (1, C, H, W) tensor."""
    return torch.tensor(np.ascontiguousarray(image.transpose(2, 0, 1))[None],
                        dtype=dtype or torch.float64)
