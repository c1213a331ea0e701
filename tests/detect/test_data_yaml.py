"""ildl.detect.data_yaml: reading and checking data.yaml, finding images and label files.

A data.yaml wrong in any way found ends in a ``DatasetError`` whose message starts with the file,
then the line or key, says what was expected and how to fix it; no file is changed.
"""

import time

import pytest
from detect_dataset_files import TINY_YAML, assert_says, make_dataset, tiny_dataset, unchanged

from ildl.detect.data_yaml import label_path, load_data_yaml
from ildl.detect.dataset import DetectionDataset
from ildl.detect.problems import DatasetError

pytest.importorskip("yaml")


def test_label_path_replaces_the_last_images_folder():
    assert label_path("/d/images/train/a.b.jpg").as_posix() == "/d/labels/train/a.b.txt"
    assert label_path("/images/x/images/train/a.png").as_posix() == "/images/x/labels/train/a.txt"
    assert label_path("/d/photos/a.png").as_posix() == "/d/photos/a.txt"


def test_yaml_variants(tmp_path):
    path = tiny_dataset(tmp_path, ["0 0.5 0.5 0.2 0.2\n"])
    # names as a dict, no path (the yaml's folder), train given as a .txt list
    (tmp_path / "train.txt").write_text("./images/train/0.png\n")
    (tmp_path / "data2.yaml").write_text("train: train.txt\nval: images/val\n"
                                         "names: {0: a, 1: b, 2: c}\nnc: 3\n")
    config = load_data_yaml(tmp_path / "data2.yaml")
    assert config.names == ["a", "b", "c"] and config.root == tmp_path
    assert config.splits["train"] == [tmp_path / "images" / "train" / "0.png"]
    # a moved dataset: its absolute path is gone, the yaml's folder has the images
    path.write_text(TINY_YAML.format(root="/no/such/folder"))
    assert load_data_yaml(path).root == tmp_path



@pytest.mark.parametrize("text, message", [
    ("train: images/train\nnames: [a]\nnc: 2\n", "nc is 2"),
    ("train: images/train\nnames: {0: a, 2: b}\n", "ids must be 0..1"),
    ("train: images/train\n", "needs 'names'"),
    ("train: nowhere\nnames: [a]\n", "train: .*nowhere"),
    ("names: [a]\n", "needs 'train'"),
    ("train: [images/train\n", "data.yaml:2: not valid YAML"),
])
def test_bad_yaml_is_explained(tmp_path, text, message):
    tiny_dataset(tmp_path, [])
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_data_yaml(tmp_path / "data.yaml")



