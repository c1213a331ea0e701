"""The model file that ``benchmarks/eli5_compare.py`` hands to the eli5 environment holds the
whole model: rebuilt by ildl's own layer classes from it alone, it predicts what the original
does (eli5's side, which rebuilds it in Keras, runs only where eli5 is installed)."""

import json
import sys
from pathlib import Path

import numpy as np

from ildl import nn
from ildl.explain.shapes_task import QUICK, build_shapes_cnn
from ildl.nn.layers import LAYER_CLASSES

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from eli5_compare import export_for_eli5  # noqa: E402  (a script folder, not a package)


def test_export_rebuilds_the_same_model(tmp_path):
    model = build_shapes_cnn(QUICK)
    images = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    path = tmp_path / "shapes_cnn.npz"
    export_for_eli5(model, images, str(path))
    with np.load(path, allow_pickle=False) as exported:
        architecture = json.loads(str(exported["architecture"]))
        rebuilt = nn.Sequential([LAYER_CLASSES[entry["class"]](**entry["config"])
                                 for entry in architecture["layers"]])
        rebuilt.set_weights([exported[f"layer/{index}/{name}"]
                             for index, entry in enumerate(architecture["layers"])
                             for name in entry["weights"]])
        np.testing.assert_array_equal(exported["images"], images)
        np.testing.assert_array_equal(exported["probabilities"], model.predict(images))
    assert architecture["input_shape"] == list(model.input_shape)
    np.testing.assert_array_equal(rebuilt.predict(images), model.predict(images))
