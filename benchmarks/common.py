"""Shared by the benchmark scripts: MNIST split, a PyTorch training loop, one process per framework.

Each framework runs in a fresh process (so peak RSS is its own) with 2 BLAS/OpenMP threads.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DEFAULT_DATA = os.environ.get(
    "ILDL_MNIST_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "../../shared/data/mnist"))
THREADS = 2


def mnist_split(data_dir: str, images: bool):
    """The MNIST test set as 8000 training and 2000 validation samples scaled to [0, 1]:
    (N, 28, 28, 1) images or (N, 784) vectors."""
    from ildl.data import load_mnist

    pixels, labels = load_mnist(data_dir, split="test")
    x = pixels.astype(np.float32) / 255
    x = x[..., None] if images else x.reshape(len(x), -1)
    y = labels.astype(np.int64)
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_torch(model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                learning_rate: float, seed: int) -> float:
    """Adam + cross-entropy on logits, shuffled mini-batches; returns training seconds."""
    import torch

    x, y = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
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
    accuracy)."""
    from ildl import nn

    model.compile(nn.optimizers.Adam(learning_rate=learning_rate),
                  "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - start, model.evaluate(x_val, y_val)["accuracy"]


def torch_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        predicted = model(torch.from_numpy(x)).argmax(1).numpy()
    return float(np.mean(predicted == y))


def repeat_over_seeds(run, seeds: int, samples_per_run: int) -> dict:
    """Call ``run(seed) -> (training seconds, validation accuracy)`` for seeds 0..seeds-1:
    throughput over all runs, accuracy as mean and standard deviation (runs differ by seed)."""
    seconds, accuracies = zip(*(run(seed) for seed in range(seeds)))
    return {"images_per_s": seeds * samples_per_run / sum(seconds),
            "val_accuracy": float(np.mean(accuracies)),
            "val_accuracy_std": float(np.std(accuracies)),
            "seeds": seeds, "peak_rss_mb": peak_rss_mb()}


def run_each_in_own_process(script: str, names: list[str], arguments: list[str]) -> dict:
    """Run ``script --only NAME arguments`` for each name; collect the JSON each prints last."""
    environment = {**os.environ, **{variable: str(THREADS) for variable in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    results = {}
    for name in names:
        output = subprocess.run([sys.executable, script, "--only", name, *arguments],
                                env=environment, check=True, capture_output=True,
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
        accuracy = f"{100 * row['val_accuracy']:.2f}% +- {100 * row['val_accuracy_std']:.2f}"
        print(f"| {name} | {speed:,.0f} | {speed / reference:.2f}x | {accuracy} | {rss:,.0f} | "
              f"{rss / reference_rss:.2f}x |")
