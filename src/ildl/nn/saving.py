"""Save and load models without pickle.

A model file is a ZIP archive of uncompressed ``.npy`` arrays (what ``np.savez`` writes): the
weights, the optimizer state, and one entry ``ildl.json`` holding the architecture, compile
settings and a SHA-256 digest of everything else. Loading trusts nothing in the file and checks,
in this order, before it allocates more memory than the file's own size:

1. the archive: uncompressed members whose sizes add up within the file (so no zip bomb), no
   encrypted or duplicate members;
2. every array's declared dtype and shape against the bytes its member holds (so a 3 kB file
   cannot ask for a terabyte), and no Python objects (they would need pickle);
3. the header: at most ``MAX_HEADER_BYTES`` of JSON nested at most ``MAX_HEADER_NESTING`` deep;
4. the digest, so an edited or damaged file is refused;
5. the rebuilt model: layers from a fixed table of classes and the same constructors as the API,
   each weight's shape as the architecture needs it, finite values.

Every failure is a ``ModelFileError`` naming the file and what is wrong with it.

Format versions: version 1 saved regularizers as bare ``{"l1": ..., "l2": ...}`` dicts and
initializers and the loss as plain names; version 2 saves every named object as
``{"name": ..., "config": {...}}`` (see ``registry.py``). Version 1 files are upgraded on loading.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import zipfile

import numpy as np

from ..atomic import write_atomically
from ..errors import ArgumentError, IldlError, ModelFileError
from . import losses, optimizers
from .layers import LAYER_CLASSES

FORMAT = "ildl-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_HEADER_BYTES = 4 << 20  # a 1 000-layer model needs well under 1 MiB
MAX_HEADER_NESTING = 32  # ildl writes 6 levels; json would recurse without limit
_HEADER = "ildl.json"
_NPY = ".npy"  # np.savez adds it to every entry's name
# Flag bits that np.savez's zipfile sets: sizes after the data (0x08), UTF-8 names (0x800).
# Any other (encryption, patches) marks a member that ildl never writes.
_PLAIN_FLAGS = 0x08 | 0x800


def _digest(header: dict, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the header (without its digest) and every array's name, dtype, shape, bytes."""
    hasher = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        hasher.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()


# -- saving ---------------------------------------------------------------------------------------

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
        compiled = {"optimizer": optimizers.serialize(model.optimizer),
                    "loss": losses.serialize(model.loss), "metrics": model.metric_names}
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


def _file_path(path, caller: str) -> str:
    """``path`` (a str or os.PathLike) as a string; anything else is refused, naming ``caller``."""
    try:
        return os.fspath(path)
    except TypeError:
        raise ArgumentError(f"{caller} needs a file path such as 'model.ildl', got "
                            f"{type(path).__name__} {path!r}") from None


def _check_savable(model, path) -> str:
    """The path as a string; refuses what ``load_model`` could not read back, before any write."""
    path = _file_path(path, "model.save")
    if os.path.isdir(path):
        raise ArgumentError(f"model.save: {path!r} is a folder; give a file name such as "
                            f"{os.path.join(path, 'model.ildl')!r}")
    _check_savable_layers(model)
    return path


def _check_savable_layers(model) -> None:
    """Refuse a layer that ``load_model`` could not rebuild."""
    for layer in model.layers:
        if LAYER_CLASSES.get(type(layer).__name__) is not type(layer):
            raise ArgumentError(
                f"model.save: layer {layer.name!r} is a {type(layer).__name__}, which "
                f"nn.load_model could not rebuild (it knows {', '.join(sorted(LAYER_CLASSES))}); "
                "keep its weights with model.get_weights() and np.savez instead")


