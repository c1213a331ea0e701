"""The benchmark's default task: one-object images with their masks, and the CNN cached once per
configuration (retrained when its file is damaged or holds another network)."""

import numpy as np
import pytest

from ildl import nn
from ildl.explain import shapes_task
from ildl.explain.shapes_task import (
    QUICK,
    TaskConfig,
    build_shapes_cnn,
    cached_model,
    default_task,
    make_shapes,
    model_path,
)


def test_one_object_images_with_their_masks():
    images, labels, masks = make_shapes(30, QUICK)
    assert images.shape == (30, 32, 32, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert labels.dtype == np.int64 and set(labels) == {0, 1, 2}
    assert masks.shape == (30, 32, 32) and masks.dtype == bool
    areas = masks.sum(axis=(1, 2))
    assert areas.min() >= 12 and areas.max() < 32 * 32  # an object, never the whole image


def test_an_image_does_not_depend_on_how_many_are_made():
    few, many = make_shapes(3, QUICK), make_shapes(6, QUICK)
    for part_of_few, part_of_many in zip(few, many):
        np.testing.assert_array_equal(part_of_few, part_of_many[:3])
    train_images = make_shapes(3, QUICK, split=0)[0]
    assert not np.array_equal(train_images, few[0])  # the splits are different streams


@pytest.fixture
def fake_training(monkeypatch):
    """train_shapes_cnn replaced by an untrained network, counting its calls."""
    calls = []

    def untrained(config, verbose=1):
        calls.append(config)
        return build_shapes_cnn(config)

    monkeypatch.setattr(shapes_task, "train_shapes_cnn", untrained)
    return calls


def test_the_model_is_trained_once_then_loaded(fake_training, tmp_path, monkeypatch):
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path))
    first = cached_model(QUICK, verbose=0)
    assert len(fake_training) == 1 and (tmp_path / "explain").is_dir()
    again = cached_model(QUICK, verbose=0)
    assert len(fake_training) == 1
    for saved, loaded in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(saved, loaded)


def test_a_damaged_or_foreign_cache_file_is_retrained(fake_training, tmp_path, monkeypatch,
                                                      capsys):
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path))
    path = model_path(QUICK)
    (tmp_path / "explain").mkdir()
    with open(path, "wb") as file:
        file.write(b"half a model")
    cached_model(QUICK)
    assert len(fake_training) == 1
    assert "is not a readable ildl model file" in capsys.readouterr().out
    nn.Sequential([nn.Flatten(input_shape=(32, 32, 3)), nn.Dense(3, activation="softmax")]
                  ).save(path)
    cached_model(QUICK)
    assert len(fake_training) == 2 and "holds another architecture" in capsys.readouterr().out
    assert isinstance(nn.load_model(path).layers[0], nn.Conv2D)  # replaced by the right model


def test_each_configuration_has_its_own_file():
    assert model_path(QUICK) != model_path(TaskConfig())
    assert model_path(QUICK) == model_path(TaskConfig(train_images=2000, test_images=24,
                                                      epochs=5, learning_rate=3e-3))


def test_quick_task_is_learned():
    task = default_task(quick=True, verbose=0)
    assert task.images.shape == (QUICK.test_images, 32, 32, 3)
    assert task.class_names == ("circle", "square", "triangle")
    assert task.accuracy >= 0.5  # three classes: chance is 1/3


@pytest.mark.slow
def test_default_model_is_accurate():
    task = default_task(verbose=0)
    assert task.accuracy >= 0.9
