"""ildl on macOS and Windows, checked from Linux: what the code says (every text file has an
encoding, Unix-only calls are guarded) and what can be imitated here (no sched_getaffinity, a
cp1252 stdout, a file that cannot be replaced yet, worker processes started by "spawn")."""

import ast
import io
import os
import pathlib
import pickle
import sys

import numpy as np
import pytest

import ildl
from ildl import atomic, cli

SOURCE = pathlib.Path(ildl.__file__).parent


def python_files():
    return sorted(SOURCE.rglob("*.py"))


def _mode(call: ast.Call, position: int, default: str) -> str | None:
    """The ``mode`` argument of an open-like call when written as a literal (None if computed)."""
    for keyword in call.keywords:
        if keyword.arg == "mode":
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else None
    if len(call.args) > position:
        argument = call.args[position]
        return argument.value if isinstance(argument, ast.Constant) else None
    return default


def _opens_text(call: ast.Call) -> bool:
    """Whether ``call`` opens a file in text mode, where Python's default encoding is the
    locale's (cp1252 on most Windows machines) unless ``encoding=`` is given."""
    function = call.func
    if isinstance(function, ast.Name) and function.id == "open":
        mode = _mode(call, 1, "r")
        return mode is None or "b" not in mode
    if not isinstance(function, ast.Attribute):
        return False
    owner = function.value.id if isinstance(function.value, ast.Name) else None
    if function.attr in ("read_text", "write_text"):
        return True
    if function.attr == "open" and owner in ("gzip", "bz2", "lzma"):  # binary by default
        mode = _mode(call, 1, "rb")
        return mode is None or "t" in mode
    if function.attr == "open" and owner in ("io",) or function.attr == "fdopen":
        mode = _mode(call, 1, "r")
        return mode is None or "b" not in mode
    if function.attr == "open" and owner not in ("os", "Image", "webbrowser", "zipfile",
                                                 "tarfile"):  # Path.open(mode="r")
        mode = _mode(call, 0, "r")
        return mode is None or "b" not in mode
    return False


