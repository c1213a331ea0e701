"""The tutorial notebooks: stored clean, written on the public API, and run top to bottom.

Every notebook is executed by a real Jupyter kernel (nbclient) with ``ILDL_QUICK=1``, the
small-settings switch each notebook reads in its first code cell, so a failing cell fails the suite.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]
QUICK_SWITCH = 'QUICK = os.environ.get("ILDL_QUICK") == "1"'

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra: "
                               'pip install -e ".[torch,test]"')


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_of(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_there_is_one_notebook_per_article():
    assert len(NOTEBOOKS) == 9, f"expected 9 notebooks in notebooks/, found {NAMES}"
    numbers = [int(name[:2]) for name in NAMES]
    assert numbers == list(range(1, 10)), f"notebooks should be numbered 01..09, got {NAMES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_is_valid_and_stored_without_outputs(path):
    notebook = read(path)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: cell {index} was saved with outputs; clear them before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_states_goals_switch_and_exercise(path):
    notebook = read(path)
    first, last = notebook.cells[0], notebook.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell should be a markdown title")
    assert "you will learn" in first.source.lower(), (
        f"{path.name}: the first cell should say what the reader will learn")
    assert QUICK_SWITCH in code_of(notebook)[0], (
        f"{path.name}: the first code cell should define the small-settings switch {QUICK_SWITCH}")
    assert last.cell_type == "markdown" and re.search(r"^#+ Exercise", last.source, re.M), (
        f"{path.name}: the last cell should be an '## Exercise' (a knob to turn, what to look for)")


def private_names(source: str) -> list[str]:
    """Imports from private ildl modules and any ``obj._name`` access in a code cell."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ildl"):
            parts = node.module.split(".") + [alias.name for alias in node.names]
            found += [part for part in parts if part.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names
                      if alias.name.startswith("ildl") and "._" in alias.name]
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(node.attr)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_uses_only_public_api(path):
    for index, source in enumerate(code_of(read(path))):
        assert not private_names(source), (
            f"{path.name}: code cell {index} uses private names {private_names(source)}; "
            "notebooks may only use ildl's public API")


def test_private_name_check_can_fail():
    assert private_names("from ildl.nn.layers.base import _helper") == ["_helper"]
    assert private_names("model._layers") == ["_layers"]
    assert private_names("from ildl import nn\nnn.Dense(1).__class__") == []


def test_readme_links_every_notebook():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in NAMES if f"notebooks/{name}" not in readme]
    assert not missing, f"README.md should link every notebook; missing: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="needs the test extra (nbclient, ipykernel)")
    pytest.importorskip("ipykernel", reason="needs the test extra (nbclient, ipykernel)")
    # The kernel inherits this environment: quick settings, the suite's cache, no display.
    monkeypatch.setenv("ILDL_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    # "python3" is ipykernel's own kernel: this interpreter, so the installed ildl.
    client = nbclient.NotebookClient(read(path), timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed in quick mode (it ran in {tmp_path}):\n{error}")
