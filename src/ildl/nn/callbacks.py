"""Callbacks: code that runs at fixed points of ``fit`` (Keras names and behaviour).

``fit`` calls, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``, per batch
``on_train_batch_begin``/``on_train_batch_end``, ``on_epoch_end`` (with the epoch's ``logs``:
``loss``, metrics, ``val_*``), and finally ``on_train_end``. A callback may stop training by setting
``self.model.stop_training = True``; ``CSVLogger`` keeps every epoch's logs in a file::

    stop = nn.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    log = nn.callbacks.CSVLogger("runs/moons/log.csv")
    model.fit(x, y, epochs=200, validation_split=0.2, callbacks=[stop, log])
"""

from __future__ import annotations

import csv
import io
import os
import re
import string
import sys
from collections.abc import Callable

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, MetricNotFoundError
from ..progress import ProgressBar
from ..validation import check_flag, check_integer, check_number, did_you_mean


class Callback:
    """Base class: override the hooks you need; ``self.model`` is the model being trained."""

    def __init__(self):
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs: ``history.history["val_accuracy"]`` is a list, one per epoch.

    ``fit`` always adds one and returns it.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


def _improvement_sign(monitor: str, mode: str) -> int:
    """+1 if larger values of ``monitor`` are better, -1 if smaller are."""
    if mode not in ("auto", "min", "max"):
        raise ArgumentError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return 1 if "acc" in monitor else -1
    return 1 if mode == "max" else -1


def _not_logged(where: str, name: str, logged: list[str]) -> MetricNotFoundError:
    """The error for a quantity ``name`` that the epoch logs (``logged``) do not hold."""
    if name.startswith("val_") and not any(key.startswith("val_") for key in logged):
        fix = "pass validation_data or validation_split to fit for val_* quantities"
    else:
        fix = "choose one of those names, or add the metric to compile(metrics=[...])"
    held = ", ".join(logged) or "nothing"
    return MetricNotFoundError(f"{where} {name!r} but the epoch logs hold {held}"
                               f"{did_you_mean(name, logged)}; {fix}")


def expected_logs(logged: list[str], callbacks: list[Callback]) -> list[str] | None:
    """What every epoch's logs will hold: ``logged``, the loss and metrics ``fit`` computes, or
    None (not known in advance) when a callback of the user's own takes part, since it may add
    quantities of its own to the logs."""
    own = (History, ProgbarLogger, EarlyStopping, ModelCheckpoint, CSVLogger)
    return logged if all(type(callback) in own for callback in callbacks) else None


def _check_logged_by_fit(where: str, name: str, model) -> None:
    """At the start of ``fit``: a quantity its logs will not hold is refused before the first
    epoch rather than after it (when that is known: see ``expected_logs``)."""
    logged = getattr(model, "fit_info", {}).get("metrics")  # None outside fit, or not known
    if logged is not None and name not in logged:
        raise _not_logged(where, name, logged)


def _monitored_value(callback_name: str, monitor: str, logs: dict | None) -> float:
    if not logs or monitor not in logs:
        raise _not_logged(f"{callback_name} monitors", monitor, list(logs or {}))
    return float(logs[monitor])


def _check_monitor(monitor, callback_name: str) -> str:
    if not isinstance(monitor, str):
        raise ArgumentError(f"{callback_name}: monitor must be the name of a logged quantity, "
                            f"e.g. 'val_loss', got {monitor!r}")
    return monitor


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs.

    ``restore_best_weights=True`` puts back the weights of the best epoch when training ends (also
    when it ran all its epochs, unlike Keras, which restores only on an early stop).
    ``best_epoch`` and ``stopped_epoch`` (0-based, -1 if it never stopped) tell what happened.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0):
        super().__init__()
        self.monitor = _check_monitor(monitor, "EarlyStopping")
        self.min_delta = abs(check_number(min_delta, "min_delta", "EarlyStopping"))
        self.patience = check_integer(patience, "patience", "EarlyStopping", minimum=0)
        self.sign = _improvement_sign(monitor, mode)
        self.restore_best_weights = check_flag(restore_best_weights, "restore_best_weights",
                                               "EarlyStopping")
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        _check_logged_by_fit("EarlyStopping monitors", self.monitor, self.model)
        self.wait = 0
        self.best = -np.inf if self.sign > 0 else np.inf
        self.best_epoch = -1
        self.stopped_epoch = -1
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored_value("EarlyStopping", self.monitor, logs)
        # Keras' test, current - min_delta > best (max) or current + min_delta < best (min),
        # in the same floating-point order so both stop at the same epoch.
        if self.sign * (current - self.sign * self.min_delta - self.best) > 0:
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs; "
                      f"stopping after epoch {epoch + 1} (best {self.best:.4f} at epoch "
                      f"{self.best_epoch + 1})")

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")


