"""Shared fixtures for the ildl.explain tests."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh, seeded generator per test."""
    return np.random.default_rng(2024)


@pytest.fixture
def torch():
    """PyTorch, or skip: the twin of the ildl models and the home of captum's references."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead (and fight other jobs)
    return torch
