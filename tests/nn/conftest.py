"""Shared fixtures for the ildl.nn tests."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh, seeded generator per test (tests never depend on each other's random draws)."""
    return np.random.default_rng(12345)


@pytest.fixture
def np_errors_ignored():
    """Silence overflow warnings in tests that drive training into divergence on purpose."""
    with np.errstate(all="ignore"):
        yield