class ModelCheckpoint(Callback):
    """Save the model (architecture, weights and optimizer state) after each epoch.

    ``filepath`` may use the epoch number and logs: ``"ckpt-{epoch:03d}-{val_loss:.3f}.ildl"``.
    With ``save_best_only`` only epochs that improve ``monitor`` are saved. Files are written
    atomically, so a crash never leaves a half-written checkpoint; resume with
    ``model = nn.load_model(path); model.fit(..., initial_epoch=model.epochs_trained)``.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0):
        super().__init__()
        self.filepath = _check_path(filepath, "ModelCheckpoint: filepath",
                                    "'ckpt-{epoch:02d}.ildl'")
        self.placeholders = _placeholders(self.filepath)
        self.monitor = _check_monitor(monitor, "ModelCheckpoint")
        self.save_best_only = check_flag(save_best_only, "save_best_only", "ModelCheckpoint")
        self.sign = _improvement_sign(monitor, mode)
        self.verbose = verbose
        self.best = -np.inf if self.sign > 0 else np.inf

    def on_train_begin(self, logs=None):
        for name in self.placeholders:
            _check_logged_by_fit(f"ModelCheckpoint: filepath {self.filepath!r} uses", name,
                                 self.model)
        if self.save_best_only:
            _check_logged_by_fit("ModelCheckpoint monitors", self.monitor, self.model)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored_value("ModelCheckpoint", self.monitor, logs)
            if not self.sign * (current - self.best) > 0:
                return
            self.best = current
        missing = [name for name in self.placeholders if name not in logs]
        if missing:
            raise _not_logged(f"ModelCheckpoint: filepath {self.filepath!r} uses", missing[0],
                              list(logs))
        path = self.filepath.format(epoch=epoch + 1, **logs)
        self.model.save(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")


def _check_path(value, what: str, example: str) -> str:
    """``value`` as a path string; an ``ArgumentError`` naming ``what`` when it is not one."""
    try:
        return os.fspath(value)
    except TypeError:
        raise ArgumentError(f"{what} must be a path such as {example}, got {value!r}") from None


def _placeholders(filepath: str) -> list[str]:
    """The quantities named in ``filepath``'s ``{...}`` fields, other than ``epoch``; refuses a
    pattern that could not be filled in with numbers (positional fields, bad format specs)."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(filepath)
                  if field is not None]
    except ValueError as error:  # a single { or }
        raise ArgumentError(f"ModelCheckpoint: filepath {filepath!r} is not a valid pattern "
                            f"({error}); write {{{{ and }}}} for literal braces") from None
    names = [re.match(r"[A-Za-z_]\w*", field) for field in fields]
    if not all(names):
        raise ArgumentError(f"ModelCheckpoint: filepath {filepath!r} has a field without a name; "
                            "name what to write, e.g. {epoch:02d} or {val_loss:.3f}")
    names = [match.group() for match in names]
    try:  # a number in place of every quantity shows whether the format specs fit numbers
        filepath.format(**{**dict.fromkeys(names, 0.5), "epoch": 1})
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise ArgumentError(f"ModelCheckpoint: filepath {filepath!r} cannot be filled in with "
                            f"the epoch and metric values ({type(error).__name__}: {error}); "
                            "use formats for numbers such as {epoch:03d} or {val_loss:.3f}") \
            from None
    return sorted(set(names) - {"epoch"})


