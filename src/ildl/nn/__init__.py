"""ildl.nn: neural networks in plain NumPy with the Keras API and PyTorch arithmetic.

>>> from ildl import nn
>>> model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(2,)),
...                        nn.Dense(1, activation="sigmoid")], seed=0)
>>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
"""

from ..errors import ModelFileError
from . import (
    activations,
    callbacks,
    convolution,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    MaxPooling2D,
    Reshape,
)
from .model import Sequential, load_model

__all__ = [
    "Activation", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout",
    "Flatten", "GlobalAveragePooling2D", "GradcheckError", "Layer", "MaxPooling2D",
    "ModelFileError", "Reshape", "Sequential", "activations", "callbacks", "convolution",
    "gradcheck", "initializers", "load_model", "losses", "metrics", "numerical_gradient",
    "optimizers", "regularizers",
]
