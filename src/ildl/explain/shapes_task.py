"""The explainer benchmark's default task: which shape is in the picture, and where is it?

Each image holds one light object (a circle, square or triangle of random colour, size and
rotation, drawn by ``ildl.data.shapes``) on a dimmed cluttered background of
``ildl.data.shapes.make_scene``: textures, lines, scribbles and specks that are not objects. Its
label is the object's class and its mask marks the pixels a good explanation should point at.
A small ildl.nn CNN learns the task in seconds; it is saved in
``ildl.cache.cache_dir("explain")`` after the first run and loaded from there afterwards.
No network and no data files are needed.

>>> task = default_task(quick=True)
>>> task.images.shape, task.labels[:3], task.masks.shape, f"{task.accuracy:.0%}"
((24, 32, 32, 3), array([0, 2, 1]), (24, 32, 32), '79%')
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .. import nn
from ..cache import cache_dir
from ..data.shapes import DEFAULT_CLASSES, SHAPES, Shape, make_scene, render

# The random streams of the two splits: test images never change with the number of training
# images, and never appear among them.
_TRAIN, _TEST = 0, 1

# The background is dimmed to at most half brightness and the object painted in a light colour
# (every channel at least 60%): a small CNN then learns the shapes in seconds. With make_scene's
# own colours (dark objects on light ground as often as the reverse, hue-only contrasts) the same
# CNN stayed near chance after 12 epochs on 4000 images.
_LIGHTEST_BACKGROUND = 0.5


@dataclass(frozen=True)
class TaskConfig:
    """Everything that decides the images and the trained model (the cache key)."""

    size: int = 32  # image side in pixels
    classes: tuple[str, ...] = DEFAULT_CLASSES
    min_scale: float = 0.35  # object diameter as a share of the side, drawn log-uniformly
    max_scale: float = 0.8
    clutter: bool = True  # textured backgrounds and distractors that are not objects
    train_images: int = 4000
    test_images: int = 200
    epochs: int = 10
    learning_rate: float = 2e-3
    seed: int = 0


FULL = TaskConfig()
QUICK = TaskConfig(train_images=2000, test_images=24, epochs=5, learning_rate=3e-3)


@dataclass(frozen=True)
class ShapesTask:
    """Held-out images, what is in them and a model that classifies them.

    - ``model``: the trained ildl.nn CNN, ``(N, H, W, 3) -> (N, classes)`` probabilities;
    - ``images`` ``(N, H, W, 3)`` float32 in [0, 1], never seen in training;
    - ``labels`` ``(N,)`` int64 class indices into ``class_names``;
    - ``masks`` ``(N, H, W)`` bool, the object's visible pixels;
    - ``accuracy``: the share of ``images`` the model classifies right.
    """

    model: nn.Sequential
    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    class_names: tuple[str, ...]
    accuracy: float


def make_shapes(count: int, config: TaskConfig = FULL, split: int = _TEST
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` one-object images: images ``(count, H, W, 3)`` float32 in [0, 1], labels
    ``(count,)`` int64, masks ``(count, H, W)`` bool. Image ``i`` of a split comes from its own
    generator ``(seed, split, i)``, so it is the same whatever ``count`` is; ``split`` 1 gives
    the held-out images, 0 the training images.

    >>> images, labels, masks = make_shapes(8, QUICK)
    """
    images = np.empty((count, config.size, config.size, 3), dtype=np.float32)
    labels = np.empty(count, dtype=np.int64)
    masks = np.empty((count, config.size, config.size), dtype=bool)
    for index in range(count):
        image, label, mask = _one_object(np.random.default_rng([config.seed, split, index]),
                                         config)
        images[index], labels[index], masks[index] = image / 255, label, mask
    return images, labels, masks


def _one_object(rng: np.random.Generator, config: TaskConfig
                ) -> tuple[np.ndarray, int, np.ndarray]:
    """One image ``(H, W, 3)`` in [0, 255] with one light object on a dimmed empty scene of
    ``make_scene`` (its backgrounds and clutter), the object's label and its mask ``(H, W)``."""
    scene = make_scene(rng, size=config.size, empty_probability=1.0, clutter=config.clutter)
    label = int(rng.integers(len(config.classes)))
    diameter = config.size * np.exp(rng.uniform(np.log(config.min_scale),
                                                 np.log(config.max_scale)))
    # the centre keeps 80% of the radius inside the image: the border never cuts much off
    x, y = rng.uniform(0.4 * diameter, config.size - 0.4 * diameter, size=2)
    colour = 255 * rng.uniform(_LIGHTEST_BACKGROUND + 0.1, 1.0, size=3)
    shape = Shape(label=label, outline=SHAPES[config.classes[label]](rng), x=x, y=y,
                  radius=diameter / 2, angle=rng.uniform(0, 2 * np.pi),
                  squash=rng.uniform(0.8, 1.0), colour=colour, style="solid", second=colour,
                  direction=0.0)
    image, masks, _, _ = render([shape], scene.image * _LIGHTEST_BACKGROUND)
    return image, label, masks[0]


