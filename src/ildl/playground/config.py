"""A playground configuration: everything that decides what is trained, checked, and its URL form.

The page never builds a URL itself: it sends its controls as JSON (``Config.from_dict``), the
server answers with the checked configuration and its query string (``to_query``), and a shared
URL comes back through ``Config.from_query``. So one function here decides what a valid
configuration is, and ``from_query(to_query(c)) == c`` for every valid ``c`` (tested).

URL form (short keys, so a shared link stays readable)::

    ?problem=binary&dataset=spiral&classes=2&noise=0.1&points=500&ratio=0.5&dseed=0
     &features=x1,x2&layers=8-tanh,8-tanh&dropout=0&reg=none&regrate=0.001
     &opt=adam&lr=0.03&batch=10&seed=0
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode

from ..errors import ArgumentError
from ..validation import check_integer, check_number, did_you_mean
from .features import FEATURES

PROBLEMS = ("binary", "multiclass", "regression")
CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION_DATASETS = ("plane", "bumps")
UPLOADED = "csv"  # the dataset name of the user's own CSV (its rows are not part of the URL)
# Datasets that can hold more than two classes (the others are two shapes by nature).
MULTICLASS_DATASETS = ("gauss", "spiral")
# Every activation of ildl.nn, without aliases ("silu" is "swish").
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "elu", "sigmoid", "softplus", "swish", "gelu",
               "linear", "softmax")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
REGULARIZATIONS = ("none", "l1", "l2")

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 32
MAX_CLASSES = 6
MIN_POINTS, MAX_POINTS = 20, 2000
MAX_SEED = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Config:
    """One playground setting. ``hidden`` holds ``(units, activation)`` per hidden layer."""

    problem: str = "binary"
    dataset: str = "circle"
    classes: int = 2
    noise: float = 0.1
    points: int = 500
    train_ratio: float = 0.5
    data_seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[tuple[int, str], ...] = ((8, "tanh"), (8, "tanh"))
    dropout: float = 0.0
    regularization: str = "none"
    regularization_rate: float = 0.001
    optimizer: str = "adam"
    learning_rate: float = 0.03
    batch_size: int = 10
    seed: int = 0

    def __post_init__(self):
        _check(self)

    # -- the JSON form the page sends -------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict) -> Config:
        """A checked configuration from the page's JSON (unknown keys are refused)."""
        if not isinstance(values, dict):
            raise ArgumentError(f"the configuration must be a JSON object, got "
                                f"{type(values).__name__}")
        names = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ArgumentError(f"unknown setting {unknown[0]!r}"
                                f"{did_you_mean(unknown[0], names)}; settings: {', '.join(names)}")
        values = dict(values)
        if "features" in values:
            values["features"] = _as_tuple(values["features"], "features")
        if "hidden" in values:
            values["hidden"] = tuple(_hidden_layer(layer) for layer in
                                     _as_tuple(values["hidden"], "hidden"))
        return cls(**values)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["features"] = list(self.features)
        values["hidden"] = [list(layer) for layer in self.hidden]
        return values

    # -- the URL form -----------------------------------------------------------------------------
    def to_query(self) -> str:
        """The query string (without ``?``) that ``from_query`` turns back into this config."""
        fields = {
            "problem": self.problem, "dataset": self.dataset, "classes": self.classes,
            "noise": _number(self.noise), "points": self.points,
            "ratio": _number(self.train_ratio), "dseed": self.data_seed,
            "features": ",".join(self.features),
            "layers": ",".join(f"{units}-{activation}" for units, activation in self.hidden),
            "dropout": _number(self.dropout), "reg": self.regularization,
            "regrate": _number(self.regularization_rate), "opt": self.optimizer,
            "lr": _number(self.learning_rate), "batch": self.batch_size, "seed": self.seed,
        }
        return urlencode(fields, safe=",")

    @classmethod
    def from_query(cls, query: str) -> Config:
        """The configuration a shared URL's query string names; keys it lacks keep their default,
        a wrong value or an unknown key raises ``ArgumentError`` saying which."""
        values = {}
        for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            if key not in _QUERY_KEYS:
                raise ArgumentError(f"unknown URL setting {key!r}"
                                    f"{did_you_mean(key, _QUERY_KEYS)}")
            name, parse = _QUERY_KEYS[key]
            values[name] = parse(text, key)
        return cls(**values)


# -- checks ---------------------------------------------------------------------------------------

def datasets_for(problem: str) -> tuple[str, ...]:
    """The built-in datasets of a problem (the uploaded CSV comes on top)."""
    return REGRESSION_DATASETS if problem == "regression" else CLASSIFICATION_DATASETS


