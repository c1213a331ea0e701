"""ildl.viz's names load on first use (PEP 562) and are the objects of the modules defining them."""

import ast
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

import ildl.graphics
import ildl.viz


def defined_at_top_level(path: pathlib.Path) -> set[str]:
    """The functions, classes and constants that the source file itself defines."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def test_every_name_of_all_is_the_object_of_the_module_that_defines_it():
    homes = {path: defined_at_top_level(path)
             for path in pathlib.Path(ildl.viz.__file__).parent.glob("*.py")}
    homes[pathlib.Path(ildl.graphics.__file__)] = defined_at_top_level(
        pathlib.Path(ildl.graphics.__file__))  # themed, save_animation, write_frames
    for name in ildl.viz.__all__:
        [home] = [path for path, names in homes.items() if name in names] or [name]
        module = importlib.import_module(
            "ildl.graphics" if home.stem == "graphics" else f"ildl.viz.{home.stem}")
        assert getattr(ildl.viz, name) is getattr(module, name), name
    assert len(ildl.viz.__all__) == len(set(ildl.viz.__all__)) == 43


def test_dir_lists_every_public_name_before_it_is_used():
    assert set(ildl.viz.__all__) <= set(dir(ildl.viz))
    assert "plot_history" in dir(ildl.viz) and "animate_optimizers" in dir(ildl.viz)


def test_from_import_and_star_import_work():
    from ildl.viz import BoundaryRecorder, plot_history  # noqa: F401

    namespace = {}
    exec("from ildl.viz import *", namespace)
    assert set(ildl.viz.__all__) <= set(namespace)


@pytest.mark.parametrize("name", ["ewma", "optimizer_paths"])
def test_a_function_named_like_its_module_stays_the_function_once_the_module_is_imported(name):
    module = importlib.import_module(f"ildl.viz.{name}")  # as the gallery does
    assert getattr(ildl.viz, name) is getattr(module, name)
    namespace = {}
    exec(f"from ildl.viz import {name}", namespace)
    assert callable(namespace[name]) and namespace[name] is getattr(module, name)


def test_the_same_in_a_fresh_interpreter_importing_the_module_first():
    code = ("import ildl.viz.optimizer_paths, sys\nfrom ildl.viz import optimizer_paths\n"
            "assert optimizer_paths is sys.modules['ildl.viz.optimizer_paths'].optimizer_paths")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())


def test_a_submodule_is_an_attribute_after_import_ildl_viz_as_before_the_lazy_loading():
    code = ("import sys\nimport ildl.viz as viz\n"
            "assert viz.boundary is sys.modules['ildl.viz.boundary']\n"
            "assert viz.theme.CLASS_COLORS == ('#ef5350', '#42a5f5')\n"
            "assert callable(viz.ewma) and callable(viz.explanations.overlay)")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'ildl.viz' has no attribute 'plot_nothing'"):
        ildl.viz.plot_nothing  # noqa: B018
    with pytest.raises(ImportError):
        from ildl.viz import plot_nothing  # noqa: F401


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=os.environ.copy())
    return {name for name in result.stdout.split() if name.startswith("ildl")}


def test_one_plot_loads_its_module_only_and_not_all_of_nn():
    loaded = loaded_after("from ildl.viz import plot_history")
    assert "ildl.viz.training" in loaded
    assert not {"ildl.nn", "ildl.viz.boundary", "ildl.viz.optimizer_paths"} & loaded
    assert "ildl.nn" in loaded_after("from ildl.viz import BoundaryRecorder")  # an nn callback
