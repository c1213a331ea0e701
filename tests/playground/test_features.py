"""Each feature's function and the NumPy text the exported script writes agree."""

import numpy as np
import pytest

from ildl.playground.features import FEATURES, compute_features, features_code


@pytest.mark.parametrize("name", FEATURES)
def test_a_features_code_computes_its_function(name):
    x = np.random.default_rng(0).normal(size=(50, 2)) * 3
    from_code = eval(FEATURES[name].code, {"np": np}, {"x": x})  # the script's own text
    np.testing.assert_array_equal(from_code, FEATURES[name].function(x))


def test_the_stacked_features_follow_the_chosen_order():
    x = np.array([[2.0, 3.0]])
    names = ("x1x2", "x1", "x2x2")
    np.testing.assert_array_equal(compute_features(x, names), [[6.0, 2.0, 9.0]])
    np.testing.assert_array_equal(eval(features_code(names), {"np": np}, {"x": x}),
                                  [[6.0, 2.0, 9.0]])
