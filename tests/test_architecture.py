"""The package's layers, read from its source: dependencies point down and never loop.

Every ``import`` in ``src/ildl`` (module level and inside functions alike) is an edge of a graph
between ildl's modules. Two rules keep the package readable bottom-up (README, "Architecture"):

* layers: a module never imports from a layer above its own (``nn`` and ``data`` know nothing of
  ``viz``, ``viz`` nothing of ``detect``, ``explain``, ``gallery`` or the CLI, ...);
* no cycles: no chain of imports leads from a module back to itself.
"""

import ast
import graphlib
from pathlib import Path

import ildl

PACKAGE = Path(ildl.__file__).parent

# Each area may import only from the areas listed under it (and from itself). The top-level
# utilities (errors, files written atomically, the cache folder, optional packages, the progress
# bar, figure files) sit below everything.
BOTTOM = {"ildl", "ildl.errors", "ildl.validation", "ildl.atomic", "ildl.cache", "ildl.optional",
          "ildl.progress", "ildl.graphics", "ildl.images", "ildl.outputs"}
ALLOWED = {
    "nn": set(),
    "data": set(),
    "viz": {"nn", "data"},
    "demos": {"nn", "data", "viz"},
    "detect": {"nn", "data", "viz"},
    "explain": {"nn", "data", "viz"},
    "gallery": {"nn", "data", "viz", "demos", "detect", "explain"},
    "playground": {"nn", "data"},
    "cli": {"nn", "data", "viz", "demos", "detect", "explain", "gallery", "playground"},
}


def module_names() -> dict[str, Path]:
    """``{"ildl.nn.layers.dense": path, "ildl.nn": path of nn/__init__.py, ...}``."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("ildl", *path.relative_to(PACKAGE).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ildl modules that module ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            origin = node.module if not node.level else \
                base + ("." + node.module if node.module else "")
            # ``from ildl.nn import losses`` imports the module ildl.nn.losses
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules
                       else origin for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def area(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_every_module_imports_only_from_the_layers_below():
    upward = [f"{module} imports {target}"
              for module, targets in sorted(import_graph().items()) if module not in BOTTOM
              for target in sorted(targets)
              if target not in BOTTOM and area(target) != area(module)
              and area(target) not in ALLOWED[area(module)]]
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def test_the_bottom_utilities_import_no_other_layer():
    graph = import_graph()
    wrong = [f"{module} imports {target}" for module in sorted(BOTTOM & set(graph))
             for target in sorted(graph[module]) if target not in BOTTOM]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    cycle = import_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One chain of imports that leads from a module back to itself (``[a, b, a]``: a imports b,
    b imports a), or ``[]``: the standard library's topological sort finds it."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1][::-1]  # graphlib follows the edges backwards (what each needs)
    return []


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a made-up graph with one loop is caught, a tree is not."""
    looped = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(set(import_cycle(looped))) == ["a", "b", "c"]
    assert import_cycle(looped) in (["a", "b", "c", "a"], ["b", "c", "a", "b"],
                                    ["c", "a", "b", "c"])  # in the direction of the imports
    assert import_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
