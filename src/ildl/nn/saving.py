"""Save and load models without pickle.

A model file is a ZIP archive of ``.npy`` arrays (NumPy's ``.npz``): the weights, the optimizer
state, and one entry ``ildl.json`` holding the architecture, compile settings and a SHA-256 digest
of everything else. Loading reads arrays with ``allow_pickle=False`` and rebuilds layers from a
fixed table of classes, so a file can never run code; a truncated, foreign or edited file is
refused with a ``ModelFileError`` that says which.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np

from ..atomic import write_atomically
from ..errors import ModelFileError
from . import losses, optimizers
from .layers import LAYER_CLASSES

FORMAT = "ildl-model"
VERSION = 1
_HEADER = "ildl.json"


def _digest(header: dict, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the header (without its digest) and every array's name, dtype, shape, bytes."""
    hasher = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        hasher.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()


def _model_arrays(model) -> dict[str, np.ndarray]:
    arrays = {}
    for index, layer in enumerate(model.layers):
        for name, weight in zip(layer.weight_names(), layer.weights):
            arrays[f"layer/{index}/{name}"] = weight
    if model.optimizer is not None:
        for key, value in model.optimizer.get_state().items():
            arrays[f"optimizer/{key}"] = value
    return arrays


def _header(model) -> dict:
    compiled = None
    if model.loss is not None:
        compiled = {"optimizer": {"name": model.optimizer.name,
                                  "config": model.optimizer.get_config()},
                    "loss": model.loss.name, "metrics": model.metric_names}
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": {"name": model.name, "seed": model.seed, "dtype": str(model.dtype),
                  "input_shape": list(model.input_shape) if model.built else None,
                  "layers": [{"class": type(layer).__name__, "config": layer.get_config()}
                             for layer in model.layers]},
        "compile": compiled,
        "epochs_trained": model.epochs_trained,
        # The generator's position, so shuffling and dropout continue as if never interrupted.
        "rng_state": model.rng.bit_generator.state,
    }


def save_model(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically: a temporary file in the same folder is renamed over
    ``path`` only once complete, so an interrupted save leaves the previous file intact."""
    path = os.fspath(path)
    arrays = _model_arrays(model)
    header = _header(model)
    header["sha256"] = _digest(header, arrays)
    entries = {name: np.asarray(a, order="C") for name, a in arrays.items()}
    entries[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    write_atomically(path, lambda file: np.savez(file, **entries))


def _read_archive(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    if not os.path.exists(path):
        raise ModelFileError(f"no model file at {path!r}")
    try:
        with open(path, "rb") as file:
            content = file.read()
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            names = list(archive.files)
            if _HEADER not in names:
                raise ModelFileError(f"{path!r} is not an ildl model file (no {_HEADER} entry; it "
                                     f"holds {names[:5]}); save models with model.save()")
            arrays = {name: archive[name] for name in names}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as error:
        reason = f"{type(error).__name__}: {error}"
        raise ModelFileError(f"{path!r} is not a readable ildl model file: it is truncated, "
                             f"damaged or of another format ({reason})") from None
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path!r}: the {_HEADER} entry is not valid JSON ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not an ildl model file (format "
                             f"{header.get('format') if isinstance(header, dict) else header!r})")
    if header.get("version") != VERSION:
        raise ModelFileError(f"{path!r} has model-file version {header.get('version')}; this ildl "
                             f"reads version {VERSION}")
    expected = header.pop("sha256", None)
    if expected != _digest(header, arrays):
        raise ModelFileError(f"{path!r} has been modified or corrupted since it was saved: its "
                             "content does not match the SHA-256 digest recorded in it")
    return header, arrays


def load_model(path: str | os.PathLike):
    """Rebuild a model saved with ``model.save(path)``: same layers, weights, compile settings and
    optimizer state, so ``fit`` continues exactly where it stopped.

    >>> model = nn.load_model("moons.ildl")          # doctest: +SKIP
    """
    from .model import Sequential

    path = os.fspath(path)
    header, arrays = _read_archive(path)
    spec = header["model"]
    layers = []
    for entry in spec["layers"]:
        cls = LAYER_CLASSES.get(entry["class"])
        if cls is None:
            raise ModelFileError(f"{path!r} uses layer class {entry['class']!r}, which this ildl "
                                 f"does not have ({', '.join(sorted(LAYER_CLASSES))})")
        layers.append(cls(**entry["config"]))
    model = Sequential(layers, seed=spec["seed"], dtype=spec["dtype"], name=spec["name"])
    if spec["input_shape"] is not None and not model.built:
        model.build(tuple(spec["input_shape"]))
    for index, layer in enumerate(model.layers):
        for name, weight in zip(layer.weight_names(), layer.weights):
            weight[...] = arrays[f"layer/{index}/{name}"]
    if header["compile"] is not None:
        compiled = header["compile"]
        optimizer = optimizers.deserialize(compiled["optimizer"]["name"],
                                           compiled["optimizer"]["config"])
        model.compile(optimizer, losses.get(compiled["loss"]), compiled["metrics"])
        prefix = "optimizer/"
        state = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if state:
            optimizer.set_state(state)
    model.epochs_trained = int(header["epochs_trained"])
    model.rng.bit_generator.state = header["rng_state"]
    return model
