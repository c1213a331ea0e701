"""Fixtures for the whole suite."""

import hashlib
import os
from pathlib import Path

import pytest


@pytest.fixture
def torch():
    """PyTorch, or skip: the reference that the nn and explain tests compare against."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead (and fight other jobs)
    return torch


@pytest.fixture(scope="session", autouse=True)
def cache_outside_home(tmp_path_factory):
    """Point ILDL_CACHE (trained models, downloads) at a temporary folder for the whole session:
    tests never write into the user's ~/.cache, and models cached by one test (the gallery's
    detector, the explainer's CNN) are reused by the next. Tests may still redirect it."""
    previous = os.environ.get("ILDL_CACHE")
    os.environ["ILDL_CACHE"] = str(tmp_path_factory.mktemp("ildl_cache"))
    yield
    if previous is None:
        os.environ.pop("ILDL_CACHE", None)
    else:
        os.environ["ILDL_CACHE"] = previous


@pytest.fixture
def file_hashes():
    """``file_hashes(folder)``: SHA-256 of every file under ``folder`` by relative path. Equal
    before and after a call means it wrote, replaced and deleted nothing there."""
    def hashes(folder) -> dict[str, str]:
        folder = Path(folder)
        return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.rglob("*")) if path.is_file()}

    return hashes
