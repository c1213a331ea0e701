"""Benchmark: ildl.nn against PyTorch and Keras on an MLP, real MNIST digits, same settings.

MLP 784-512-256-10 (ReLU, softmax), Adam 1e-3 (epsilon 1e-8), batch 64, float32, 3 epochs on the
MNIST test set split 8000 train / 2000 validation, 2 threads; PyTorch and Keras (torch backend)
start from ildl's initial weights. Prints one markdown table.

    pip install -e '.[torch,bench]'     # Keras; without it the table has no Keras row
    python benchmarks/mlp_mnist.py [--data-dir ../shared/data/mnist] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json

import common
from ildl.demos.twins import copy_weights_to_torch

BATCH = 64
LEARNING_RATE = 1e-3


def build_ildl(seed: int):
    from ildl import nn

    return nn.Sequential([nn.Dense(512, activation="relu", input_shape=(784,)),
                          nn.Dense(256, activation="relu"),
                          nn.Dense(10, activation="softmax")], seed=seed)


def build_torch(model):
    """The MLP in PyTorch with ``model``'s weights; it outputs logits (the loss takes them)."""
    import torch

    twin = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                               torch.nn.Linear(512, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))
    copy_weights_to_torch(model, twin)
    return twin


def build_keras(model):
    """The MLP in Keras with ``model``'s weights; it outputs logits, as the PyTorch one."""
    keras = common.import_keras()
    twin = keras.Sequential([keras.Input((784,)),
                             keras.layers.Dense(512, activation="relu"),
                             keras.layers.Dense(256, activation="relu"),
                             keras.layers.Dense(10)])
    common.copy_weights_to_keras(model, twin)
    return twin


def run_ildl(data_dir: str, epochs: int, seeds: int) -> dict:
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=False)

    def run(seed: int) -> tuple[float, float]:
        return common.train_ildl(build_ildl(seed), x, y, x_val, y_val, epochs, BATCH,
                                 LEARNING_RATE)

    return common.repeat_over_seeds(run, seeds, epochs * len(x))


def run_torch(data_dir: str, epochs: int, seeds: int) -> dict:
    import torch

    torch.set_num_threads(common.THREADS)
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=False)

    def run(seed: int) -> tuple[float, float]:
        model = build_torch(build_ildl(seed))
        seconds = common.train_torch(model, x, y, epochs, BATCH, LEARNING_RATE, seed)
        return seconds, common.torch_accuracy(model, x_val, y_val)

    return common.repeat_over_seeds(run, seeds, epochs * len(x))


def run_keras(data_dir: str, epochs: int, seeds: int) -> dict:
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=False)

    def run(seed: int) -> tuple[float, float]:
        return common.train_keras(build_keras(build_ildl(seed)), x, y, x_val, y_val, epochs,
                                  BATCH, LEARNING_RATE, seed)

    return {**common.repeat_over_seeds(run, seeds, epochs * len(x)),
            "label": common.keras_label()}


RUNNERS = {"ildl": run_ildl, "pytorch": run_torch, "keras": run_keras}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=common.DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3, help="runs per framework (3)")
    parser.add_argument("--only", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # child process: one framework, its result as JSON
        print(json.dumps(RUNNERS[args.only](args.data_dir, args.epochs, args.seeds)))
        return
    results = common.run_each_in_own_process(
        __file__, list(RUNNERS), ["--data-dir", args.data_dir, "--epochs", str(args.epochs),
                                  "--seeds", str(args.seeds)])
    common.print_table(f"MLP 784-512-256-10, Adam 1e-3, batch {BATCH}, {args.epochs} epochs, "
                       "MNIST 8000/2000, float32, 2 threads, same initial weights", results)


if __name__ == "__main__":
    main()
