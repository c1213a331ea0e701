"""Datasets: small toy problems to learn on, MNIST from IDX files, and a train/test split."""

from ildl.data.digits import make_digits
from ildl.data.mnist import download_mnist, load_mnist, read_idx
from ildl.data.shapes import make_scene, make_video, write_dataset
from ildl.data.toy import (
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)

__all__ = [
    "download_mnist",
    "load_mnist",
    "make_blobs",
    "make_circles",
    "make_digits",
    "make_moons",
    "make_scene",
    "make_spirals",
    "make_video",
    "make_xor",
    "read_idx",
    "train_test_split",
    "write_dataset",
]