def text_opens_without_encoding(source: str) -> list[int]:
    """Line numbers of the text-mode opens in ``source`` that do not say ``encoding=``."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and _opens_text(node)
            and not any(keyword.arg == "encoding" for keyword in node.keywords)]


def test_the_encoding_check_finds_what_it_looks_for():
    source = "\n".join([
        "open(path)",                                      # 1: text, no encoding
        "open(path, 'rb')",                                # binary
        "open(path, 'w', encoding='utf-8')",               # said
        "path.read_text()",                                # 4
        "path.write_text(text, encoding='utf-8')",         # said
        "gzip.open(path)",                                 # binary by default
        "gzip.open(path, 'rt')",                           # 7
        "Image.open(path)",                                # PIL: binary
        "os.open(path, os.O_RDONLY)",                      # a descriptor
        "path.open('a')",                                  # 10
        "open(path, mode)",                                # 11: unknown mode
    ])
    assert text_opens_without_encoding(source) == [1, 4, 7, 10, 11]


@pytest.mark.parametrize("path", python_files(), ids=lambda path: str(path.relative_to(SOURCE)))
def test_every_text_file_is_opened_with_an_encoding(path):
    """Windows reads and writes text in the locale's code page unless told otherwise: a label
    file or data.yaml with a non-ASCII class name would not round-trip."""
    lines = text_opens_without_encoding(path.read_text(encoding="utf-8"))
    assert lines == [], f"{path}: lines {lines} open text without encoding='utf-8'"


# Functions of the os module that exist only on Unix, or only on Linux (Python documentation,
# "Availability"); each use must sit under `if hasattr(os, "<name>")`.
UNIX_ONLY = {"sched_getaffinity", "sched_setaffinity", "fork", "forkpty", "getuid", "geteuid",
             "getgid", "getegid", "getpgid", "setsid", "killpg", "uname", "getloadavg", "nice",
             "sync", "statvfs", "fchown", "lchown", "mkfifo", "O_DIRECTORY", "O_NOFOLLOW"}
UNIX_ONLY_MODULES = {"fcntl", "resource", "pwd", "grp", "termios", "posix"}


def unguarded_unix_calls(source: str) -> list[str]:
    tree = ast.parse(source)
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            for test in ast.walk(node.test):
                if (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)
                        and test.func.id == "hasattr" and len(test.args) == 2
                        and isinstance(test.args[1], ast.Constant)):
                    guarded |= {(id(inner), test.args[1].value)
                                for statement in node.body for inner in ast.walk(statement)}
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "os" and node.attr in UNIX_ONLY
                and (id(node), node.attr) not in guarded):
            found.append(f"line {node.lineno}: os.{node.attr}")
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) else [])
        found += [f"line {node.lineno}: import {name}" for name in names
                  if name and name.split(".")[0] in UNIX_ONLY_MODULES]
    return found


def test_the_unix_only_check_finds_what_it_looks_for():
    source = "\n".join([
        "import fcntl",
        "cores = len(os.sched_getaffinity(0))",
        "if hasattr(os, 'sched_getaffinity'):",
        "    cores = len(os.sched_getaffinity(0))",
    ])
    assert unguarded_unix_calls(source) == ["line 1: import fcntl",
                                            "line 2: os.sched_getaffinity"]


@pytest.mark.parametrize("path", python_files(), ids=lambda path: str(path.relative_to(SOURCE)))
def test_unix_only_calls_are_guarded(path):
    assert unguarded_unix_calls(path.read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------------------
# Cores: os.sched_getaffinity is Linux only; the parser must build without it
# --------------------------------------------------------------------------------------

def test_cores_on_python_3_13_and_later(monkeypatch):
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    assert cli._available_cores() == 3


def test_cores_on_linux_before_python_3_13(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    assert cli._available_cores() == 2


def test_cores_on_macos_and_windows_before_python_3_13(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert cli._available_cores() == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # "undeterminable"
    assert cli._available_cores() == 1


def test_commands_run_without_sched_getaffinity(monkeypatch, capsys):
    """As on macOS and Windows: the parser used to call os.sched_getaffinity for every command."""
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert cli.build_parser().parse_args(["gallery"]).jobs is None  # counted when rendering
    assert cli.main(["gallery", "--list"]) == 0
    assert "numpy_model_animation" in capsys.readouterr().out


@pytest.mark.parametrize("given, expected", [([], "cores"), (["--jobs", "3"], 3)])
def test_gallery_jobs_default_to_the_available_cores(monkeypatch, tmp_path, given, expected):
    import ildl.gallery

    monkeypatch.setattr(cli, "_available_cores", lambda: 5)
    asked = {}

    def render_gallery(out, only, options, jobs):
        asked["jobs"] = jobs
        return []

    monkeypatch.setattr(ildl.gallery, "render_gallery", render_gallery)
    assert cli.main(["gallery", "--out", str(tmp_path), *given]) == 0
    assert asked["jobs"] == (5 if expected == "cores" else expected)


# --------------------------------------------------------------------------------------
# Output: Windows encodes a redirected stdout with the locale's code page
# --------------------------------------------------------------------------------------

def test_output_that_the_code_page_cannot_encode_is_printed_not_fatal(monkeypatch):
    """`ildl gallery --list > figures.txt` on Windows: the captions hold β, σ and →, which
    cp1252 lacks; they become "?" instead of a UnicodeEncodeError."""
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["gallery", "--list"]) == 0
    stdout.flush()
    text = raw.getvalue().decode("cp1252")
    assert "numpy_model_animation" in text and "?" in text
    assert "β" not in text


def test_utf8_output_is_left_as_it_is(monkeypatch):
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["gallery", "--list"]) == 0
    assert stdout.errors == "strict"


# --------------------------------------------------------------------------------------
# Replacing a file: Windows refuses while another program holds the target open
# --------------------------------------------------------------------------------------

@pytest.fixture
def refusing_replace(monkeypatch):
    """os.replace refused ``refusals[0]`` times (as Windows does while a virus scanner holds the
    file), then done; the waits are recorded instead of slept."""
    real_replace, refusals, waits = os.replace, [0], []

    def replace(source, target):
        if refusals[0] > 0:
            refusals[0] -= 1
            raise PermissionError(13, "The process cannot access the file because it is being "
                                      "used by another process", str(target))
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(atomic.time, "sleep", waits.append)
    return refusals, waits


def test_a_briefly_locked_file_is_replaced_after_waiting(tmp_path, refusing_replace):
    refusals, waits = refusing_replace
    target = tmp_path / "model.ildl"
    target.write_bytes(b"old")
    refusals[0] = 3
    atomic.write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"new" and len(waits) == 3
    assert os.listdir(tmp_path) == ["model.ildl"]


def test_a_file_locked_for_good_is_kept_and_the_refusal_raised(tmp_path, refusing_replace):
    refusals, waits = refusing_replace
    target = tmp_path / "model.ildl"
    target.write_bytes(b"old")
    refusals[0] = 1000
    with pytest.raises(PermissionError, match="used by another process"):
        atomic.write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.ildl"]
    assert 0 < sum(waits) <= 1.5  # about a second of patience, not forever


# --------------------------------------------------------------------------------------
# Worker processes: macOS and Windows start them by "spawn", which pickles what they run
# (the gallery always uses "spawn": tests/gallery/test_gallery.py renders with jobs=2)
# --------------------------------------------------------------------------------------

def small_detection_dataset(folder):
    from ildl.data.shapes import write_dataset
    from ildl.detect.dataset import DetectionDataset

    data_yaml = write_dataset(folder, n_train=4, n_val=1, size=64, workers=1)
    return DetectionDataset(data_yaml, "train", 64)


def assert_same_batches(batches, expected):
    """Batches of (images, targets) tensors, equal one by one."""
    assert len(batches) == len(expected)
    for batch, reference in zip(batches, expected):
        for mine, theirs in zip(batch, reference, strict=True):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_the_detection_dataset_survives_pickling(tmp_path, torch):
    """What a spawned DataLoader worker receives: the dataset and collate, by pickle."""
    from ildl.detect.dataset import collate

    dataset = small_detection_dataset(tmp_path / "shapes")
    copy, collate_copy = pickle.loads(pickle.dumps((dataset, collate)))
    assert_same_batches([collate_copy([copy[0], copy[1]])], [collate([dataset[0], dataset[1]])])


@pytest.mark.slow
def test_the_detection_dataset_loads_in_spawned_workers(tmp_path, torch):
    """DataLoader workers started as on macOS and Windows give the batches of the main process."""
    from ildl.detect.dataset import collate

    dataset = small_detection_dataset(tmp_path / "shapes")

    def batches(**workers):
        return list(torch.utils.data.DataLoader(dataset, batch_size=2, collate_fn=collate,
                                                **workers))

    assert_same_batches(batches(num_workers=2, multiprocessing_context="spawn"), batches())
