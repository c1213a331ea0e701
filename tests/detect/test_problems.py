"""ildl.detect.problems: a problem names its file (and line), and the error carries it."""

from ildl.detect.problems import DatasetError, Problem
from ildl.errors import DataError


def test_a_problem_names_the_file_and_the_line_when_there_is_one():
    assert str(Problem("labels/a.txt", 3, "class out of range", "class id 7")) == \
        "labels/a.txt:3: class out of range: class id 7"
    assert str(Problem("images/a.png", None, "unreadable image", "truncated")) == \
        "images/a.png: unreadable image: truncated"


def test_a_dataset_error_carries_its_problem_and_is_a_data_error():
    problem = Problem("labels/a.txt", 2, "malformed line", "not all numbers: '0 a'")
    error = DatasetError.of(problem)
    assert error.problem is problem and str(error) == "labels/a.txt:2: malformed line: not all " \
        "numbers: '0 a'"
    assert isinstance(error, DataError) and isinstance(error, ValueError)
    assert DatasetError("data.yaml: no 'val' split").problem is None
