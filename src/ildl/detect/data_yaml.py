"""The dataset layout: reading and checking a ``data.yaml``, finding the images and their labels.

The layout every labelling tool exports::

    data.yaml             path: /data/shapes   train: images/train   val: images/val
                          names: {0: circle, 1: square}   (or a list: [circle, square])
    images/train/a.png    an image
    labels/train/a.txt    its objects (see ``labels``); no file = no objects

**Finding things.** ``path`` is the dataset folder: absolute, or relative to the yaml's folder
(Ultralytics reads a relative ``path`` against its own datasets folder instead); without it, the
yaml's folder. ``train``/``val``/``test`` are relative to ``path``: a folder (searched
recursively for images), an image, a ``.txt`` list of image paths (relative ones relative to the
list's folder), or a list of these (``image_files``). A label file is found by replacing the last
``/images/`` of the image path with ``/labels/`` and the extension with ``.txt``
(``label_path``).

**Checks.** A data.yaml is checked key by key before any image is looked for: a wrong one raises
``DatasetError`` naming the file and the key (or line), what was expected and the fix. It must
be a short UTF-8 text file (at most ``MAX_YAML_BYTES``); YAML aliases are refused (nested ones
can expand to billions of entries), and so are keys given twice (PyYAML would keep the last).
``load_data_yaml`` returns a ``DataConfig``: the class names and every split's image files.
Reading needs PyYAML, not torch.
"""

from __future__ import annotations

import os
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MissingDependencyError
from .problems import DatasetError

if TYPE_CHECKING:
    import yaml

IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
SPLIT_NAMES = ("train", "val", "test")
MAX_YAML_BYTES = 256_000  # a few lines; the 1203 class names of LVIS take about 25 kB
MAX_CLASSES = 100_000
_KEYS = "train:, val: and names: keys"


@dataclass
class DataConfig:
    """What a ``data.yaml`` says, with every path resolved.

    ``splits`` maps "train", "val" (and "test" when given) to their image files, sorted;
    ``sources`` maps them to the folders, images and lists that the yaml names (for messages).
    """

    yaml_path: Path
    root: Path
    names: list[str]
    splits: dict[str, list[Path]]
    sources: dict[str, list[Path]] = field(default_factory=dict)


def _shown(value: object) -> str:
    """A value for a message: its repr, cut short, and its YAML type."""
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a mapping", type(None): "empty"}
    return f"{reprlib.repr(value)} ({kinds.get(type(value), type(value).__name__)})"


def _yaml_text(path: Path) -> str:
    """The text of a data.yaml, refused when missing, a folder, huge or not UTF-8 text."""
    expected = f"expected a dataset description: a short UTF-8 text file with {_KEYS}"
    try:
        size = path.stat().st_size
    except (OSError, ValueError) as error:
        what = "no such dataset file" if isinstance(error, FileNotFoundError) else \
            f"cannot be read ({error})"
        raise DatasetError(f"{path}: {what}; {expected}") from None
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder; {expected} (usually its data.yaml)")
    if size > MAX_YAML_BYTES:
        raise DatasetError(f"{path}: {size / 1e6:.1f} MB is too large for a data.yaml (at most "
                           f"{MAX_YAML_BYTES // 1000} kB); {expected}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text (byte {error.object[error.start]:#04x} "
                           f"at offset {error.start}): is it an image or another binary file? "
                           f"{expected}") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error}); {expected}") from None


def _check_yaml_tree(root: yaml.Node, path: Path) -> None:
    """Refuse aliases and keys given twice, walking the parsed (not yet built) document.

    An alias (``*name``) repeats the value anchored with ``&name``; nested ones multiply: nine
    levels of nine aliases are 9**9 = 387 million entries from a 1 kB file ("billion laughs").
    The parser shares an anchored node rather than copying it, so an alias shows as a node met
    a second time. PyYAML keeps the last of two equal keys without a word; this says so.
    """
    import yaml

    seen: set[int] = set()
    waiting = [root]
    while waiting:  # a loop, not recursion: a file may nest deeper than Python's stack
        node = waiting.pop()
        if id(node) in seen:
            raise DatasetError(f"{path}:{node.start_mark.line + 1}: the value anchored here "
                               "(&name) is used again through an alias (*name); aliases are "
                               "refused in data.yaml (nested ones can expand to billions of "
                               "entries): write the value out where it is used")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and (key.tag, key.value) in lines:
                    raise DatasetError(f"{path}:{line}: key {key.value!r} is given twice "
                                       f"(first on line {lines[key.tag, key.value]}); only "
                                       "the last would count: keep one")
                lines[key.tag, key.value] = line
                waiting += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            waiting += node.value


