"""The network a configuration describes, as ildl.nn layers, optimizer and loss.

The layers are first written down as plain specs, ``("Dense", {"units": 8, ...})``: the session
builds the model from them and the exported script prints them, so both hold the same network.

Output layer and loss per problem: binary -> 1 sigmoid unit and binary cross-entropy; multiclass
-> one softmax unit per class and (sparse) categorical cross-entropy; regression -> 1 linear unit
and the mean squared error. Both cross-entropies are differentiated from the logits (ildl.nn fuses
them with their activation).
"""

from __future__ import annotations

from .. import nn
from .config import Config

# config.optimizer -> (ildl.nn optimizer class, extra arguments)
OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "adam": ("Adam", {}),
    "rmsprop": ("RMSprop", {}),
}
# problem -> (output activation, loss, metrics)
HEADS = {
    "binary": ("sigmoid", "binary_crossentropy", ["accuracy"]),
    "multiclass": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
    "regression": ("linear", "mse", []),
}
REGULARIZERS = {"l1": "L1", "l2": "L2"}


def layer_specs(config: Config, inputs: int, outputs: int) -> list[tuple[str, dict]]:
    """``[(layer class name, keyword arguments), ...]``: each hidden Dense (and a Dropout after
    it when ``config.dropout`` > 0), then the output Dense. A regularizer is written
    ``("L2", rate)``; the first layer carries ``input_shape``."""
    regularizer = None if config.regularization == "none" else \
        (REGULARIZERS[config.regularization], config.regularization_rate)
    dense_layers = [*config.hidden, (outputs, HEADS[config.problem][0])]
    specs = []
    for index, (units, activation) in enumerate(dense_layers):
        arguments = {"units": units, "activation": activation}
        if regularizer is not None:
            arguments["kernel_regularizer"] = regularizer
        if index == 0:
            arguments["input_shape"] = (inputs,)
        specs.append(("Dense", arguments))
        if config.dropout and index < len(config.hidden):
            specs.append(("Dropout", {"rate": config.dropout}))
    return specs


def optimizer_spec(config: Config) -> tuple[str, dict]:
    """``("Adam", {"learning_rate": 0.03})`` and the like."""
    name, extra = OPTIMIZERS[config.optimizer]
    return name, {"learning_rate": config.learning_rate, **extra}


def build_model(config: Config, inputs: int, outputs: int) -> nn.Sequential:
    """The compiled model: ``inputs`` features in, ``outputs`` units out, initialised from
    ``config.seed``."""
    layers = [_layer(name, arguments) for name, arguments in layer_specs(config, inputs, outputs)]
    model = nn.Sequential(layers, seed=config.seed)
    optimizer, arguments = optimizer_spec(config)
    _, loss, metrics = HEADS[config.problem]
    model.compile(optimizer=getattr(nn.optimizers, optimizer)(**arguments), loss=loss,
                  metrics=metrics)
    return model


def _layer(name: str, arguments: dict) -> nn.Layer:
    arguments = dict(arguments)
    if "kernel_regularizer" in arguments:
        regularizer, rate = arguments["kernel_regularizer"]
        arguments["kernel_regularizer"] = getattr(nn.regularizers, regularizer)(rate)
    return getattr(nn, name)(**arguments)
