"""Checks on user data and arguments, with errors that say what came, what was expected and how to
fix it.

Python counts ``True`` as the integer 1 and NumPy casts complex numbers and huge float64 values
to float32 without a word, so these checks are explicit: ``Dense(units=True)``,
``fit(batch_size=True)``, complex inputs and values beyond float32's range are refused rather
than silently changed.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable

import numpy as np

from .errors import ArgumentError, DataError


def _shown(value) -> str:
    """``value`` with its type, so ``True (bool)`` and ``'8' (str)`` are told apart from 1 and 8."""
    return f"{value!r} ({type(value).__name__})"


def is_integer(value) -> bool:
    """Whether ``value`` is a whole number (an int or a NumPy integer) and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """Whether ``value`` is a finite real number (int, float or a NumPy kind) and not a bool."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range, such as 10**400
        return False


def check_integer(value, name: str, where: str, minimum: int | None = None) -> int:
    """``value`` as an int (>= ``minimum``); bools, floats and strings are refused."""
    if not is_integer(value) or (minimum is not None and value < minimum):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ArgumentError(f"{where}: {name} must be {expected}, got {_shown(value)}")
    return int(value)


def check_number(value, name: str, where: str, low: float | None = None,
                 high: float | None = None, bounds: str = "[]") -> float:
    """``value`` as a finite float between ``low`` and ``high`` (``bounds`` says whether each end
    is included: ``"[)"`` is ``low <= value < high``); bools and strings are refused."""
    inside = is_number(value) \
        and (low is None or (value >= low if bounds[0] == "[" else value > low)) \
        and (high is None or (value <= high if bounds[1] == "]" else value < high))
    if not inside:
        expected = _range_text(low, high, bounds)
        if isinstance(value, numbers.Real) and not isinstance(value, bool) \
                and not is_number(value):  # inf and nan: "> 0" alone would read as satisfied
            expected = expected.replace("a number", "a finite number", 1)
        raise ArgumentError(f"{where}: {name} must be {expected}, got {_shown(value)}")
    return float(value)


def _range_text(low, high, bounds) -> str:
    if low is not None and high is not None:
        return f"a number in {bounds[0]}{low:g}, {high:g}{bounds[1]}"
    if low is not None:
        return f"a number {'>=' if bounds[0] == '[' else '>'} {low:g}"
    if high is not None:
        return f"a number {'<=' if bounds[1] == ']' else '<'} {high:g}"
    return "a finite number"


def check_flag(value, name: str, where: str) -> bool:
    """``value`` as a bool; anything but True or False is refused (``"no"`` would be true)."""
    if not isinstance(value, bool | np.bool_):
        raise ArgumentError(f"{where}: {name} must be True or False, got {_shown(value)}")
    return bool(value)


def check_shape(value, name: str, where: str) -> tuple[int, ...]:
    """A shape without the batch axis, e.g. ``(28, 28, 1)``: a sequence of positive integers."""
    if not isinstance(value, tuple | list) or not value or not all(
            is_integer(d) and d >= 1 for d in value):
        raise ArgumentError(f"{where}: {name} must be a tuple of positive integers (the shape of "
                            f"one sample, e.g. (28, 28, 1)), got {_shown(value)}")
    return tuple(int(d) for d in value)


def as_array(values, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """``values`` as a NumPy array (of ``dtype``), refusing non-numeric and complex data, NaN and
    inf, and values that the cast to ``dtype`` would turn into inf (1e300 in float32)."""
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged lists
        raise DataError(f"{name} could not be turned into an array ({error}); pass a NumPy "
                        "array or equal-length nested lists") from None
    if np.iscomplexobj(array):
        raise ArgumentError(f"{name} holds complex numbers (dtype {array.dtype}) but networks "
                            f"work on real numbers; pass {name}.real, or np.abs({name}) for "
                            "magnitudes")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ArgumentError(f"{name} must hold numbers but has dtype {array.dtype}; convert it "
                            f"with {name}.astype(np.float32)")
    if dtype is not None and array.dtype != dtype:
        with np.errstate(over="ignore"):  # an overflow is reported below, with its value
            cast = array.astype(dtype)
    else:
        cast = array
    # One pass over the result finds both: NaN or inf in the input stay so after the cast, and
    # finite values too large for ``dtype`` (1e300 in float32) become inf.
    if cast.dtype.kind == "f" and not np.isfinite(cast).all():
        _check_finite(array, name)
        _report_overflow(array, cast, name)
    return cast


def _check_finite(array: np.ndarray, name: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        count = int(np.sum(~np.isfinite(array)))
        raise DataError(f"{name} holds {count} NaN or infinite value(s), the first at index "
                        f"{tuple(int(i) for i in bad)}; remove or impute them first")


def _report_overflow(original: np.ndarray, cast: np.ndarray, name: str) -> None:
    """The original was finite: an infinite value after the cast is an overflow."""
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
    limit = np.finfo(cast.dtype).max
    raise DataError(f"{name} holds values too large for {cast.dtype} (at most {limit:.3g}): "
                    f"{name}[{', '.join(map(str, first))}] is {original[first]:.3g}; scale "
                    "the inputs, e.g. standardise each feature")


def check_same_length(x: np.ndarray, y: np.ndarray, names: tuple[str, str] = ("x", "y")) -> None:
    if len(x) != len(y):
        raise DataError(f"{names[0]} has {len(x)} samples but {names[1]} has {len(y)}; they must "
                        "have one target per input row")


def check_input_shape(x: np.ndarray, expected: tuple, where: str) -> None:
    """``x`` must be a batch ``(N, *expected)``."""
    if x.ndim == 0 or tuple(x.shape[1:]) != tuple(expected):
        shown = ", ".join(map(str, expected))
        if tuple(x.shape[1:]) == tuple(expected[:-1]) and expected[-1] == 1:
            fix = "add the channel axis: x[..., None]"
        else:
            fix = "check the number of features or the first layer's input_shape"
        raise DataError(f"{where} expects inputs of shape (N, {shown}) but got x of shape "
                        f"{x.shape}; {fix}")


def closest_name(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (by difflib's similarity, ignoring case, or the first that
    ``name`` abbreviates, like "acc" for "accuracy"), or None if none is close."""
    choices = list(choices)
    lowered = [choice.lower() for choice in choices]
    close = difflib.get_close_matches(name.lower(), lowered, n=1) or \
        [choice for choice in lowered if name and choice.startswith(name.lower())][:1]
    return choices[lowered.index(close[0])] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'relu'?)"`` for the choice closest to ``name`` (``closest_name``), or
    ``""`` if none is."""
    close = closest_name(name, choices)
    return f" (did you mean {close!r}?)" if close else ""