def build_shapes_cnn(config: TaskConfig = FULL) -> nn.Sequential:
    """``conv 3x3 16 -> pool 2 -> conv 3x3 32 -> pool 2 -> conv 3x3 32 -> dense 64 -> softmax``.

    The last convolution keeps an 8x8 grid of places (what Grad-CAM reads), each seeing 18x18
    pixels around it; ReLU layers start from He initialisation.

    >>> build_shapes_cnn(QUICK).output_shape
    (3,)
    """
    he = {"activation": "relu", "kernel_initializer": "he_uniform"}
    return nn.Sequential([
        nn.Conv2D(16, 3, padding="same", input_shape=(config.size, config.size, 3), **he),
        nn.MaxPooling2D(2),
        nn.Conv2D(32, 3, padding="same", **he),
        nn.MaxPooling2D(2),
        nn.Conv2D(32, 3, padding="same", **he),
        nn.Flatten(),
        nn.Dense(64, **he),
        nn.Dense(len(config.classes), activation="softmax"),
    ], seed=config.seed, name="shapes_cnn")


def default_task(quick: bool = False, verbose: int = 1) -> ShapesTask:
    """The held-out images and the CNN: loaded from the cache, or trained and cached.

    ``quick``: the same CNN trained on fewer images for fewer epochs (for tests and a first
    look), and 24 held-out images instead of 200. ``verbose``: 1 shows training progress, 0 is
    silent.

    >>> task = default_task()
    >>> task.model.predict(task.images[:1]).shape
    (1, 3)
    """
    config = QUICK if quick else FULL
    model = cached_model(config, verbose)
    images, labels, masks = make_shapes(config.test_images, config, _TEST)
    return ShapesTask(model, images, labels, masks, config.classes,
                      accuracy(model.predict, images, labels))


def accuracy(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
             labels: np.ndarray) -> float:
    """The share of ``images`` ``(N, H, W, C)`` whose most probable class under ``predict``
    (``images -> (N, K)`` probabilities) is their label ``(N,)``.

    >>> accuracy(task.model.predict, task.images, task.labels)
    0.975
    """
    return float((predict(images).argmax(axis=1) == labels).mean())


def model_path(config: TaskConfig) -> str:
    """Where the model of ``config`` is cached: one file per configuration, named by a digest
    of it, so changing any setting trains a new model instead of reusing an old one."""
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()
    return os.path.join(cache_dir("explain"), f"shapes_cnn-{digest[:12]}.ildl")


def cached_model(config: TaskConfig = FULL, verbose: int = 1) -> nn.Sequential:
    """The trained CNN of ``config`` from its cache file; trained and saved (atomically) when the
    file is missing, does not load, or holds another architecture than ``build_shapes_cnn``."""
    path = model_path(config)
    try:
        model = nn.load_model(path)
        if _architecture(model) == _architecture(build_shapes_cnn(config)):
            return model
        reason = "holds another architecture"
    except nn.ModelFileError as error:
        reason = str(error)
    if verbose:
        print(f"training the benchmark's CNN ({reason}; it is then cached in {path})")
    model = train_shapes_cnn(config, verbose)
    model.save(path)
    return model


def _architecture(model: nn.Sequential) -> list:
    return [(type(layer).__name__, layer.get_config()) for layer in model.layers]


def train_shapes_cnn(config: TaskConfig = FULL, verbose: int = 1) -> nn.Sequential:
    """Train ``build_shapes_cnn`` on ``config.train_images`` fresh images with Adam.

    >>> model = train_shapes_cnn(QUICK, verbose=0)
    """
    images, labels, _ = make_shapes(config.train_images, config, _TRAIN)
    model = build_shapes_cnn(config)
    model.compile(nn.optimizers.Adam(learning_rate=config.learning_rate),
                  "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(images, labels, batch_size=64, epochs=config.epochs, verbose=verbose)
    return model