def save_model(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically: a temporary file in the same folder is renamed over
    ``path`` only once complete, so an interrupted save leaves the previous file intact."""
    path = _check_savable(model, path)
    write_atomically(path, lambda file: _write_model(model, file))


def model_bytes(model) -> bytes:
    """The content of ``model``'s file, made in memory (a download sends it without touching the
    disk); ``load_model`` reads it back once written to a file."""
    _check_savable_layers(model)
    buffer = io.BytesIO()
    _write_model(model, buffer)
    return buffer.getvalue()


def _write_model(model, file) -> None:
    """The archive (arrays, then the header with its digest) into an open binary ``file``."""
    arrays = _model_arrays(model)
    header = _header(model)
    header["sha256"] = _digest(header, arrays)
    entries = {name: np.asarray(a, order="C") for name, a in arrays.items()}
    entries[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(file, **entries)


# -- reading the archive ------------------------------------------------------------------------

def _damaged(path: str, error: Exception) -> ModelFileError:
    return ModelFileError(f"{path!r} is not a readable ildl model file: it is truncated, damaged "
                          f"or of another format ({type(error).__name__}: {error})")


def _checked_members(path: str, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by entry name (without ``.npy``), once their sizes, flags and
    compression are what ``np.savez`` writes."""
    names = [info.filename for info in infos]
    if _HEADER + _NPY not in names:
        raise ModelFileError(f"{path!r} is not an ildl model file (no {_HEADER} entry; it holds "
                             f"{names[:5]}); save models with model.save()")
    members = {}
    for info in infos:
        name = info.filename
        if not name.endswith(_NPY) or name[:-len(_NPY)] in members:
            problem = "a second member" if name.endswith(_NPY) else "a member"
            raise ModelFileError(f"{path!r} holds {problem} {name!r}, which model.save never "
                                 "writes; the file was edited or made by another program")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & ~_PLAIN_FLAGS:
            raise ModelFileError(
                f"{path!r}: member {name!r} is compressed or encrypted (method "
                f"{info.compress_type}, flags {info.flag_bits:#x}) but ildl model files store "
                "arrays uncompressed, as model.save writes them")
        if info.file_size != info.compress_size:
            raise ModelFileError(f"{path!r}: member {name!r} declares {info.file_size} bytes but "
                                 f"stores {info.compress_size}; the file is damaged")
        members[name[:-len(_NPY)]] = info
    return members


def _check_sizes(path: str, members: dict[str, zipfile.ZipInfo]) -> None:
    """Members cannot hold more than the file: overlapping members (a zip bomb) would."""
    declared = sum(info.file_size for info in members.values())
    on_disk = os.path.getsize(path)
    if declared > on_disk:
        raise ModelFileError(f"{path!r}: its members declare {declared:,} bytes in all, more than "
                             f"the file's own {on_disk:,} bytes (overlapping or forged members); "
                             "the file was not written by model.save")
    header_size = members[_HEADER].file_size
    if header_size > MAX_HEADER_BYTES:
        raise ModelFileError(f"{path!r}: its {_HEADER} entry has {header_size:,} bytes; model "
                             f"headers have at most {MAX_HEADER_BYTES:,}")


def _read_members(path: str) -> dict[str, bytes]:
    """Every member's bytes, after the checks above (so at most the file's size is read)."""
    try:
        with open(path, "rb") as file:
            if file.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX:
                raise ModelFileError(f"{path!r} is a single NumPy array (.npy), not an ildl model "
                                     "file; read it with np.load, save models with model.save()")
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                members = _checked_members(path, archive.infolist())
                _check_sizes(path, members)
                return {name: archive.read(info) for name, info in members.items()}
    except ModelFileError:
        raise
    # What zipfile and the file system raise for damaged archives (a bad CRC, a truncated
    # member, a forged offset), and for members it cannot read despite the checks above.
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as error:
        raise _damaged(path, error) from None


