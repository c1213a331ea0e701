"""Fixtures of the detect tests: checkpoints of untrained detectors and tiny datasets, made in
milliseconds so that bad-input tests need no training."""

from dataclasses import asdict

import pytest

NAMES = ("circle", "square", "triangle")


@pytest.fixture
def make_checkpoint():
    """``make_checkpoint(path, names=NAMES, size="n", imgsz=64, **entries)``: save the
    checkpoint of an untrained detector (``entries`` replace or add entries); returns the path."""
    torch = pytest.importorskip("torch")
    from ildl.detect.checkpoint import detector_entries, save_checkpoint
    from ildl.detect.config import TrainConfig
    from ildl.detect.model import Detector

    def make(path, names=NAMES, size="n", imgsz=64, **entries):
        torch.manual_seed(0)
        model = Detector(len(names), size)
        config = asdict(TrainConfig("data.yaml", imgsz=imgsz, size=size))
        save_checkpoint(path, {**detector_entries(model, names, config), **entries})
        return str(path)

    return make


@pytest.fixture
def make_dataset(tmp_path_factory):
    """``make_dataset(classes=NAMES, n_train=2, n_val=2, size=32)``: a tiny synthetic dataset;
    returns its data.yaml path."""
    pytest.importorskip("yaml")
    from ildl.data.shapes import write_dataset

    def make(classes=NAMES, n_train=2, n_val=2, size=32):
        root = tmp_path_factory.mktemp("dataset")
        return str(write_dataset(root, n_train=n_train, n_val=n_val, size=size,
                                 classes=list(classes), workers=1))

    return make