def _yaml_document(text: str, path: Path) -> object:
    """``yaml.safe_load(text)`` in its two steps, checking the parsed tree before building."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_yaml_tree(root, path)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> dict:
    try:
        import yaml
    except ImportError:
        raise MissingDependencyError("reading data.yaml needs PyYAML: pip install pyyaml") from None
    text = _yaml_text(path)
    try:
        content = _yaml_document(text, path)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)  # or, from the reader, only a position:
        offset = mark.index if mark is not None else getattr(error, "position", None)
        line = text[:offset].count("\n") + 1 if offset is not None else None
        where = f"{path}:{line}" if line is not None else str(path)
        # PyYAML's own text spans lines (it quotes the line and marks the column): one line here
        said = [getattr(error, "context", None), getattr(error, "problem", None)]
        detail = ", ".join(filter(None, said)) or str(error).splitlines()[0]
        raise DatasetError(f"{where}: not valid YAML ({detail}); a data.yaml is lines of "
                           "'key: value'") from None
    except RecursionError:
        raise DatasetError(f"{path}: nested too deeply to read; a data.yaml holds "
                           f"{_KEYS}") from None
    if not isinstance(content, dict):
        holds = "is empty" if content is None else f"holds {_shown(content)}"
        raise DatasetError(f"{path}: {holds}; expected a mapping with {_KEYS} (lines of "
                           "'key: value')")
    return content


def _name(value: object, where: str, path: Path) -> str:
    """One class name: a non-empty string (numbers are taken as text)."""
    text = str(value) if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not text.strip():
        hint = " (YAML reads yes/no/on/off as booleans: quote it)" if isinstance(value, bool) \
            else ""
        raise DatasetError(f"{path}: names: {where} is {_shown(value)}; each class needs a "
                           f"non-empty name{hint}")
    return text


def _class_names(content: dict, path: Path) -> list[str]:
    """``names`` as a list (from a list or a dict of ids 0..n-1), checked against ``nc``."""
    names = content.get("names")
    count = content.get("nc")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= MAX_CLASSES):
        raise DatasetError(f"{path}: nc (the number of classes) is {_shown(count)}; expected a "
                           f"whole number from 1 to {MAX_CLASSES}, or leave it out and list "
                           "'names'")
    if names is None:
        if count is None:
            raise DatasetError(f"{path}: needs 'names' (a list, or a dict id: name), e.g. "
                               "names: [cat, dog]")
        return [f"class{i}" for i in range(count)]
    if isinstance(names, dict) and names:
        names = _names_by_id(names, path)
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{path}: names is {_shown(names)}; expected a non-empty list "
                           "([cat, dog]) or a dict of ids 0..n-1 ({0: cat, 1: dog})")
    if len(names) > MAX_CLASSES:
        raise DatasetError(f"{path}: names lists {len(names)} classes; at most {MAX_CLASSES}")
    names = [_name(name, f"entry {i}", path) for i, name in enumerate(names)]
    first = {}
    for i, name in enumerate(names):
        if name in first:
            raise DatasetError(f"{path}: names: {name!r} is the name of classes {first[name]} "
                               f"and {i}; each class needs its own name (merge the classes "
                               "in the label files, or rename one)")
        first[name] = i
    if count is not None and count != len(names):
        raise DatasetError(f"{path}: nc is {count} but 'names' has {len(names)} entries; "
                           "correct nc or leave it out")
    return names


def _names_by_id(names: dict, path: Path) -> list:
    """``{0: cat, 1: dog}`` -> ``[cat, dog]``; the ids must be 0..n-1."""
    ids = list(names)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        wrong = next(i for i in ids if isinstance(i, bool) or not isinstance(i, int))
        raise DatasetError(f"{path}: names: id {_shown(wrong)} is not a whole number; the ids "
                           f"must be 0..{len(ids) - 1}, as in {{0: cat, 1: dog}}")
    missing = sorted(set(range(len(ids))) - set(ids))
    if missing:
        raise DatasetError(f"{path}: 'names' ids must be 0..{len(ids) - 1}, got {sorted(ids)} "
                           f"(missing {', '.join(map(str, missing[:10]))}); number the "
                           "classes from 0 without gaps, as the label files do")
    return [names[i] for i in range(len(ids))]


def _dataset_root(content: dict, path: Path) -> Path:
    folder = path.parent
    given = content.get("path")
    if given is None or given == "":
        return folder
    if not isinstance(given, str):
        raise DatasetError(f"{path}: path is {_shown(given)}; expected the dataset folder, "
                           "absolute or relative to the yaml (quote a folder named like a "
                           "number: path: '2024')")
    root = Path(os.path.expanduser(given))
    root = root if root.is_absolute() else folder / root
    # A dataset folder that was moved or copied keeps its old absolute path in data.yaml:
    # fall back to the yaml's own folder when it is the one that holds the splits.
    train = content.get("train")
    if not root.exists() and isinstance(train, str) and (folder / train).exists():
        return folder
    return root


def _split_entries(content: dict, split: str, path: Path) -> list[str]:
    """What ``train``/``val``/``test`` name, as a list of strings (empty when not given)."""
    value = content.get(split)
    if value is None or value == "" or value == []:
        return []
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise DatasetError(f"{path}: {split} is {_shown(value)}; expected a folder of "
                               "images, an image, a .txt list of images, or a list of these, "
                               f"relative to 'path' (quote a folder named like a number: "
                               f"{split}: '123')")
    return entries


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def image_files(source: str | os.PathLike | list, root: str | os.PathLike = ".") -> list[Path]:
    """The images a split entry names: a folder, an image, a .txt list, or a list of these.

    Relative entries are relative to ``root``; relative lines in a .txt list, to its folder.
    """
    if isinstance(source, list | tuple):
        return sorted({image for entry in source for image in image_files(entry, root)})
    path = Path(source)
    path = path if path.is_absolute() else Path(root) / path
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _is_image(p))
    if path.suffix.lower() == ".txt" and path.is_file():
        lines = [line.strip() for line in _list_text(path).splitlines()]
        return sorted({Path(line) if Path(line).is_absolute() else path.parent / line
                       for line in lines if line})
    if path.is_file() and _is_image(path):
        return [path]
    if path.is_file():
        raise DatasetError(f"{path}: not an image ({', '.join(IMAGE_SUFFIXES)}), a folder of "
                           "images or a .txt list of images")
    raise DatasetError(f"{path}: no such folder, image or image list")


def _list_text(path: Path) -> str:
    """The text of a .txt list of images."""
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as error:
        raise DatasetError(f"{path}: cannot be read as a list of images, one path a line "
                           f"({type(error).__name__}: {error})") from None


def load_data_yaml(path: str | os.PathLike) -> DataConfig:
    """Read a ``data.yaml`` and find the images of each split (see the module docstring)."""
    path = Path(path)
    content = _read_yaml(path)
    names = _class_names(content, path)
    root = _dataset_root(content, path)
    entries = {split: _split_entries(content, split, path) for split in SPLIT_NAMES}
    if not entries["train"] and not entries["val"]:
        keys = reprlib.repr([str(key) for key in content]) if content else "none"
        raise DatasetError(f"{path}: needs 'train' and/or 'val' (image folders or lists, e.g. "
                           f"train: images/train); its keys are: {keys}")
    splits, sources = {}, {}
    for split, named in entries.items():
        if not named:
            continue
        try:
            splits[split] = image_files(named, root)
        except DatasetError as error:
            moved = "" if root.is_dir() else f"; the dataset folder {root} ('path') does not exist"
            raise DatasetError(f"{path}: {split}: {error}{moved} (entries are relative to "
                               "'path', or to the yaml's folder without it)") from None
        sources[split] = [Path(entry) if Path(entry).is_absolute() else root / entry
                          for entry in named]
    return DataConfig(yaml_path=path, root=root, names=names, splits=splits, sources=sources)


def label_path(image: str | os.PathLike) -> Path:
    """The label file of an image: the last ``images`` folder becomes ``labels``, and .txt.

    >>> label_path("/data/images/train/a.png").as_posix()
    '/data/labels/train/a.txt'
    """
    parts = list(Path(image).with_suffix(".txt").parts)
    for i in reversed(range(len(parts) - 1)):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts)
