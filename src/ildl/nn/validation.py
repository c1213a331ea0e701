"""Checks on user data with errors that say what came, what was expected and how to fix it."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, DataError


def as_array(values, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """``values`` as a NumPy array (of ``dtype``), refusing non-numeric data, NaN and inf."""
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged lists
        raise DataError(f"{name} could not be turned into an array ({error}); pass a NumPy "
                        "array or equal-length nested lists") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ArgumentError(f"{name} must hold numbers but has dtype {array.dtype}; convert it "
                            f"with {name}.astype(np.float32)")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        count = int(np.sum(~np.isfinite(array)))
        raise DataError(f"{name} holds {count} NaN or infinite value(s), the first at index "
                        f"{tuple(int(i) for i in bad)}; remove or impute them first")
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return array


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
