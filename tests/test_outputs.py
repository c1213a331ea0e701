"""Output folders: checked before any work, created when needed, nothing earlier replaced."""

import os

import pytest

from ildl.errors import ArgumentError, OverwriteError
from ildl.outputs import check_new_files, check_out_folder, is_path, make_out_folder


@pytest.mark.parametrize("value, expected", [("runs", True), ("a b/c", True), ("", False),
                                             ("a\0b", False), (3, False), (None, False)])
def test_a_path_is_a_non_empty_string_without_nul(value, expected):
    assert is_path(value) is expected


def test_an_out_that_is_a_file_or_not_a_path_is_refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(OverwriteError, match=f"--out '{notes}' is a file; figures need a "
                                             "folder: choose another --out"):
        check_out_folder(str(notes), "figures need a folder")
    with pytest.raises(ArgumentError, match="--out '' is not valid: it must be a path"):
        check_out_folder("", "figures need a folder")
    check_out_folder(str(tmp_path / "new"), "figures need a folder")  # missing is fine
    assert notes.read_text() == "keep me" and not (tmp_path / "new").exists()


def test_a_folder_that_cannot_be_made_names_out(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    out = str(tmp_path / "notes.txt" / "run")
    with pytest.raises(ArgumentError, match=r"--out '.*run': cannot create the folder"):
        make_out_folder(out)
    make_out_folder(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


def test_earlier_results_are_kept_unless_overwrite(tmp_path):
    paths = [str(tmp_path / f"{name}.png") for name in "abcdefg"]
    check_new_files(paths, overwrite=False, out=str(tmp_path))  # nothing there yet
    for path in paths[:6]:
        open(path, "w").close()
    with pytest.raises(OverwriteError, match=r"already holds a.png, b.png, c.png, d.png and 2 "
                                             r"more from an earlier run; pass --overwrite"):
        check_new_files(paths, overwrite=False, out=str(tmp_path))
    check_new_files(paths, overwrite=True, out=str(tmp_path))


def test_an_input_is_never_replaced_even_with_overwrite(tmp_path):
    photo = tmp_path / "cat.png"
    photo.write_bytes(b"pixels")
    link = tmp_path / "link.png"
    os.symlink(photo, link)
    for target in (photo, link):  # the same file under another name too
        with pytest.raises(OverwriteError, match="would replace an input of the command"):
            check_new_files([str(target)], overwrite=True, out=str(tmp_path),
                            inputs=[str(photo)])
    assert photo.read_bytes() == b"pixels"
