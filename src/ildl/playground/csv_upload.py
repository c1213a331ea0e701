"""The learner's own 2-D data: a CSV of ``x1,x2,label`` (or ``x1,x2,target`` for regression).

The text comes from a browser, so it is read as numbers and nothing else: each value must be a
plain decimal number (``-1.5``, ``2e-3``; no ``nan``, ``inf``, ``0x10`` or formulas), every row
holds three of them, and the whole is size-limited before it is parsed. A first line of names
(``x1,x2,label``) is allowed. A file with mistakes is refused with the first few bad lines named,
so the page can say exactly what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .config import MAX_CLASSES

MAX_BYTES = 1_000_000
MAX_ROWS = 5000
MIN_ROWS = 10
MAX_NAME_CHARACTERS = 80
BAD_LINES_SHOWN = 5  # a file that is wrong everywhere names its first few lines, not all
COLUMNS = 3
# A decimal number as people write them: sign, digits with an optional point, optional exponent.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class UploadedData:
    """Parsed rows: ``x`` float64 ``(N, 2)``; ``y`` int64 labels ``(N,)`` for a classification
    problem, float64 targets ``(N,)`` for regression; ``has_header`` says whether line 1 held the
    column names (the exported code skips it)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    has_header: bool


def parse_csv(text: str, problem: str, name: str = "data.csv") -> UploadedData:
    """Read an uploaded CSV for ``problem`` ("binary", "multiclass" or "regression").

    Raises ``DataError`` with the reason and the first bad lines: ``line 7: 'abc' is not a
    number``, ``line 9: 2 values, expected 3 (x1,x2,label)``.
    """
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise DataError(f"the file is larger than {MAX_BYTES // 1000} kB; the playground takes "
                        f"up to {MAX_ROWS} rows of x1,x2,label")
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)
             if line.strip()]
    has_header = bool(lines) and _is_header(lines[0][1])
    rows = lines[1:] if has_header else lines
    if len(rows) < MIN_ROWS:
        raise DataError(f"the file has {len(rows)} data rows; the playground needs at least "
                        f"{MIN_ROWS} rows of x1,x2,label")
    if len(rows) > MAX_ROWS:
        raise DataError(f"the file has {len(rows)} data rows; the playground takes at most "
                        f"{MAX_ROWS}")
    values, problems = _read_rows(rows)
    if problems:
        raise DataError(_bad_lines_message(problems))
    table = np.array(values, dtype=np.float64)
    x, target = table[:, :2], table[:, 2]
    y = target if problem == "regression" else _labels(target, [n for n, _ in rows], problem)
    return UploadedData(_safe_name(name), x, y, has_header)


def _is_header(line: str) -> bool:
    """A first line whose fields are all words, not numbers, names the columns."""
    return not any(_NUMBER.fullmatch(field.strip()) for field in line.split(","))


def _read_rows(rows: list[tuple[int, str]]) -> tuple[list[list[float]], list[str]]:
    """The rows as numbers, and a description of every bad line."""
    values, problems = [], []
    for number, line in rows:
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != COLUMNS:
            hint = " (separate the values with commas)" if len(fields) == 1 and \
                re.search(r"[;\t ]", line) else ""
            problems.append(f"line {number}: {len(fields)} value{'s' * (len(fields) != 1)}, "
                            f"expected {COLUMNS} (x1,x2,label){hint}")
            continue
        wrong = next((field for field in fields if not _NUMBER.fullmatch(field)), None)
        if wrong is not None:
            problems.append(f"line {number}: {_shorten(wrong)!r} is not a number")
            continue
        row = [float(field) for field in fields]
        if not all(np.isfinite(row)):
            problems.append(f"line {number}: a value is too large for a float")
            continue
        values.append(row)
    return values, problems


def _labels(target: np.ndarray, line_numbers: list[int], problem: str) -> np.ndarray:
    """Class labels 0, 1, ... from the third column; a real-valued column points to regression."""
    allowed = 2 if problem == "binary" else MAX_CLASSES
    wrong = [(line, value) for line, value in zip(line_numbers, target)
             if value != int(value) or not 0 <= value < allowed]
    if wrong:
        fix = ("use labels 0 and 1, or choose the multiclass problem" if problem == "binary"
               else f"use labels 0 to {MAX_CLASSES - 1}")
        fix += "; for a real-valued target choose the regression problem"
        shown = [f"line {line}: label {value:g}" for line, value in wrong[:BAD_LINES_SHOWN]]
        raise DataError(f"{_count(wrong, 'row')} with a label that is not a class for a "
                        f"{problem} problem: {'; '.join(shown)}. {fix.capitalize()}")
    labels = target.astype(np.int64)
    if len(np.unique(labels)) < 2:
        raise DataError(f"every row has label {labels[0]}; a classifier needs two classes or more")
    return labels


def _bad_lines_message(problems: list[str]) -> str:
    more = len(problems) - BAD_LINES_SHOWN
    tail = f"; and {_count(problems[BAD_LINES_SHOWN:], 'more line')}" if more > 0 else ""
    return (f"{_count(problems, 'line')} cannot be read: {'; '.join(problems[:BAD_LINES_SHOWN])}"
            f"{tail}. Each row must be three numbers, x1,x2,label")


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'s' * (len(items) != 1)}"


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _safe_name(name: str) -> str:
    """The file's name as the exported code may quote it: a plain base name, or data.csv."""
    base = re.split(r"[\\/]", str(name))[-1]
    plain = re.fullmatch(rf"[\w .-]{{1,{MAX_NAME_CHARACTERS}}}", base)
    return base if plain else "data.csv"
