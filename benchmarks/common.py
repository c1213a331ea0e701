"""Shared by the benchmark scripts: MNIST split, training loops, one process per framework, and
ildl's initial weights copied into the PyTorch and Keras models so all three start alike.

Each framework runs in a fresh process (so peak RSS is its own) with 2 BLAS/OpenMP threads; Keras
runs on its torch backend, with torch's threads set as in the PyTorch process.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

DEFAULT_DATA = os.environ.get(
    "ILDL_MNIST_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "../../shared/data/mnist"))
THREADS = 2
# torch's default; ildl's and Keras' is 1e-7. Keras adds it to sqrt(v) before the bias correction
# (so its step t divides by sqrt(v_hat) + eps / sqrt(1 - b2^t)), torch and ildl after.
ADAM_EPSILON = 1e-8
TRAIN_IMAGES = 8000  # of the MNIST test set's 10 000: the rest validate
KERAS_INSTALL = "pip install -e '.[torch,bench]'  (or: pip install keras==3.15.1)"


def mnist_split(data_dir: str, images: bool):
    """The MNIST test set as 8000 training and 2000 validation samples scaled to [0, 1]:
    (N, 28, 28, 1) images or (N, 784) vectors."""
    from ildl.data import load_mnist

    pixels, labels = load_mnist(data_dir, split="test")
    x = pixels.astype(np.float32) / 255
    x = x[..., None] if images else x.reshape(len(x), -1)
    y = labels.astype(np.int64)
    return (x[:TRAIN_IMAGES], y[:TRAIN_IMAGES]), (x[TRAIN_IMAGES:], y[TRAIN_IMAGES:])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_torch(model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                learning_rate: float, seed: int) -> float:
    """Adam + cross-entropy on logits, shuffled mini-batches; returns training seconds."""
    import torch

    x, y = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=ADAM_EPSILON)
    loss_function = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for begin in range(0, len(x), batch_size):
            index = order[begin:begin + batch_size]
            optimizer.zero_grad()
            loss_function(model(x[index]), y[index]).backward()
            optimizer.step()
    return time.perf_counter() - start


def train_ildl(model, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               epochs: int, batch_size: int, learning_rate: float) -> tuple[float, float]:
    """Adam + sparse cross-entropy with ildl.nn; returns (training seconds, validation
    accuracy). No metric is compiled: like the PyTorch loop and Keras' ``fit`` here, training
    computes the loss only, and the accuracy is measured on the validation set afterwards."""
    from ildl import nn

    model.compile(nn.optimizers.Adam(learning_rate=learning_rate, epsilon=ADAM_EPSILON),
                  "sparse_categorical_crossentropy")
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    predicted = model.predict(x_val).argmax(1)
    return seconds, float(np.mean(predicted == y_val))


def train_keras(model, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                epochs: int, batch_size: int, learning_rate: float,
                seed: int) -> tuple[float, float]:
    """Adam + sparse cross-entropy on logits (as the PyTorch model) with Keras' own ``fit``;
    returns (training seconds, validation accuracy)."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)  # fit's shuffling
    model.compile(keras.optimizers.Adam(learning_rate=learning_rate, epsilon=ADAM_EPSILON),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    predicted = model.predict(x_val, batch_size=500, verbose=0).argmax(1)
    return seconds, float(np.mean(predicted == y_val))


def torch_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        predicted = model(torch.from_numpy(x)).argmax(1).numpy()
    return float(np.mean(predicted == y))


def import_keras():
    """Keras 3 on its torch backend, computing on ``THREADS`` threads as the PyTorch runs do.
    Keras writes its config folder on import (``~/.keras`` by default): it goes to a temporary
    folder, removed when the process ends."""
    if "keras" not in sys.modules:
        keras_home = tempfile.mkdtemp(prefix="ildl-keras-")
        atexit.register(shutil.rmtree, keras_home, ignore_errors=True)
        os.environ.update(KERAS_BACKEND="torch", KERAS_HOME=keras_home)
    import keras
    import torch

    torch.set_num_threads(THREADS)
    return keras


def copy_weights_to_keras(model, keras_model) -> None:
    """Copy the weights of ildl's ``model`` into the layers of ``keras_model`` that have weights, in
    order: both keep kernels as (in, out) and (kh, kw, C, F) and flatten (H, W, C) maps alike."""
    sources = [layer for layer in model.layers if layer.params]
    targets = [layer for layer in keras_model.layers if layer.weights]
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} ildl layers with weights, {len(targets)} Keras layers")
    for source, target in zip(sources, targets):
        target.set_weights([source.params["kernel"], source.params["bias"]])


