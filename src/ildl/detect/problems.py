"""What goes wrong in a detection dataset: ``Problem`` (one finding) and ``DatasetError``.

A ``Problem`` says where (a file, and a 1-based line for a label line) and what: a short
``reason`` that the split's summary counts ("class out of range", "unreadable image", ...) and a
``detail`` for people. It prints as ``labels/train/a.txt:3: class out of range: class id 7; ...``.

``DatasetError`` (an ``ildl.errors.DataError``) is raised for a dataset that cannot be used as
given; when a ``Problem`` is behind it, it carries it, so a reader that skips and counts bad
items (``dataset.scan_split``) can record the problem instead of stopping.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError


@dataclass(frozen=True)
class Problem:
    """Something wrong in a dataset: where (file, 1-based line or None), what kind, details."""

    path: str
    line: int | None
    reason: str  # a short category, counted in the summary
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}: {self.detail}"


class DatasetError(DataError):
    """A dataset that cannot be used as given: a bad data.yaml, or a problem in strict mode.

    ``problem`` is the ``Problem`` behind it, when there is one.
    """

    def __init__(self, message: str, problem: Problem | None = None):
        super().__init__(message)
        self.problem = problem

    @classmethod
    def of(cls, problem: Problem) -> DatasetError:
        return cls(str(problem), problem)