def _parse_npy(path: str, name: str, content: bytes) -> np.ndarray:
    """The array in one ``.npy`` member, a view of ``content`` (nothing else is allocated)."""
    stream = io.BytesIO(content)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(stream)
    except (ValueError, TypeError) as error:  # NumPy's words for a malformed .npy header
        raise ModelFileError(f"{path!r}: entry {name!r} is not a valid .npy array ({error}); the "
                             "file is damaged") from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ModelFileError(f"{path!r}: entry {name!r} holds {dtype} values, but model files hold "
                             "only numbers (Python objects would need pickle)")
    count = math.prod(shape)
    expected = count * dtype.itemsize
    held = len(content) - stream.tell()
    if min(shape, default=0) < 0 or expected != held:
        raise ModelFileError(f"{path!r}: entry {name!r} declares an array of shape {shape} and "
                             f"dtype {dtype} ({expected:,} bytes) but holds {held:,} bytes; the "
                             "file is damaged or forged")
    flat = np.frombuffer(content, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _nesting_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in JSON ``text`` (strings skipped), without recursion."""
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    steps = np.frombuffer(outside_strings.encode(), dtype=np.uint8)
    change = np.isin(steps, (ord("["), ord("{"))).astype(np.int64) \
        - np.isin(steps, (ord("]"), ord("}")))
    return int(np.cumsum(change).max(initial=0))


def _parse_header(path: str, entry: np.ndarray) -> dict:
    if entry.dtype != np.uint8 or entry.ndim != 1:
        raise ModelFileError(f"{path!r}: the {_HEADER} entry is not JSON text (an array of "
                             f"{entry.dtype}, shape {entry.shape}); the file is damaged")
    try:
        text = entry.tobytes().decode()
    except UnicodeDecodeError as error:
        raise ModelFileError(f"{path!r}: the {_HEADER} entry is not valid JSON ({error})") \
            from None
    if _nesting_depth(text) > MAX_HEADER_NESTING:
        raise ModelFileError(f"{path!r}: the {_HEADER} entry nests deeper than "
                             f"{MAX_HEADER_NESTING} levels; model headers do not")
    try:
        header = json.loads(text)
    except ValueError as error:  # malformed JSON, or an integer of thousands of digits
        raise ModelFileError(f"{path!r}: the {_HEADER} entry is not valid JSON ({error})") \
            from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not an ildl model file (format "
                             f"{header.get('format') if isinstance(header, dict) else header!r})")
    version = header.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ModelFileError(f"{path!r} has model-file version {header.get('version')!r}; this "
                             f"ildl reads versions {', '.join(map(str, READABLE_VERSIONS))}")
    return header


def _read_archive(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The verified header and arrays of a model file."""
    if not os.path.exists(path):
        raise ModelFileError(f"no model file at {path!r}; check the path")
    if not os.path.isfile(path):
        raise ModelFileError(f"{path!r} is not a file; give the path of a .ildl model file")
    arrays = {name: _parse_npy(path, name, content)
              for name, content in _read_members(path).items()}
    header = _parse_header(path, arrays.pop(_HEADER))
    expected = header.pop("sha256", None)
    if expected != _digest(header, arrays):
        raise ModelFileError(f"{path!r} has been modified or corrupted since it was saved: its "
                             "content does not match the SHA-256 digest recorded in it")
    return header, arrays


# -- rebuilding the model -------------------------------------------------------------------------

def _upgrade_from_version_1(header: dict) -> dict:
    """Version 1 headers in the version 2 form: every named object as {"name", "config"}."""
    for entry in _field(_field(header, "model", dict), "layers", list):
        config = entry.get("config") if isinstance(entry, dict) else None
        for key, value in (config or {}).items():
            if key.endswith("_regularizer") and isinstance(value, dict) and "name" not in value:
                config[key] = {"name": "l1_l2", "config": value}
            elif key.endswith("_initializer") and isinstance(value, str):
                config[key] = {"name": value, "config": {}}
    compiled = header.get("compile")
    if isinstance(compiled, dict) and isinstance(compiled.get("loss"), str):
        compiled["loss"] = {"name": compiled["loss"], "config": {}}
    header["version"] = 2
    return header


_MISSING = object()


def _field(mapping: dict, key: str, types: type | tuple, what: str = "the header"):
    """``mapping[key]`` if it is there with one of ``types``; a ModelFileError otherwise (the
    caller adds the file's name)."""
    value = mapping.get(key, _MISSING)
    if value is _MISSING:
        raise ModelFileError(f"{key!r} is missing from {what}")
    if not isinstance(value, types):
        raise ModelFileError(f"{key!r} in {what} is {value!r}")
    return value


def _layer(entry, index: int):
    what = f"layer {index} of the header"
    if not isinstance(entry, dict):
        raise ModelFileError(f"{what} is {entry!r}, not a {{'class', 'config'}} dict")
    class_name = _field(entry, "class", str, what)
    config = _field(entry, "config", dict, what)
    cls = LAYER_CLASSES.get(class_name)
    if cls is None:
        raise ModelFileError(f"layer {index} has class {class_name!r}, which this ildl does not "
                             f"have ({', '.join(sorted(LAYER_CLASSES))})")
    try:
        return cls(**config)
    except TypeError as error:  # config keys that are not the constructor's arguments
        raise ModelFileError(f"layer {index} ({class_name}) cannot be made from its config: "
                             f"{error}") from None


def _float_array(array: np.ndarray, shape: tuple, what: str) -> np.ndarray:
    """``array`` if it holds finite floats of ``shape`` (what the rebuilt model has there)."""
    if array.shape != shape or array.dtype.kind != "f":
        raise ModelFileError(f"{what} has shape {array.shape} and dtype {array.dtype}; the "
                             f"architecture needs {shape} floats")
    if not np.isfinite(array).all():
        raise ModelFileError(f"{what} holds NaN or infinite values; the model it came from had "
                             "diverged, so it cannot be used")
    return array


def _set_weights(model, arrays: dict[str, np.ndarray]) -> None:
    """Copy the file's weights into the rebuilt layers; each must be there, in the right shape."""
    for index, layer in enumerate(model.layers):
        for name, weight in zip(layer.weight_names(), layer.weights):
            key = f"layer/{index}/{name}"
            what = f"weight {name!r} of layer {index} ({type(layer).__name__} {layer.name!r})"
            if key not in arrays:
                raise ModelFileError(f"it has no {what}")
            weight[...] = _float_array(arrays.pop(key), weight.shape, f"its {what}")
    unused = [key for key in arrays if key.startswith("layer/")]
    if unused:
        raise ModelFileError(f"it holds weights that no layer of its architecture has: "
                             f"{unused[:5]}")


def _restore_optimizer_state(model, arrays: dict[str, np.ndarray]) -> None:
    """The optimizer's step count and its slots: none (never trained) or all, each shaped like
    its weight."""
    prefix = "optimizer/"
    state = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
    if not state:
        return
    optimizer = model.optimizer
    shapes = [weight.shape for weight in model.trainable_weights]
    slots = {f"{slot}/{index}": shape for slot in optimizer.slot_names
             for index, shape in enumerate(shapes)}
    steps = state.get("iterations")
    if steps is None or steps.shape != () or steps.dtype.kind not in "iu" or steps < 0:
        raise ModelFileError(f"its optimizer state has no valid step count ({steps!r})")
    if set(state) - {"iterations"} not in (set(), set(slots)):
        raise ModelFileError(f"its optimizer state holds {sorted(state)} but "
                             f"{type(optimizer).__name__} keeps iterations and {sorted(slots)}")
    for key in set(state) & set(slots):
        _float_array(state[key], slots[key], f"its optimizer slot {key!r}")
    optimizer.set_state(state)


def _rebuild(header: dict, arrays: dict[str, np.ndarray], model_class: type):
    if header["version"] == 1:
        header = _upgrade_from_version_1(header)
    spec = _field(header, "model", dict)
    layers = [_layer(entry, index)
              for index, entry in enumerate(_field(spec, "layers", list, "the model"))]
    model = model_class(layers, seed=_field(spec, "seed", (int, type(None)), "the model"),
                       dtype=_field(spec, "dtype", str, "the model"),
                       name=_field(spec, "name", str, "the model"))
    input_shape = _field(spec, "input_shape", (list, type(None)), "the model")
    if input_shape is not None and not model.built:
        model.build(input_shape)
    elif input_shape is not None and input_shape != list(model.input_shape):
        raise ModelFileError(f"the model's 'input_shape' {input_shape} differs from its first "
                             f"layer's {list(model.input_shape)}")
    _set_weights(model, arrays)
    compiled = _field(header, "compile", (dict, type(None)))
    if compiled is not None:
        model.compile(optimizers.deserialize(_field(compiled, "optimizer", dict, "compile")),
                      losses.deserialize(_field(compiled, "loss", dict, "compile")),
                      _field(compiled, "metrics", list, "compile"))
        _restore_optimizer_state(model, arrays)
    epochs = _field(header, "epochs_trained", int)
    if epochs < 0 or isinstance(epochs, bool):
        raise ModelFileError(f"'epochs_trained' in the header is {epochs}")
    model.epochs_trained = epochs
    try:
        model.rng.bit_generator.state = _field(header, "rng_state", dict)
    except (TypeError, ValueError, KeyError, OverflowError) as error:  # NumPy refuses the state
        raise ModelFileError(f"its random generator state is not valid ({error!r})") from None
    return model


def read_model(path: str | os.PathLike, model_class: type):
    """The model saved in ``path`` rebuilt as a ``model_class`` (``Sequential``; passed in by
    ``nn.load_model`` so that this module, which the model uses to save itself, never imports
    the model). Raises ``ModelFileError`` naming the file and what is wrong with it."""
    path = _file_path(path, "load_model")
    header, arrays = _read_archive(path)
    try:
        return _rebuild(header, arrays, model_class)
    except IldlError as error:
        raise ModelFileError(f"{path!r} holds a model that cannot be rebuilt: {error}; the file "
                             "was edited or written by another program: save the model again "
                             "with model.save()") from None