class CSVLogger(Callback):
    """Write each epoch's logs as one row of a CSV file (Keras' ``CSVLogger``).

    Columns, as Keras writes them: ``epoch`` (the 0-based index ``fit`` passes, so a resumed
    ``fit(initial_epoch=3)`` continues at 3), then the names in the first epoch's logs, sorted;
    a later epoch without one of them gets ``NA``. Rows end in ``\\r\\n`` (the csv module's
    Excel dialect, as Keras). ``append=False`` starts the file afresh when training begins;
    ``append=True`` continues an existing file, with no second header (a header is written only
    into an empty or new file). Keras appends to the open file; here the whole file is written
    again, atomically, after each epoch, so a crash or a reader never meets half a row::

        log = nn.callbacks.CSVLogger("runs/moons/log.csv")
        model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[log])
        # log.csv begins:  epoch,accuracy,loss,val_accuracy,val_loss
        #                  0,0.53125,0.6931...,0.5,0.6902...
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = _check_path(filename, "CSVLogger: filename", "'log.csv'")
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\r\n\"":
            raise ArgumentError(f"CSVLogger: separator must be one character such as ',' or "
                                f"';' (not a quote or a line break), got {separator!r}")
        self.separator = separator
        self.append = check_flag(append, "append", "CSVLogger")
        self.keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        self.content = b""
        if self.append and os.path.isfile(self.filename):
            with open(self.filename, "rb") as file:
                self.content = file.read()
        self.keys = None  # each fit takes its columns from its own first epoch, as Keras
        # Written now, as Keras opens the file now: a path that cannot be written fails before
        # the first epoch is spent.
        write_bytes_atomically(self.filename, self.content)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        lines = io.StringIO()
        writer = csv.writer(lines, dialect="excel", delimiter=self.separator)
        if self.keys is None:
            self.keys = sorted(logs)
            if not self.content:
                writer.writerow(["epoch", *self.keys])
        writer.writerow([epoch, *(logs.get(key, "NA") for key in self.keys)])
        self.content += lines.getvalue().encode()
        write_bytes_atomically(self.filename, self.content)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``."""

    def __init__(self, on_epoch_begin: Callable | None = None,
                 on_epoch_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None,
                 on_train_batch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for hook_name, function in hooks.items():
            if function is not None:
                setattr(self, hook_name, function)


class ProgbarLogger(Callback):
    """Shows training progress: with ``verbose=1`` a bar per epoch with rate and ETA, with
    ``verbose=2`` one line per epoch. ``fit(verbose=...)`` adds it for you.

    Full-batch training (one step per epoch, often thousands of epochs) gets a single bar over
    all its steps instead, so the screen shows progress rather than thousands of lines.
    """

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream or sys.stdout

    def on_train_begin(self, logs=None):
        info = self.model.fit_info
        self.epochs, self.steps, self.samples = info["epochs"], info["steps"], info["samples"]
        self.first_epoch = info.get("initial_epoch", 0)
        self.one_bar = self.steps == 1 and self.epochs - self.first_epoch > 1
        if self.one_bar:  # an epoch is one step: the bar counts steps, and its rate is steps/s
            self.bar = self._new_bar(self.epochs - self.first_epoch,
                                     f"{self.epochs:,} full-batch steps", unit="steps")

    def _new_bar(self, total: int, title: str, unit: str = "samples") -> ProgressBar:
        # verbose=2: no redrawing, only the final line
        return ProgressBar(total, title=title, stream=self.stream, unit=unit,
                           interactive=None if self.verbose == 1 else False)

    def on_epoch_begin(self, epoch, logs=None):
        if not self.one_bar:
            self.bar = self._new_bar(self.steps, f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        if not self.one_bar:
            self.bar.update(batch + 1, logs.get("samples", 0), _shown(logs))

    def on_epoch_end(self, epoch, logs=None):
        if self.one_bar:
            done = epoch + 1 - self.first_epoch
            self.last = (done, done, _shown(logs))
            self.bar.update(*self.last)
        else:
            self.bar.finish(self.steps, self.samples, _shown(logs))

    def on_train_end(self, logs=None):
        if self.one_bar and hasattr(self, "last"):
            self.bar.finish(*self.last)


def _shown(logs: dict | None) -> dict:
    return {k: v for k, v in (logs or {}).items() if k not in ("samples", "batch", "size")}