def choices() -> dict:
    """What the page's controls offer, and their limits (so the page never hard-codes them)."""
    return {
        "problems": list(PROBLEMS),
        "datasets": {problem: list(datasets_for(problem)) for problem in PROBLEMS},
        "multiclass_datasets": list(MULTICLASS_DATASETS),
        "features": {name: feature.label for name, feature in FEATURES.items()},
        "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
        "regularizations": list(REGULARIZATIONS), "max_hidden_layers": MAX_HIDDEN_LAYERS,
        "max_units": MAX_UNITS, "max_classes": MAX_CLASSES,
        "points": [MIN_POINTS, MAX_POINTS],
    }


def _check(config: Config) -> None:
    where = "playground"
    _check_choice(config.problem, PROBLEMS, "problem")
    _check_choice(config.dataset, datasets_for(config.problem) + (UPLOADED,),
                  f"dataset for a {config.problem} problem")
    check_integer(config.classes, "classes", where, minimum=2)
    if config.classes > MAX_CLASSES:
        raise ArgumentError(f"{where}: classes must be at most {MAX_CLASSES}, got "
                            f"{config.classes}")
    check_number(config.noise, "noise", where, low=0, high=1)
    _check_count(config.points, "points", MIN_POINTS, MAX_POINTS)
    check_number(config.train_ratio, "train_ratio", where, low=0.1, high=0.9)
    _check_count(config.data_seed, "data_seed", 0, MAX_SEED)
    _check_count(config.seed, "seed", 0, MAX_SEED)
    for feature in config.features:
        _check_choice(feature, tuple(FEATURES), "feature")
    if not config.features or len(set(config.features)) != len(config.features):
        raise ArgumentError(f"{where}: choose one or more different features of "
                            f"{', '.join(FEATURES)}, got {list(config.features)}")
    if len(config.hidden) > MAX_HIDDEN_LAYERS:
        raise ArgumentError(f"{where}: at most {MAX_HIDDEN_LAYERS} hidden layers, got "
                            f"{len(config.hidden)}")
    for units, activation in config.hidden:
        _check_count(units, "units of a hidden layer", 1, MAX_UNITS)
        _check_choice(activation, ACTIVATIONS, "activation")
    check_number(config.dropout, "dropout", where, low=0, high=0.9)
    _check_choice(config.regularization, REGULARIZATIONS, "regularization")
    check_number(config.regularization_rate, "regularization_rate", where, low=0, high=1)
    _check_choice(config.optimizer, OPTIMIZERS, "optimizer")
    check_number(config.learning_rate, "learning_rate", where, low=1e-6, high=10)
    _check_count(config.batch_size, "batch_size", 1, MAX_POINTS * 5)


def _check_choice(value, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise ArgumentError(f"playground: unknown {name} {value!r}{hint}; choose from "
                            f"{', '.join(choices)}")


def _check_count(value, name: str, low: int, high: int) -> None:
    check_integer(value, name, "playground", minimum=low)
    if value > high:
        raise ArgumentError(f"playground: {name} must be at most {high}, got {value}")


def _as_tuple(value, name: str) -> tuple:
    if not isinstance(value, list | tuple):
        raise ArgumentError(f"playground: {name} must be a list, got {type(value).__name__}")
    return tuple(value)


def _hidden_layer(layer) -> tuple[int, str]:
    if not isinstance(layer, list | tuple) or len(layer) != 2:
        raise ArgumentError(f"playground: a hidden layer is [units, activation], e.g. "
                            f"[8, 'tanh'], got {layer!r}")
    return layer[0], layer[1]


# -- the URL's text -------------------------------------------------------------------------------

def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0")  # repr: the shortest text that reads back exactly


def _parse_int(text: str, key: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise ArgumentError(f"URL setting {key}={text!r} must be a whole number")
    return int(text)


def _parse_float(text: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"URL setting {key}={text!r} must be a number") from None
    return value


def _parse_text(text: str, key: str) -> str:
    return text


def _parse_names(text: str, key: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _parse_layers(text: str, key: str) -> tuple[tuple[int, str], ...]:
    layers = []
    for item in text.split(",") if text else []:
        units, _, activation = item.partition("-")
        if not activation:
            raise ArgumentError(f"URL setting layers: {item!r} must be units-activation, "
                                "e.g. 8-tanh")
        layers.append((_parse_int(units, key), activation))
    return tuple(layers)


_QUERY_KEYS = {
    "problem": ("problem", _parse_text), "dataset": ("dataset", _parse_text),
    "classes": ("classes", _parse_int), "noise": ("noise", _parse_float),
    "points": ("points", _parse_int), "ratio": ("train_ratio", _parse_float),
    "dseed": ("data_seed", _parse_int), "features": ("features", _parse_names),
    "layers": ("hidden", _parse_layers), "dropout": ("dropout", _parse_float),
    "reg": ("regularization", _parse_text), "regrate": ("regularization_rate", _parse_float),
    "opt": ("optimizer", _parse_text), "lr": ("learning_rate", _parse_float),
    "batch": ("batch_size", _parse_int), "seed": ("seed", _parse_int),
}