def keras_label() -> str:
    """The Keras row's name in the tables: its version and backend."""
    keras = import_keras()
    return f"keras {keras.__version__} ({keras.backend.backend()})"


def fastest_blas_threads(run) -> tuple[float, str]:
    """Call ``run() -> seconds`` with NumPy's BLAS on 1 thread and on ``THREADS`` threads;
    return the faster time and what it ran on ("2 BLAS threads"), for the floors' rows."""
    from threadpoolctl import threadpool_limits

    seconds = {}
    for threads in (1, THREADS):
        with threadpool_limits(limits=threads, user_api="blas"):
            seconds[threads] = run()
    fastest = min(seconds, key=seconds.get)
    return seconds[fastest], f"{fastest} BLAS thread{'s' * (fastest > 1)}"


def repeat_over_seeds(run, seeds: int, samples_per_run: int) -> dict:
    """Call ``run(seed) -> (training seconds, validation accuracy)`` for seeds 0..seeds-1:
    throughput over all runs, accuracy as mean and standard deviation (runs differ by seed)."""
    seconds, accuracies = zip(*(run(seed) for seed in range(seeds)))
    return {"images_per_s": seeds * samples_per_run / sum(seconds),
            "val_accuracy": float(np.mean(accuracies)),
            "val_accuracy_std": float(np.std(accuracies)),
            "seeds": seeds, "peak_rss_mb": peak_rss_mb()}


def run_each_in_own_process(script: str, names: list[str], arguments: list[str]) -> dict:
    """Run ``script --only NAME arguments`` for each name; collect the JSON each prints last.
    Keras, when it is not installed, is left out with a line saying how to install it."""
    environment = {**os.environ, **{variable: str(THREADS) for variable in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    if "keras" in names and importlib.util.find_spec("keras") is None:
        print(f"keras: not installed, its row is skipped; to add it: {KERAS_INSTALL}\n")
        names = [name for name in names if name != "keras"]
    results = {}
    for name in names:  # stderr passes through, so a failing framework shows its traceback
        output = subprocess.run([sys.executable, script, "--only", name, *arguments],
                                env=environment, check=True, stdout=subprocess.PIPE,
                                text=True).stdout
        results[name] = json.loads(output.strip().splitlines()[-1])
    return results


def print_table(title: str, results: dict) -> None:
    reference = results["pytorch"]["images_per_s"]
    reference_rss = results["pytorch"]["peak_rss_mb"]
    print(title + "\n")
    seeds = results["pytorch"]["seeds"]
    print(f"| framework | train images/s | vs PyTorch | val accuracy (mean +- sd, {seeds} seeds) "
          "| peak RSS (MB) | RSS vs PyTorch |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        speed, rss = row["images_per_s"], row["peak_rss_mb"]
        accuracy = "-" if row["val_accuracy"] is None else \
            f"{100 * row['val_accuracy']:.2f}% +- {100 * row['val_accuracy_std']:.2f}"
        print(f"| {row.get('label', name)} | {speed:,.0f} | {speed / reference:.2f}x | "
              f"{accuracy} | {rss:,.0f} | {rss / reference_rss:.2f}x |")
