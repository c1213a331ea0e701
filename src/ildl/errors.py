"""The errors ildl raises on purpose, one type per kind of problem.

Every error that ildl raises because of its input derives from ``IldlError`` and from the built-in
type a Python user would already catch for that problem (``ArgumentError`` is a ``ValueError``,
``MissingFileError`` a ``FileNotFoundError``, ...), so ``except ValueError`` keeps working and
``except ildl.errors.IldlError`` catches exactly what ildl reports. Any other exception coming out
of ildl is a bug. The message of each says what happened and where (the file and line, the layer,
the argument), what was expected, and how to fix it::

    >>> from ildl import errors, nn
    >>> try:
    ...     nn.load_model("notes.txt")
    ... except errors.IldlError as error:
    ...     print(error)                                  # doctest: +SKIP
    'notes.txt' is not an ildl model file (...)

The ``ildl`` command prints such an error as one line and exits with status 2; any other
exception keeps its traceback.
"""

from __future__ import annotations


class IldlError(Exception):
    """Base of every error ildl raises on purpose: the input, not ildl, has to change."""


class ArgumentError(IldlError, ValueError, TypeError):
    """An argument of a function, layer or command-line option with a wrong value or type
    (``Dense(units=0)``, ``epochs=-1``, ``--imgsz 33``)."""


class DataError(IldlError, ValueError):
    """Data that cannot be used as given: arrays (NaN, shapes, labels that do not fit the loss) or
    data files (MNIST, label files, images, data.yaml); the message names the file and line."""


class ModelFileError(IldlError, ValueError):
    """A saved model or checkpoint that cannot be loaded: missing, truncated, not ildl's, edited
    (its digest does not match), or made for another architecture."""


class MissingFileError(IldlError, FileNotFoundError):
    """A file or folder that the call needs does not exist."""


class OverwriteError(IldlError, FileExistsError):
    """Writing would replace an input or earlier results; choose another output or ask for it."""


class MissingDependencyError(IldlError, ImportError):
    """An optional package is needed for this call; the message gives the install command."""


class UsageError(IldlError, RuntimeError):
    """A call that cannot work in the current state: ``fit`` before ``compile``, a model with no
    layers, a device that is not there."""


class TrainingError(IldlError, FloatingPointError):
    """Training went wrong numerically (the loss became NaN or infinite)."""


class MetricNotFoundError(IldlError, KeyError):
    """A callback asks for a metric that the epoch logs do not hold."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class DownloadError(IldlError, ConnectionError):
    """A download failed; the message says which files to place where instead."""
