"""Detector checkpoints: write them atomically, read them back only if they are whole and sound.

A checkpoint file (``best.pt``, ``last.pt``) is one line of text, then the bytes ``torch.save``
wrote for the checkpoint's dict::

    ildl-detector-checkpoint 2 sha256 <64 hex digits of SHA-256 over the bytes below>\\n
    <torch.save output: a ZIP archive of tensors and plain Python values>

The digest covers every byte of the payload, so a single flipped byte anywhere in the file is
refused (in the first line: the line no longer reads as above; below it: the digest differs),
as ``.ildl`` model files do (``ildl.nn.saving``). The payload is read with
``torch.load(..., weights_only=True)``: loading never unpickles arbitrary objects.

What the dict holds (``Trainer`` writes it; ``load_checkpoint`` checks the first four):

    model_config   {"num_classes": C, "size": "n"|"s"|"m"}: ``Detector(**model_config)``
    names          the C class names, in class-id order
    ema            state_dict of the EMA weights: what val, predict and export use
    train_config   the ``TrainConfig`` fields of the run, as a dict (``imgsz`` is the input side)
    model, optimizer, ema_updates, epoch, best_map, epochs_without_gain, history,
    schedule_epochs, minutes     the training state that ``--resume`` continues from (the
                                 trainer checks them before resuming)

Every floating-point tensor must be finite: weights with NaN or infinity are refused, since a
detector built from them outputs NaN for every image.

Checkpoints written before the digest existed (a bare ``torch.save`` ZIP, "version 1") still load,
with a warning: they hold hours of training, and they still pass through every other check here
(``weights_only``, the four entries above, finite weights), which catches a file of another program
and the NaN weights that harm; what cannot be caught is a flipped bit that leaves a finite weight.
Saving one again (``save_checkpoint(path, load_checkpoint(path))``, or one more epoch with
``--resume``) gives it a digest.
"""

from __future__ import annotations

import hashlib
import io
import os
import reprlib
import warnings
from collections import deque
from collections.abc import Iterator

import torch

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, MissingFileError, ModelFileError
from .config import IMGSZ, MODEL_SIZES
from .model import Detector

MAGIC = b"ildl-detector-checkpoint"
VERSION = 2
_HEADER_LENGTH = len(MAGIC) + len(f" {VERSION} sha256 ") + 64 + 1  # one line, fixed length
_ZIP_SIGNATURE = b"PK\x03\x04"  # how a bare torch.save file (version 1) begins
REQUIRED = ("model_config", "names", "ema", "train_config")


def _header(payload: bytes) -> bytes:
    return MAGIC + f" {VERSION} sha256 {hashlib.sha256(payload).hexdigest()}\n".encode()


def _not_a_checkpoint(path: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path!r} is not a readable ildl detector checkpoint: {problem}; "
                          "checkpoints are the best.pt and last.pt that ildl detect train writes")


