"""The Python script that rebuilds and trains the page's network with ildl.nn.

The script is written from the same specs the session builds from (``dataset_call``,
``layer_specs``, ``optimizer_spec``, ``features_code``), so running it gives the very weights the
page shows after the same number of epochs (a test runs it and compares). It saves the model as
``playground.ildl`` next to itself.
"""

from __future__ import annotations

from .config import UPLOADED, Config
from .datasets import dataset_call, held_out_fraction
from .features import FEATURES, features_code
from .network import HEADS, layer_specs, optimizer_spec
from .session import Session

MODEL_FILE = "playground.ildl"


def python_code(session: Session, page_address: str = "http://127.0.0.1:8000/") -> str:
    """A runnable script that trains ``session``'s configuration for as many epochs as the
    session has trained; its docstring links the page's settings at ``page_address``."""
    config = session.config
    epochs = session.model.epochs_trained
    specs = layer_specs(config, len(config.features), session.model.output_shape[-1])
    optimizer, optimizer_arguments = optimizer_spec(config)
    _, loss, metrics = HEADS[config.problem]
    y_shape = "" if config.problem == "multiclass" else ".reshape(-1, 1)"
    labels = ", ".join(FEATURES[name].label for name in config.features)
    lines = [
        f'"""A network trained in the ildl playground ({_problem_text(config)}), rebuilt and',
        f"trained again with ildl.nn: {epochs} epochs give the weights the page showed.",
        "",
        f"The page's settings: {page_address}?{config.to_query()}",
        '"""',
        "",
        "import numpy as np",
        "",
        "from ildl import nn",
        *_data_lines(config, session),
        "",
        "",
        "def features(x):",
        f'    """The network\'s inputs ({labels}) from the points x of shape (N, 2)."""',
        f"    return {features_code(config.features)}",
        "",
        "",
        "model = nn.Sequential([",
        *[f"    {_layer_code(name, arguments)}," for name, arguments in specs],
        f"], seed={config.seed})",
        f"model.compile(optimizer=nn.optimizers.{optimizer}({_arguments(optimizer_arguments)}),",
        f"              loss={loss!r}, metrics={metrics!r})",
        f"model.fit(features(x_train), y_train{y_shape}, batch_size={config.batch_size}, "
        f"epochs={epochs}, verbose=0)" if epochs else "# not trained yet: fit(..., epochs=N)",
        f"print(model.evaluate(features(x_test), y_test{y_shape}))",
        f"model.save({MODEL_FILE!r})",
        "",
    ]
    return "\n".join(lines)


def _problem_text(config: Config) -> str:
    data = "your CSV" if config.dataset == UPLOADED else config.dataset
    return f"{config.problem}, {data}"


def _data_lines(config: Config, session: Session) -> list[str]:
    split = f"test_size={held_out_fraction(config)!r}, random_state={config.data_seed}"
    if config.dataset == UPLOADED:
        uploaded = session.uploaded
        label_type = "float" if config.problem == "regression" else "int"
        return [
            "from ildl.data import train_test_split",
            "",
            f"# Your file, as uploaded: x1,x2,{'target' if label_type == 'float' else 'label'}",
            f"data = np.loadtxt({uploaded.name!r}, delimiter=',', "
            f"skiprows={int(uploaded.has_header)}, ndmin=2)",
            f"x, y = data[:, :2], data[:, 2].astype({label_type})",
            f"x_train, x_test, y_train, y_test = train_test_split(x, y, {split})",
        ]
    call = dataset_call(config)
    imports = [f"from ildl.data import {call.function}, train_test_split"] \
        if call.module == "ildl.data" else ["from ildl.data import train_test_split",
                                            f"from {call.module} import {call.function}"]
    return [
        *imports,
        "",
        f"x, y = {call.function}({config.points}, {_arguments(call.arguments)})",
        f"x_train, x_test, y_train, y_test = train_test_split(x, y, {split})",
    ]


def _layer_code(name: str, arguments: dict) -> str:
    arguments = dict(arguments)
    positional = repr(arguments.pop("units" if name == "Dense" else "rate"))
    if "kernel_regularizer" in arguments:
        regularizer, rate = arguments["kernel_regularizer"]
        arguments["kernel_regularizer"] = _Code(f"nn.regularizers.{regularizer}({rate!r})")
    rest = _arguments(arguments)
    return f"nn.{name}({positional}{', ' + rest if rest else ''})"


def _arguments(arguments: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())


class _Code(str):
    """Text that ``repr`` writes as is (a call inside the arguments)."""

    def __repr__(self) -> str:
        return str(self)
