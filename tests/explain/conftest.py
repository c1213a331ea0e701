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


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    """One ILDL_CACHE folder for the session: the quick benchmark model is trained only once."""
    return tmp_path_factory.mktemp("ildl_cache")


@pytest.fixture
def quick_cache(session_cache, monkeypatch):
    """The session's cache folder as ILDL_CACHE, for this test only."""
    monkeypatch.setenv("ILDL_CACHE", str(session_cache))
    return session_cache