def detector_entries(model: Detector, names: list[str], train_config: dict) -> dict:
    """The entries every checkpoint holds (``REQUIRED``), enough for val, predict and export:
    ``model``'s configuration and weights (the EMA copy, when training), its class names and
    the run's ``TrainConfig`` as a dict."""
    return {"model_config": model.config(), "names": list(names), "ema": model.state_dict(),
            "train_config": train_config}


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Write ``state`` (tensors and plain Python values) to ``path`` atomically, behind a line
    holding its SHA-256 digest."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    write_bytes_atomically(path, _header(payload) + payload)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The dict saved by ``save_checkpoint``, after checking the file's digest, its structure
    and that every weight is finite; raises ``ModelFileError`` saying what is wrong."""
    path = os.fspath(path)
    payload, has_digest = _read_payload(path)
    try:
        checkpoint = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged or foreign archive
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise _not_a_checkpoint(path, f"torch.load failed ({type(error).__name__}: "
                                      f"{first_line[:200]})") from None
    _check_structure(checkpoint, path)
    _check_finite(checkpoint, path)
    if not has_digest:
        warnings.warn(f"{path!r} was written before detector checkpoints carried a SHA-256 "
                      "digest: it passed every other check, but damage that left its weights "
                      "finite cannot be detected; save it again (save_checkpoint(path, "
                      "load_checkpoint(path)), or --resume) to add one", UserWarning, stacklevel=2)
    return checkpoint


def _read_payload(path: str) -> tuple[bytes, bool]:
    """The torch.save bytes of the file at ``path`` and whether a digest vouched for them."""
    if not os.path.exists(path):
        raise MissingFileError(f"no checkpoint at {path!r}; checkpoints are the best.pt and "
                               "last.pt in the --out folder of ildl detect train")
    if os.path.isdir(path):
        raise ModelFileError(f"{path!r} is a folder, not a checkpoint file; give its best.pt or "
                             "last.pt")
    try:
        with open(path, "rb") as file:
            header = file.read(_HEADER_LENGTH)
            if header.startswith(_ZIP_SIGNATURE):  # version 1: no digest
                return header + file.read(), False
            if not header.startswith(MAGIC):
                what = "an empty file" if not header else f"a file beginning {header[:16]!r}"
                raise _not_a_checkpoint(path, f"it is {what}")
            payload = file.read()
    except OSError as error:
        raise ModelFileError(f"cannot read the checkpoint {path!r}: {error.strerror}") from None
    if header != _header(payload):
        raise ModelFileError(f"{path!r} has been modified or corrupted since it was saved: its "
                             "content does not match the SHA-256 digest in its first line (or "
                             "that line is damaged); use another copy, or train again")
    return payload, True


def _check_structure(checkpoint: object, path: str) -> None:
    """The entries every use needs, of the right kinds (see the module docstring)."""
    def refuse(problem: str) -> ModelFileError:
        return _not_a_checkpoint(path, problem)

    if not isinstance(checkpoint, dict):
        raise refuse(f"it holds a {type(checkpoint).__name__}, not a dict")
    missing = [key for key in REQUIRED if key not in checkpoint]
    if missing:
        tensors = all(torch.is_tensor(value) for value in checkpoint.values())
        kind = "a plain state_dict" if checkpoint and tensors else "a dict"
        raise refuse(f"it holds {kind} without {', '.join(map(repr, missing))} (its keys begin "
                     f"{', '.join(map(reprlib.repr, list(checkpoint)[:4]))})")
    model_config, names = checkpoint["model_config"], checkpoint["names"]
    if (not isinstance(model_config, dict) or set(model_config) != {"num_classes", "size"}
            or type(model_config["num_classes"]) is not int or model_config["num_classes"] < 1
            or model_config["size"] not in MODEL_SIZES):
        raise refuse(f"its model_config is {reprlib.repr(model_config)}, not "
                     f"{{'num_classes': C >= 1, 'size': one of {', '.join(MODEL_SIZES)}}}")
    if (not isinstance(names, list) or not all(isinstance(name, str) for name in names)
            or len(names) != model_config["num_classes"]):
        raise refuse(f"its names {reprlib.repr(names)} are not {model_config['num_classes']} "
                     "class names")
    if not is_state_dict(checkpoint["ema"]):
        raise refuse("its 'ema' entry is not a state_dict of tensors")
    train_config = checkpoint["train_config"]
    # Only the input side matters to a trained detector; the rest is the run's history.
    if not isinstance(train_config, dict) or not IMGSZ.accepts(train_config.get("imgsz")):
        imgsz = train_config.get("imgsz") if isinstance(train_config, dict) else None
        raise refuse(f"its train_config has imgsz {reprlib.repr(imgsz)}, not {IMGSZ.expected}")


def is_state_dict(value: object) -> bool:
    """Whether ``value`` is what ``load_state_dict`` takes: tensors by name."""
    return isinstance(value, dict) and all(isinstance(name, str) and torch.is_tensor(tensor)
                                           for name, tensor in value.items())


def _tensors(checkpoint: dict) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor inside nested dicts and lists, with its path (``ema/stem.0.weight``).

    A loop rather than recursion, and each container visited once: a crafted pickle can nest
    deeper than Python's recursion limit, or hold a list that contains itself."""
    pending, seen = deque([("", checkpoint)]), set()
    while pending:
        name, value = pending.popleft()
        if torch.is_tensor(value):
            yield name, value
        elif isinstance(value, dict | list | tuple) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending.extend((f"{name}/{key}" if name else str(key), item) for key, item in items)


def _check_finite(checkpoint: dict, path: str) -> None:
    for name, tensor in _tensors(checkpoint):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ModelFileError(f"{path!r} holds non-finite weights: {bad} of the "
                                 f"{tensor.numel()} values of {name} are NaN or infinite (the "
                                 "training diverged, or the file was edited); use an earlier "
                                 "checkpoint, or train again with a lower --lr")


def classes_in_words(names: list[str]) -> str:
    """``3 classes (circle, square, triangle)``."""
    return f"{len(names)} class{'es' if len(names) != 1 else ''} ({', '.join(names)})"


def load_weights(model: torch.nn.Module, state: dict, path: str, entry: str) -> None:
    """``model.load_state_dict(state)``, refusing with one line when the names or shapes of
    ``state`` (the ``entry`` of the checkpoint at ``path``, a state_dict: ``load_checkpoint``
    checks ``ema``, the trainer ``model``) do not fit ``model``."""
    expected = model.state_dict()
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    reshaped = [f"{name} {tuple(state[name].shape)} instead of {tuple(value.shape)}"
                for name, value in expected.items()
                if name in state and state[name].shape != value.shape]
    if missing or unexpected or reshaped:
        problems = ([f"{len(missing)} missing (first {missing[0]})"] if missing else []) + \
            ([f"{len(unexpected)} unexpected (first {unexpected[0]})"] if unexpected else []) + \
            ([f"{len(reshaped)} of another shape (first {reshaped[0]})"] if reshaped else [])
        raise ModelFileError(f"{path!r}: the weights in '{entry}' do not fit the detector its "
                             f"model_config describes: {'; '.join(problems)}; the file was "
                             "edited or written by another program")
    model.load_state_dict(state)


def load_detector(path: str | os.PathLike) -> tuple[Detector, dict]:
    """The (EMA) detector saved in a checkpoint, in eval mode, and the checkpoint's dict."""
    path = os.fspath(path)
    checkpoint = load_checkpoint(path)
    model = Detector(**checkpoint["model_config"])
    load_weights(model, checkpoint["ema"], path, "ema")
    return model.eval(), checkpoint


def check_classes(checkpoint: dict, names: list[str], weights: str, data: str,
                  fix: str = "use data with the same class names in the same order, or weights "
                             "trained on this data") -> None:
    """Refuse data whose class names differ from the checkpoint's: class id k must mean the
    same thing to both (``ArgumentError`` naming both lists and ``fix``)."""
    if list(names) != list(checkpoint["names"]):
        raise ArgumentError(f"{weights} detects {classes_in_words(checkpoint['names'])} but "
                            f"{data} has {classes_in_words(names)}; {fix}")
