"""Fuzzing ildl.detect.dataset: random label files and random data.yaml files.

Whatever the input, reading it either works or raises one of ildl's documented errors
(``ildl.errors.IldlError``) with a message; never an IndexError, KeyError, TypeError,
ZeroDivisionError or UnicodeDecodeError from inside. In the default mode a bad label line is
skipped and counted, never raised. Each test is bounded: 200 examples, a few seconds.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ildl.detect.dataset import DatasetError, DetectionDataset, load_data_yaml
from ildl.errors import IldlError

yaml = pytest.importorskip("yaml")
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
NAMES = ["circle", "square", "triangle"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two 40 x 30 training images, one val image; image 0 always has one good object."""
    root = tmp_path_factory.mktemp("fuzz")
    for split, count in (("train", 2), ("val", 1)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (40, 30), (60 * i, 90, 200)).save(root / "images" / split / f"{i}.png")
            (root / "labels" / split / f"{i}.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    (root / "data.yaml").write_text(f"train: images/train\nval: images/val\nnames: {NAMES}\n")
    return root


# --- label files ---------------------------------------------------------------------------

FIELD = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "-1", "1.5", "0.5", "1e400", "-0", "nan", "inf",
                     "-inf", "NaN", "1_0", "0x10", "", "٣", "½", "1e-320", "9" * 400]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-0.2, 1.2).map(lambda value: f"{value:.4f}"),
    st.integers(-10**30, 10**30).map(str),
    st.text(max_size=6),
)
LINE = st.one_of(st.lists(FIELD, max_size=11).map(" ".join), st.text(max_size=40))
LABEL_FILE = st.one_of(st.lists(LINE, max_size=8).map("\n".join).map(str.encode),
                       st.binary(max_size=80))


def lines_of(content: bytes) -> list[str]:
    """The non-blank lines of a label file, as the reader counts lines."""
    return [line for line in content.decode("utf-8").splitlines() if line.strip()]


@FUZZ
@given(content=LABEL_FILE)
def test_random_label_files_are_skipped_and_counted_or_refused_with_a_message(dataset, content):
    (dataset / "labels" / "train" / "1.txt").write_bytes(content)
    data = DetectionDataset(dataset / "data.yaml", imgsz=32, augment=False)
    summary = data.summary()
    try:
        lines = lines_of(content)
    except UnicodeDecodeError:  # the file cannot be read: its image goes, counted
        assert summary["problems"] == {"unreadable label file": 1} and len(data) == 1
    else:  # every line is an object or a counted skip; the good image keeps its object
        assert summary["images"] == 2 and summary["skipped_images"] == 0
        assert summary["objects"] + summary["skipped_lines"] == 1 + len(lines)
        assert all(problem.line is not None for problem in data.split.problems)
        for i in range(len(data)):
            image, targets = data.sample(i)
            assert image.shape == (32, 32, 3) and targets.shape[1] == 5
            assert np.isfinite(targets).all()
    try:
        DetectionDataset(dataset / "data.yaml", imgsz=32, strict=True)
    except DatasetError as error:
        assert "labels/train/1.txt" in str(error)


# --- data.yaml -----------------------------------------------------------------------------

# Folder names only from a small alphabet without "/", "." or "~": a random entry must not
# send the scan over the whole disk ("/", "..", "~"); the real folders come from a list.
FOLDER = st.sampled_from(["images/train", "images/val", "images", "", "labels/train",
                          "images/train/0.png", "nowhere"])
ENTRY = st.one_of(FOLDER, st.text("abcimgs_- 0123", max_size=8))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(),
                   st.text(max_size=8), ENTRY)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.integers(-1, 4), st.text(max_size=3)),
                                                 inner, max_size=4)), max_leaves=12)
ANYTHING = st.fixed_dictionaries({}, optional={
    key: st.one_of(ENTRY, st.lists(ENTRY, max_size=3), VALUE)
    for key in ("path", "train", "val", "test", "names", "nc")})
GOOD_NAMES = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)
MOSTLY_GOOD = st.fixed_dictionaries(  # so that many files get as far as reading the images
    {"train": st.one_of(FOLDER, st.lists(FOLDER, max_size=3)),
     "names": st.one_of(GOOD_NAMES, GOOD_NAMES.map(lambda names: dict(enumerate(names))))},
    optional={"val": FOLDER, "test": FOLDER, "path": st.sampled_from(["", ".", "images/.."]),
              "nc": st.integers(0, 4)})


class Dumper(yaml.SafeDumper):
    """Writes a value met twice out twice: the anchors and aliases come from ``shared`` only."""

    def ignore_aliases(self, data):
        return True


def dump(value) -> bytes:
    return yaml.dump(value, Dumper=Dumper, allow_unicode=True).encode()


def dump_sharing(mapping: dict, share: bool) -> bytes:
    """With ``share``, the same list under two keys: yaml.safe_dump writes it once, with an
    anchor (&id001) and an alias (*id001)."""
    if not share:
        return dump(mapping)
    entries = ["images/train"]
    return yaml.safe_dump({**mapping, "train": entries, "val": entries}).encode()


DATA_YAML = st.one_of(
    st.builds(dump_sharing, MOSTLY_GOOD, st.integers(0, 9).map(lambda draw: draw == 0)),
    ANYTHING.map(dump), VALUE.map(dump),
    st.text(max_size=200).map(str.encode), st.binary(max_size=200),
)


@FUZZ
@given(content=DATA_YAML)
def test_random_data_yaml_files_load_or_are_refused_with_a_message(dataset, content):
    path = dataset / "fuzz.yaml"
    path.write_bytes(content)
    try:
        config = load_data_yaml(path)
    except IldlError as error:
        assert str(error).startswith(str(path)) and len(str(error)) > len(str(path)) + 10
        return
    assert config.names and all(isinstance(name, str) and name for name in config.names)
    assert len(set(config.names)) == len(config.names)
    for split in config.splits:
        try:
            data = DetectionDataset(config, split, imgsz=32, augment=False)
        except IldlError as error:
            assert str(error)
        else:
            assert len(data) >= 1 and data.summary()["objects"] >= 1