def test_a_split_list_that_is_not_text_is_refused(tmp_path):
    path = make_dataset(tmp_path, yaml="train: train.txt\nnames: [a]\n")
    (tmp_path / "train.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        load_data_yaml(path)
    assert_says(str(error.value), f"{path}: train: {tmp_path / 'train.txt'}",
                "cannot be read as a list of images, one path a line")



def billion_laughs(levels=9):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, level in zip("abcdefghi", "bcdefghij"[:levels - 1]):
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\ntrain: images/train\nnames: *i\n"



BAD_YAML = [  # (text, the parts of the message: where, what, expected, fix)
    (billion_laughs(), [":1: the value anchored here (&name) is used again through an alias",
                        "aliases are refused", "write the value out"]),
    ("base: &base images/train\ntrain: *base\nnames: [a]\n",
     [":1: the value anchored here", "aliases are refused"]),
    ("train: 123\nnames: [a]\n", [": train is 123 (a number)", "expected a folder of images",
                                  "quote a folder named like a number: train: '123'"]),
    ("train: [images/train, [x]]\nnames: [a]\n", [": train is ['images/train', ['x']] (a list)"]),
    ("train: {a: 1}\nnames: [a]\n", [": train is {'a': 1} (a mapping)"]),
    ("val: true\ntrain: images/train\nnames: [a]\n", [": val is True (a boolean)"]),
    ("train: images/train\nnames: {0: a, 2: b}\n",
     [": 'names' ids must be 0..1, got [0, 2] (missing 1)", "number the classes from 0"]),
    ("train: images/train\nnames: {0: a, x: b}\n", [": names: id 'x' (a string) is not a whole",
                                                    "as in {0: cat, 1: dog}"]),
    ("train: images/train\nnames: []\n", [": names is [] (a list)", "expected a non-empty list"]),
    ("train: images/train\nnames: {}\n", [": names is {} (a mapping)"]),
    ("train: images/train\nnames: circle\n", [": names is 'circle' (a string)"]),
    ("train: images/train\nnames: [a, b, a]\n", [": names: 'a' is the name of classes 0 and 2",
                                                 "each class needs its own name"]),
    ("train: images/train\nnames: [a, '', b]\n", [": names: entry 1 is '' (a string)",
                                                  "needs a non-empty name"]),
    ("train: images/train\nnames: [a, [b]]\n", [": names: entry 1 is ['b'] (a list)"]),
    ("train: images/train\nnames: [yes, no]\n", [": names: entry 0 is True (a boolean)",
                                                 "quote it"]),
    ("train: images/train\nnames: [a]\nnc: 2\n", [": nc is 2 but 'names' has 1 entries",
                                                  "correct nc or leave it out"]),
    ("train: images/train\nnc: '3'\n", [": nc (the number of classes) is '3' (a string)",
                                        "expected a whole number from 1 to 100000"]),
    ("train: images/train\nnc: 0\n", [": nc (the number of classes) is 0 (a number)"]),
    ("train: images/train\nnc: 100000000000\n", [": nc (the number of classes) is 100000000000"]),
    ("train: images/train\n", [": needs 'names' (a list, or a dict id: name)"]),
    ("names: [a]\n", [": needs 'train' and/or 'val'", "its keys are: ['names']"]),
    ("trian: images/train\nnames: [a]\n", [": needs 'train' and/or 'val'", "'trian'"]),
    ("train: images/train\nval: images/val\ntrain: images/val\nnames: [a]\n",
     [":3: key 'train' is given twice (first on line 1)", "keep one"]),
    ("- images/train\n- names\n", [": holds ['images/train', 'names'] (a list)",
                                   "expected a mapping with train:, val: and names: keys"]),
    ("", [": is empty; expected a mapping"]),
    ("just some words\n", [": holds 'just some words' (a string)"]),
    ("train: [images/train\n", [":2: not valid YAML", "a data.yaml is lines of 'key: value'"]),
    ("train: !!python/object/apply:os.system [ls]\nnames: [a]\n",
     [":1: not valid YAML (could not determine a constructor for the tag"]),
    ("a: 1\n---\nb: 2\n", [": not valid YAML (expected a single document"]),
    ("train: " + "[" * 3000 + "]" * 3000 + "\nnames: [a]\n", [": nested too deeply"]),
    ("path: 2024\ntrain: images/train\nnames: [a]\n", [": path is 2024 (a number)",
                                                       "path: '2024'"]),
    ("path: /no/such/folder\ntrain: images/other\nnames: [a]\n",
     [": train: /no/such/folder/images/other: no such folder, image or image list",
      "the dataset folder /no/such/folder ('path') does not exist"]),
    ("train: nowhere\nnames: [a]\n", ["/nowhere: no such folder, image or image list",
                                      "entries are relative to 'path'"]),
    ("train: passwd\nnames: [a]\n", ["/passwd: not an image (.bmp, .jpeg, .jpg, .png, .tif",
                                     "a folder of images or a .txt list of images"]),
]



@pytest.mark.parametrize("text, parts", BAD_YAML, ids=[text[:24] for text, _ in BAD_YAML])
def test_a_bad_data_yaml_is_explained(tmp_path, text, parts):
    path = make_dataset(tmp_path, yaml=text)
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    start = time.perf_counter()
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert time.perf_counter() - start < 10  # the nested aliases hung past 120 s
    message = str(error.value)
    assert message.startswith(str(path)), message  # the file first, then the line or key
    assert_says(message, *parts)


@pytest.mark.parametrize("content, parts", [
    ("png", [":1: not UTF-8 text (byte 0x89 at offset 0)", "is it an image"]),
    (b"train: images/train\nnames: [caf\xe9]\n", [":2: not UTF-8 text (byte 0xe9 at offset 31)"]),
    (b"x" * 1_500_000, [": 1.5 MB is too large for a data.yaml (at most 256 kB)"]),
])
def test_a_data_yaml_that_is_not_a_short_text_file_is_refused(tmp_path, content, parts):
    make_dataset(tmp_path)
    if content == "png":
        content = (tmp_path / "images" / "train" / "0.png").read_bytes()
    (tmp_path / "data.yaml").write_bytes(content)
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        load_data_yaml(tmp_path / "data.yaml")
    assert_says(str(error.value), f"{tmp_path / 'data.yaml'}", *parts,
                "expected a dataset description: a short UTF-8 text file with train:, val:")


def test_a_folder_or_a_missing_file_given_as_data_yaml_is_explained(tmp_path):
    make_dataset(tmp_path)
    with unchanged(tmp_path):
        with pytest.raises(DatasetError, match="is a folder; expected a dataset description"):
            load_data_yaml(tmp_path)
        with pytest.raises(DatasetError, match="no such dataset file; expected"):
            load_data_yaml(tmp_path / "missing.yaml")


def test_good_variants_still_load(tmp_path):
    make_dataset(tmp_path)
    good = ["\ufefftrain: images/train\nnames: [a]\n",  # a byte-order mark
            "train: [images/train, images/val]\nnames: {0: a, 1: 7}\nnc: 2\n",
            "train: images/train\nval: null\ntest: ''\nnames: [a]\ndownload: |\n  echo hi\n",
            "train: images/train\nnc: 3\n"]
    expected = [["a"], ["a", "7"], ["a"], ["class0", "class1", "class2"]]
    for text, names in zip(good, expected):
        (tmp_path / "data.yaml").write_text(text)
        config = load_data_yaml(tmp_path / "data.yaml")
        assert config.names == names and config.splits["train"]
    assert len(config.splits) == 1  # val: null and test: '' are no splits

