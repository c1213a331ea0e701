"""Benchmark: ildl.nn against PyTorch on an MLP, real MNIST digits, same settings.

MLP 784-512-256-10 (ReLU, softmax), Adam 1e-3, batch 64, float32, 3 epochs on the MNIST test set
split 8000 train / 2000 validation. Each framework runs in its own process (so peak RSS is its own),
PyTorch on 2 CPU threads. Prints one markdown table.

    python benchmarks/mlp_mnist.py [--data-dir ../shared/data/mnist] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DEFAULT_DATA = os.environ.get("ILDL_MNIST_DIR",
                              os.path.join(os.path.dirname(__file__), "../../shared/data/mnist"))
HIDDEN = (512, 256)
BATCH = 64
LEARNING_RATE = 1e-3


def load_split(data_dir: str):
    """8000 training and 2000 validation images, flattened and scaled to [0, 1]."""
    from ildl.data import load_mnist

    images, labels = load_mnist(data_dir, split="test")
    x = images.reshape(len(images), -1).astype(np.float32) / 255
    y = labels.astype(np.int64)
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ildl(data_dir: str, epochs: int) -> dict:
    from ildl import nn

    (x, y), (x_val, y_val) = load_split(data_dir)
    model = nn.Sequential([nn.Dense(HIDDEN[0], activation="relu", input_shape=(784,)),
                           nn.Dense(HIDDEN[1], activation="relu"),
                           nn.Dense(10, activation="softmax")], seed=0)
    model.compile(nn.optimizers.Adam(learning_rate=LEARNING_RATE),
                  "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_val, y_val)["accuracy"]
    return {"seconds": seconds, "images_per_s": epochs * len(x) / seconds,
            "val_accuracy": accuracy, "peak_rss_mb": peak_rss_mb()}


def run_torch(data_dir: str, epochs: int) -> dict:
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    (x, y), (x_val, y_val) = load_split(data_dir)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN[0]), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN[0], HIDDEN[1]), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN[1], 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for begin in range(0, len(x), BATCH):
            index = order[begin:begin + BATCH]
            optimizer.zero_grad()
            loss_fn(model(x[index]), y[index]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(torch.from_numpy(x_val)).argmax(1).numpy()
    return {"seconds": seconds, "images_per_s": epochs * len(x) / seconds,
            "val_accuracy": float(np.mean(predicted == y_val)), "peak_rss_mb": peak_rss_mb()}


RUNNERS = {"ildl": run_ildl, "pytorch": run_torch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--only", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # child process: one framework, result as JSON on stdout
        print(json.dumps(RUNNERS[args.only](args.data_dir, args.epochs)))
        return
    environment = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                   "MKL_NUM_THREADS": "2"}
    results = {}
    for name in RUNNERS:
        output = subprocess.run([sys.executable, __file__, "--only", name, "--data-dir",
                                 args.data_dir, "--epochs", str(args.epochs)], env=environment,
                                check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(output.strip().splitlines()[-1])
    reference = results["pytorch"]["images_per_s"]
    print(f"MLP 784-512-256-10, Adam 1e-3, batch {BATCH}, {args.epochs} epochs, MNIST 8000/2000, "
          "float32, 2 threads\n")
    print("| framework | train images/s | vs PyTorch | val accuracy | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for name, result in results.items():
        speed = result["images_per_s"]
        print(f"| {name} | {speed:,.0f} | {speed / reference:.2f}x | "
              f"{100 * result['val_accuracy']:.2f}% | {result['peak_rss_mb']:,.0f} |")


if __name__ == "__main__":
    main()
