"""ELI5's Grad-CAM on the Keras 3 twin of an ildl.nn CNN: one map per image, timed.

Runs inside a *separate* environment with eli5, keras 3 and TensorFlow (1.8 GB, never ildl's
dependencies); ``eli5_compare.py --eli5-python PYTHON`` exports the model and images, calls this
script and compares its maps with ildl's. Nothing here imports ildl.

    python eli5_gradcam.py EXPORTED_NPZ OUT_NPZ

``EXPORTED_NPZ`` (written by ``eli5_compare.export_for_eli5``): ``images`` ``(N, H, W, C)``,
ildl's ``probabilities`` ``(N, K)``, ``architecture`` (JSON text: ``{"input_shape", "layers":
[{"class", "config", "weights": [names]}]}``, each config in ildl's constructor arguments, which
are Keras's) and every weight as ``layer/INDEX/NAME`` (kernels ``(kh, kw, C_in, C_out)`` and
``(inputs, units)``, Keras's layouts; Flatten reads ``(H, W, C)`` row-major in both).

The twin's probabilities must equal ildl's to 1e-4, or the weights were copied wrong and the
script stops. Then ``eli5.explain_prediction(twin, image[None], targets=[ildl's top class],
layer=<last Conv2D>)`` runs on every image, each call timed (one untimed call first: TensorFlow
sets itself up on the first).

Writes ``OUT_NPZ``: ``heatmaps`` ``(N, H', W')`` (eli5's maps at the layer's resolution),
``seconds`` ``(N,)``, ``probabilities`` ``(N, K)`` (the twin's) and ``versions`` (JSON text).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np

# The largest difference between the twin's and ildl's probabilities that still means "the same
# model": both compute in float32, where sums over 2048 products round at about 1e-6.
PROBABILITY_TOLERANCE = 1e-4


def keras_layer(entry: dict):
    """The Keras 3 layer of one exported ildl layer ``{"class", "config"}``."""
    import keras

    config = entry["config"]
    activation = config.get("activation", {"name": "linear"})["name"]  # ildl leaves linear out
    kind = entry["class"]
    if kind == "Conv2D":
        return keras.layers.Conv2D(
            config["filters"], config["kernel_size"], strides=config["strides"],
            padding=config["padding"], dilation_rate=config["dilation_rate"],
            use_bias=config["use_bias"], activation=activation, name=config["name"])
    if kind == "MaxPooling2D":
        return keras.layers.MaxPooling2D(config["pool_size"], strides=config["strides"],
                                         padding=config["padding"], name=config["name"])
    if kind == "Flatten":
        return keras.layers.Flatten(name=config["name"])
    if kind == "Dense":
        return keras.layers.Dense(config["units"], use_bias=config["use_bias"],
                                  activation=activation, name=config["name"])
    raise SystemExit(f"eli5_gradcam.py: layer {config['name']!r} is an ildl {kind}, which this "
                     "script cannot translate to Keras (it knows Conv2D, MaxPooling2D, Flatten "
                     "and Dense); add it to keras_layer")


def keras_twin(exported):
    """A Keras 3 ``Sequential`` with the exported architecture and weights."""
    import keras

    architecture = json.loads(str(exported["architecture"]))
    entries = architecture["layers"]
    twin = keras.Sequential([keras.Input(tuple(architecture["input_shape"])),
                             *map(keras_layer, entries)], name="ildl_twin")
    for index, (layer, entry) in enumerate(zip(twin.layers, entries)):
        layer.set_weights([exported[f"layer/{index}/{name}"] for name in entry["weights"]])
    return twin


def check_twin(twin, images: np.ndarray, ildl_probabilities: np.ndarray) -> np.ndarray:
    """The twin's probabilities ``(N, K)``; stops when they differ from ildl's."""
    probabilities = twin.predict(images, verbose=0)
    difference = float(np.abs(probabilities - ildl_probabilities).max())
    if difference > PROBABILITY_TOLERANCE:
        raise SystemExit(f"eli5_gradcam.py: the Keras twin's probabilities differ from ildl's by "
                         f"up to {difference:.2e} (more than {PROBABILITY_TOLERANCE:g}): its "
                         "weights or layers do not match; check keras_layer and the kernel "
                         "layouts")
    return probabilities


def eli5_heatmaps(twin, images: np.ndarray, targets: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """eli5's Grad-CAM of class ``targets[i]`` on image ``i`` at the last Conv2D: maps
    ``(N, H', W')`` and the seconds of each ``explain_prediction`` call ``(N,)``."""
    import eli5
    import keras

    layer = [layer for layer in twin.layers if isinstance(layer, keras.layers.Conv2D)][-1]

    def explain(index: int) -> np.ndarray:
        explanation = eli5.explain_prediction(twin, images[index:index + 1],
                                              targets=[int(targets[index])], layer=layer.name)
        return explanation.targets[0].heatmap

    explain(0)  # TensorFlow's first gradient sets up its kernels: not part of a map's cost
    heatmaps, seconds = [], []
    for index in range(len(images)):
        start = time.perf_counter()
        heatmaps.append(explain(index))
        seconds.append(time.perf_counter() - start)
    return np.stack(heatmaps), np.array(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exported", help="the .npz that eli5_compare.py wrote")
    parser.add_argument("out", help="where to write the maps and seconds (.npz)")
    args = parser.parse_args()
    os.environ["KERAS_BACKEND"] = "tensorflow"  # eli5's Grad-CAM needs TensorFlow's gradients
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as keras_home:
        os.environ["KERAS_HOME"] = keras_home  # keras writes keras.json there, not in ~/.keras
        import eli5
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(2)
        with np.load(args.exported, allow_pickle=False) as exported:
            images = exported["images"]
            ildl_probabilities = exported["probabilities"]
            twin = keras_twin(exported)
        probabilities = check_twin(twin, images, ildl_probabilities)
        heatmaps, seconds = eli5_heatmaps(twin, images, ildl_probabilities.argmax(axis=1))
    versions = {"eli5": eli5.__version__, "keras": keras.__version__,
                "tensorflow": tf.__version__}
    np.savez(args.out, heatmaps=heatmaps, seconds=seconds, probabilities=probabilities,
             versions=np.array(json.dumps(versions)))


if __name__ == "__main__":
    main()
