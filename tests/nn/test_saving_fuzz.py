"""Fuzzing nn.load_model: damaged, crafted and forged model files end in a ModelFileError whose
message names the file, never in an error from inside (IndexError, KeyError, TypeError,
MemoryError, RecursionError, zipfile's errors...).

Three kinds of input, about 200 examples each (a few seconds in all): a valid file with bytes
flipped, inserted, deleted or cut off; random ZIP archives of crafted members (random names,
.npy headers declaring any shape and dtype, any compression); and forged headers, a valid file's
header with random values put in random places and a digest that matches again, so that the
checks after the digest are reached too.
"""

import io
import json
import pathlib
import warnings
import zipfile
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nn_reference import model_file_digest

from ildl import nn
from ildl.errors import ModelFileError

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class ValidFile(NamedTuple):
    """A valid model file: its path, bytes, header and arrays (shown short in failure reports)."""

    path: pathlib.Path
    content: bytes
    header: dict
    arrays: dict

    def __repr__(self) -> str:
        return f"<the model file {self.path.name}>"


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> ValidFile:
    """A small trained model's file."""
    model = nn.Sequential([nn.Conv2D(2, 3, activation="relu", input_shape=(5, 5, 1),
                                     kernel_regularizer="l2"),
                           nn.BatchNormalization(), nn.MaxPooling2D(2), nn.Flatten(),
                           nn.Dropout(0.1), nn.Dense(3, activation="softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 5, 5, 1)), rng.integers(0, 3, 8), epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("fuzz") / "model.ildl"
    model.save(path)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("ildl.json").tobytes())
    return ValidFile(path, path.read_bytes(), header, arrays)


def load_or_refuse(path) -> None:
    """Load ``path``: a model, or a ModelFileError that names the file. Anything else fails."""
    try:
        model = nn.load_model(path)
    except ModelFileError as error:
        assert str(path) in str(error)
        return
    assert isinstance(model, nn.Sequential)


# -- damaged bytes ---------------------------------------------------------------------------

EDITS = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]),
                           st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                 min_size=1, max_size=4)


@FUZZ
@given(edits=EDITS, keep=st.one_of(st.none(), st.floats(0, 1)))
def test_damaged_bytes(valid, edits, keep):
    content = bytearray(valid.content)
    for kind, where, byte in edits:
        position = int(where * len(content))
        if kind == "flip":
            content[position] ^= byte
        elif kind == "insert":
            content[position:position] = bytes([byte])
        else:
            del content[position]
    if keep is not None:
        content = content[:int(keep * len(content))]
    damaged = valid.path.with_name("damaged.ildl")
    damaged.write_bytes(bytes(content))
    load_or_refuse(damaged)


# -- crafted archives --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=8)
    | st.sampled_from(["relu", "adam", "l2", "Dense", "ildl-model", "float32", "zeros"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(["name", "config", "class"]),
                      children, max_size=4),
    max_leaves=12)

NPY_HEADERS = st.fixed_dictionaries({
    "descr": st.sampled_from(["<f4", "<f8", "|u1", "<i8", ">f4", "|b1", "|O", "<U3", "<c8",
                              "<m8[s]", "V8"]),
    "fortran_order": st.booleans(),
    "shape": st.lists(st.integers(-3, 10**13) | st.integers(0, 6), max_size=3).map(tuple),
})


def npy_from_header(header: dict, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def npy_of_json(value) -> bytes:
    buffer = io.BytesIO()
    text = json.dumps(value).encode()
    np.lib.format.write_array(buffer, np.frombuffer(text, np.uint8))
    return buffer.getvalue()


MEMBER_NAMES = st.sampled_from(["ildl.json.npy", "layer/0/kernel.npy", "layer/0/bias.npy",
                                "optimizer/iterations.npy", "weights.npy", "readme.txt"]) \
    | st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=12)

MEMBER_CONTENTS = st.one_of(
    st.binary(max_size=200),
    st.builds(npy_from_header, NPY_HEADERS, st.binary(max_size=64)),
    st.builds(npy_of_json, JSON_VALUES),
    st.builds(npy_of_json, st.fixed_dictionaries({"format": st.just("ildl-model"),
                                                  "version": st.sampled_from([1, 2, 3]),
                                                  "model": JSON_VALUES})),
)


@FUZZ
@given(start_valid=st.booleans(), data=st.data(),
       compression=st.sampled_from([zipfile.ZIP_STORED] * 3 + [
           zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
def test_crafted_archives(valid, start_valid, data, compression):
    """Members of the valid file (or none) with some replaced, added or removed."""
    with zipfile.ZipFile(valid.path) as archive:
        members = [(name, archive.read(name)) for name in archive.namelist()] \
            if start_valid else []
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["replace", "add", "remove"]))
        if action == "add" or not members:
            members.append((data.draw(MEMBER_NAMES), data.draw(MEMBER_CONTENTS)))
            continue
        index = data.draw(st.integers(0, len(members) - 1))
        if action == "replace":
            members[index] = (members[index][0], data.draw(MEMBER_CONTENTS))
        else:
            del members[index]
    crafted = valid.path.with_name("crafted.ildl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names made on purpose
        with zipfile.ZipFile(crafted, "w", compression) as archive:
            for name, content in members:
                archive.writestr(name, content)
    load_or_refuse(crafted)


# -- forged headers (the digest matches again) ---------------------------------------------------

def paths_in(node, prefix=()):
    """Every key path of a JSON value, e.g. ("model", "layers", 0, "config", "units")."""
    yield prefix
    children = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from paths_in(child, (*prefix, key))


@FUZZ
@given(data=st.data())
def test_forged_headers(valid, data):
    header = json.loads(json.dumps(valid.header))  # a fresh copy to edit
    arrays = dict(valid.arrays)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from([p for p in paths_in(header) if p]))
        parent = header
        for key in where[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = data.draw(JSON_VALUES)
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(sorted(arrays)))
        arrays[name] = data.draw(st.sampled_from([
            np.zeros(0, np.float32), np.full(arrays[name].shape, np.nan, np.float32),
            np.ones((2, 2), np.int64), np.array(3.5)]))
    header.pop("sha256", None)
    header["sha256"] = model_file_digest(header, arrays)
    forged = valid.path.with_name("forged.ildl")
    with open(forged, "wb") as file:
        np.savez(file, **arrays, **{"ildl.json": np.frombuffer(json.dumps(header).encode(),
                                                                np.uint8)})
    load_or_refuse(forged)
