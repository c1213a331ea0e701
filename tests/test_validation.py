"""The argument and data checks: bools are not integers, NumPy numbers are, ranges say which ends
are included, and arrays are refused when they are complex or overflow the float32 cast."""

import re

import numpy as np
import pytest

from ildl import errors
from ildl.validation import as_array, check_flag, check_integer, check_number, check_shape


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_integers_of_any_kind_are_accepted(value):
    result = check_integer(value, "units", "Dense", minimum=1)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 3.0, "3", None, 0])
def test_non_integers_and_too_small_ones_are_refused(value):
    with pytest.raises(errors.ArgumentError) as error:
        check_integer(value, "units", "Dense", minimum=1)
    message = str(error.value)
    assert message.startswith("Dense: units must be an integer >= 1, got ")
    assert f"({type(value).__name__})" in message


@pytest.mark.parametrize("value, low, high, bounds, ok", [
    (0.0, 0, 1, "[)", True), (1.0, 0, 1, "[)", False), (0.0, 0, 1, "(]", False),
    (1.0, 0, 1, "(]", True), (np.float32(0.5), 0, 1, "[)", True), (2, 0, None, "(]", True),
    (-1e-9, 0, None, "[]", False), (float("nan"), None, None, "[]", False),
    (float("inf"), 0, None, "[]", False), (True, None, None, "[]", False),
    (1 + 0j, None, None, "[]", False),
])
def test_number_ranges(value, low, high, bounds, ok):
    if ok:
        assert check_number(value, "rate", "Dropout", low, high, bounds) == float(value)
    else:
        with pytest.raises(errors.ArgumentError, match="Dropout: rate must be"):
            check_number(value, "rate", "Dropout", low, high, bounds)


def test_range_texts():
    for kwargs, text in [({"low": 0, "high": 1, "bounds": "[)"}, "a number in [0, 1)"),
                         ({"low": 0, "bounds": "(]"}, "a number > 0"),
                         ({"high": 5}, "a number <= 5"), ({}, "a finite number")]:
        with pytest.raises(errors.ArgumentError, match=re.escape(text)):
            check_number("x", "value", "here", **kwargs)
    # inf is "> 0" and nan compares false: the message says that they are not finite
    for value, kwargs, text in [(float("inf"), {"low": 0, "bounds": "(]"}, "a finite number > 0"),
                                (float("nan"), {"low": 0, "high": 1}, "a finite number in [0, 1]")]:
        with pytest.raises(errors.ArgumentError, match=re.escape(f"must be {text}, got {value}")):
            check_number(value, "value", "here", **kwargs)


def test_flags_and_shapes():
    assert check_flag(np.bool_(False), "use_bias", "Dense") is False
    for bad in (1, "no", None):
        with pytest.raises(errors.ArgumentError, match="True or False"):
            check_flag(bad, "use_bias", "Dense")
    assert check_shape([28, np.int64(28), 1], "input_shape", "Conv2D") == (28, 28, 1)
    for bad in ((), (0, 3), (2, True), "28", 28, (2.0,)):
        with pytest.raises(errors.ArgumentError, match="tuple of positive integers"):
            check_shape(bad, "input_shape", "Conv2D")


def test_as_array_refuses_complex_and_float32_overflow_but_not_float64():
    with pytest.raises(errors.ArgumentError, match="complex"):
        as_array(np.array([1 + 2j]), "x", np.float32)
    big = np.array([[1.0, 2.0], [3.0, -5e38]])
    with pytest.raises(errors.DataError, match=r"x\[1, 1\] is -5e\+38"):
        as_array(big, "x", np.float32)
    np.testing.assert_array_equal(as_array(big, "x", np.float64), big)
    assert as_array(np.array([[3e38]]), "x", np.float32).dtype == np.float32  # fits, no error


def test_integers_beyond_floats_range_are_refused_not_overflowed():
    """10**400 is an int but no float: math.isfinite would raise OverflowError from inside."""
    with pytest.raises(errors.ArgumentError, match="SGD: learning_rate must be a finite number "
                                                   "> 0"):
        check_number(10**400, "learning_rate", "SGD", low=0, bounds="(]")
