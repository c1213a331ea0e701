"""Reading the learner's CSV: numbers only, bad lines named, sizes limited."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ildl.errors import DataError
from ildl.playground import csv_upload
from ildl.playground.csv_upload import parse_csv


def rows(count: int, label=lambda i: i % 2) -> list[str]:
    return [f"{i * 0.1:.1f},{-i * 0.2:.1f},{label(i)}" for i in range(count)]


def test_a_good_file_with_a_header():
    data = parse_csv("x1,x2,label\n" + "\n".join(rows(12)) + "\n\n", "binary", "mine.csv")
    assert data.has_header and data.name == "mine.csv"
    assert data.x.shape == (12, 2) and data.x.dtype == np.float64
    np.testing.assert_array_equal(data.x[3], [0.3, -0.6])
    np.testing.assert_array_equal(data.y, [i % 2 for i in range(12)])
    assert data.y.dtype == np.int64


def test_a_good_file_without_a_header_and_with_spaces_and_exponents():
    text = "\n".join([" 1e-3 , +2.5 , 0", ".5,-3.,1"] + rows(10))
    data = parse_csv(text, "binary")
    assert not data.has_header
    np.testing.assert_array_equal(data.x[:2], [[1e-3, 2.5], [0.5, -3.0]])


def test_regression_targets_are_real_numbers():
    data = parse_csv("\n".join(rows(10, label=lambda i: i * 0.25)), "regression")
    assert data.y.dtype == np.float64 and data.y[3] == 0.75


def test_multiclass_labels():
    data = parse_csv("\n".join(rows(12, label=lambda i: i % 4)), "multiclass")
    assert sorted(set(data.y)) == [0, 1, 2, 3]


def test_bad_rows_are_named_by_line():
    lines = ["x1,x2,label", *rows(12)]
    lines[3] = "0.1,abc,1"
    lines[5] = "0.1,0.2"
    lines[7] = "nan,0,1"
    lines[8] = "0x10,0,1"
    lines[9] = "1e999,0,1"
    with pytest.raises(DataError) as error:
        parse_csv("\n".join(lines), "binary")
    message = str(error.value)
    assert "5 lines cannot be read" in message
    assert "line 4: 'abc' is not a number" in message
    assert "line 6: 2 values, expected 3" in message
    assert "line 8: 'nan' is not a number" in message
    assert "line 9: '0x10' is not a number" in message
    assert "line 10: a value is too large" in message


def test_only_the_first_bad_lines_are_listed():
    with pytest.raises(DataError, match=r"30 lines cannot be read: line 1: .*line 5: .*; and 25 "
                                        r"more lines"):
        parse_csv("\n".join(["1,2,x"] * 30), "binary")


def test_semicolons_get_a_hint():
    with pytest.raises(DataError, match="separate the values with commas"):
        parse_csv("\n".join(row.replace(",", ";") for row in rows(12)), "binary")


@pytest.mark.parametrize("problem, label, message", [
    ("binary", lambda i: i % 3, "line 3: label 2.*choose the multiclass problem"),
    ("binary", lambda i: 0.5 * (i % 2), "line 2: label 0.5.*choose the regression problem"),
    ("multiclass", lambda i: i % 8, "Use labels 0 to 5"),
    ("multiclass", lambda i: -(i % 2), "label -1"),
    ("binary", lambda i: 1, "every row has label 1"),
])
def test_labels_that_do_not_fit_the_problem(problem, label, message):
    with pytest.raises(DataError, match=message):
        parse_csv("\n".join(rows(12, label)), problem)


def test_size_limits(monkeypatch):
    with pytest.raises(DataError, match="at least 10 rows"):
        parse_csv("x1,x2,label\n" + "\n".join(rows(9)), "binary")
    with pytest.raises(DataError, match="at most 5000"):
        parse_csv("\n".join(rows(5001)), "binary")
    with pytest.raises(DataError, match="larger than 1000 kB"):
        parse_csv("1,2,0\n" * 200_000, "binary")
    monkeypatch.setattr(csv_upload, "MAX_ROWS", 20)
    with pytest.raises(DataError, match="at most 20"):
        parse_csv("\n".join(rows(21)), "binary")


@pytest.mark.parametrize("name, expected", [("points.csv", "points.csv"),
                                            ("C:\\Users\\me\\my data.csv", "my data.csv"),
                                            ("../../etc/passwd", "passwd"),
                                            ("a'b\"c.csv", "data.csv"), ("", "data.csv")])
def test_the_name_the_exported_code_quotes_is_a_plain_base_name(name, expected):
    assert parse_csv("\n".join(rows(10)), "binary", name).name == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["0", "1", "-2.5", "1e3", "", " ", "x", "nan", "1,",
                                          "\t", ";", "1e999", "२", "0.5"]),
                         max_size=4).map(",".join), max_size=14).map("\n".join),
       st.sampled_from(["binary", "multiclass", "regression"]))
def test_any_text_is_data_or_a_data_error(text, problem):
    try:
        data = parse_csv(text, problem)
    except DataError:
        return
    assert np.isfinite(data.x).all() and np.isfinite(data.y).all()
    assert len(data.x) == len(data.y) >= csv_upload.MIN_ROWS
