"""Benchmark: an ildl.nn CNN against PyTorch and Keras on real MNIST digits, same settings.

conv 3x3 32 same -> ReLU -> maxpool 2 -> conv 3x3 64 same -> ReLU -> maxpool 2 -> flatten ->
dense 128 ReLU -> dense 10 softmax; Adam 1e-3 (epsilon 1e-8), batch 64, float32, 5 epochs on the
MNIST test set split 8000 train / 2000 validation, 2 threads; PyTorch and Keras (torch backend)
start from ildl's initial weights. A last row is a floor: the step's matrix products alone, which
any network on NumPy's BLAS computes. Prints the comparison table and, with --profile, where
ildl's and PyTorch's time goes.

    pip install -e '.[torch,bench]'     # Keras; without it the table has no Keras row
    python benchmarks/cnn_mnist.py [--data-dir ../shared/data/mnist] [--epochs 5] [--profile]
"""

from __future__ import annotations

import argparse
import json
import time

import common
from ildl import nn
from ildl.demos.mnist import build_cnn
from ildl.demos.twins import copy_weights_to_torch

BATCH = 64
LEARNING_RATE = 1e-3


def run_ildl(data_dir: str, epochs: int, seeds: int) -> dict:
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=True)

    def run(seed: int) -> tuple[float, float]:
        return common.train_ildl(build_cnn(seed), x, y, x_val, y_val, epochs, BATCH,
                                 LEARNING_RATE)

    return common.repeat_over_seeds(run, seeds, epochs * len(x))


def build_torch(model):
    """The CNN in PyTorch (NCHW images) with ``model``'s weights; it outputs logits."""
    import torch

    twin = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    copy_weights_to_torch(model, twin)
    return twin


def build_keras(model):
    """The CNN in Keras (NHWC images, as ildl) with ``model``'s weights; it outputs logits."""
    keras = common.import_keras()
    layers = keras.layers
    twin = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10)])
    common.copy_weights_to_keras(model, twin)
    return twin


def run_torch(data_dir: str, epochs: int, seeds: int) -> dict:
    import torch

    torch.set_num_threads(common.THREADS)
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=True)
    x, x_val = x.transpose(0, 3, 1, 2).copy(), x_val.transpose(0, 3, 1, 2).copy()  # NCHW

    def run(seed: int) -> tuple[float, float]:
        model = build_torch(build_cnn(seed))
        seconds = common.train_torch(model, x, y, epochs, BATCH, LEARNING_RATE, seed)
        return seconds, common.torch_accuracy(model, x_val, y_val)

    return common.repeat_over_seeds(run, seeds, epochs * len(x))


def run_keras(data_dir: str, epochs: int, seeds: int) -> dict:
    (x, y), (x_val, y_val) = common.mnist_split(data_dir, images=True)

    def run(seed: int) -> tuple[float, float]:
        return common.train_keras(build_keras(build_cnn(seed)), x, y, x_val, y_val, epochs,
                                  BATCH, LEARNING_RATE, seed)

    return {**common.repeat_over_seeds(run, seeds, epochs * len(x)),
            "label": common.keras_label()}


def step_products(model, batch: int) -> list[tuple[tuple[int, int], tuple[int, int], bool]]:
    """The matrix products of one training step of ``model`` on ``batch`` images, as
    ``(shape of a, shape of b, a is a transposed view)``: per Conv2D its forward, im2col
    ``(N H' W', kh kw C + 1) @ (kh kw C + 1, F)`` (the bias row included), its kernel gradient
    ``columns.T @ g``, and its input gradient as the one product ``g @ K.T`` (ildl computes it
    as kh kw products of the same multiply-adds); per Dense the same three. The first layer has
    no input gradient."""
    products = []
    for index, layer in enumerate(model.layers):
        if isinstance(layer, nn.Conv2D):  # rows: output pixels; fan_in: inputs of one pixel
            rows = batch * layer.output_shape[0] * layer.output_shape[1]
            fan_in, units = layer.params["kernel"][..., 0].size, layer.filters
            inner = fan_in + 1 if layer.use_bias else fan_in  # the bias rides in the product
        elif isinstance(layer, nn.Dense):
            rows, (fan_in, units) = batch, layer.params["kernel"].shape
            inner = fan_in  # Dense adds its bias after the product
        else:
            continue
        products += [((rows, inner), (inner, units), False), ((inner, rows), (rows, units), True)]
        if index:
            products.append(((rows, units), (units, fan_in), False))
    return products


def run_products(data_dir: str, epochs: int, seeds: int) -> dict:
    """The floor: ``step_products`` of the benchmark CNN on float32 normal draws, as many steps
    as the training runs take (``data_dir`` is not needed), on the faster of 1 and 2 BLAS
    threads."""
    import numpy as np

    rng = np.random.default_rng(0)
    steps = seeds * epochs * (common.TRAIN_IMAGES // BATCH)
    operands = []  # (a, b, out) of each product
    for shape_a, shape_b, transposed in step_products(build_cnn(), BATCH):
        a = rng.standard_normal(shape_a[::-1] if transposed else shape_a, dtype=np.float32)
        operands.append((a.T if transposed else a, rng.standard_normal(shape_b, dtype=np.float32),
                         np.empty((shape_a[0], shape_b[1]), np.float32)))

    def products(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            for a, b, out in operands:
                np.matmul(a, b, out=out)  # as ildl, into arrays kept from step to step
        return time.perf_counter() - start

    products(2)  # warm up
    seconds, threads = common.fastest_blas_threads(lambda: products(steps))
    return {"images_per_s": steps * BATCH / seconds, "val_accuracy": None,
            "val_accuracy_std": None, "seeds": seeds, "peak_rss_mb": common.peak_rss_mb(),
            "label": f"NumPy products alone, {threads}"}


def profile_ildl(data_dir: str, steps: int = 60) -> None:
    """Time forward and backward of each layer and the optimizer over ``steps`` batches."""
    import numpy as np

    (x, y), _ = common.mnist_split(data_dir, images=True)
    model = build_cnn()
    model.compile(nn.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=common.ADAM_EPSILON),
                  "sparse_categorical_crossentropy")
    model.fit(x[:BATCH * 5], y[:BATCH * 5], batch_size=BATCH, verbose=0)  # warm up
    forward = np.zeros(len(model.layers))
    backward = np.zeros(len(model.layers))
    optimizer_seconds = 0.0
    for step in range(steps):
        x_batch = x[step * BATCH:(step + 1) * BATCH]
        y_batch = y[step * BATCH:(step + 1) * BATCH]
        inputs = x_batch
        for index, layer in enumerate(model.layers):
            start = time.perf_counter()
            inputs = layer.forward(inputs, training=True)
            forward[index] += time.perf_counter() - start
        last = model.layers[-1]
        grad = model.loss.gradient_from_logits(y_batch, last.pre_activation)
        for index in range(len(model.layers) - 1, -1, -1):
            start = time.perf_counter()
            layer = model.layers[index]
            if index == len(model.layers) - 1:
                grad = layer.call_backward(grad)
            else:
                grad = layer.backward(grad, need_input_grad=index > 0)
            backward[index] += time.perf_counter() - start
        start = time.perf_counter()
        model.optimizer.update(model.trainable_weights, model.gradients)
        optimizer_seconds += time.perf_counter() - start
    total = forward.sum() + backward.sum() + optimizer_seconds
    print(f"\nWhere ildl's time goes ({steps} batches of {BATCH}, ms per batch)\n")
    print("| layer | forward | backward | share |")
    print("|---|---:|---:|---:|")
    for index, layer in enumerate(model.layers):
        share = (forward[index] + backward[index]) / total
        print(f"| {layer.name} ({type(layer).__name__}) | {1e3 * forward[index] / steps:.2f} | "
              f"{1e3 * backward[index] / steps:.2f} | {share:.0%} |")
    print(f"| Adam update | | {1e3 * optimizer_seconds / steps:.2f} | "
          f"{optimizer_seconds / total:.0%} |")
    print(f"| total | | {1e3 * total / steps:.2f} | 100% |")


def profile_torch(data_dir: str, steps: int = 60) -> None:
    """PyTorch's own profiler over ``steps`` training batches of the same CNN (``train_torch``
    on the first ``steps`` batches): the operations that take most of the time, ms per batch
    (self time, as the profiler counts it)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(common.THREADS)
    (x, y), _ = common.mnist_split(data_dir, images=True)
    x = x[:steps * BATCH].transpose(0, 3, 1, 2).copy()  # NCHW
    y = y[:steps * BATCH]
    model = build_torch(build_cnn())
    common.train_torch(model, x[:10 * BATCH], y[:10 * BATCH], 1, BATCH, LEARNING_RATE,
                       seed=0)  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        common.train_torch(model, x, y, 1, BATCH, LEARNING_RATE, seed=0)
    operations = sorted(profiler.key_averages(), key=lambda op: -op.self_cpu_time_total)
    total = sum(op.self_cpu_time_total for op in operations)
    print(f"\nWhere PyTorch's time goes ({steps} batches of {BATCH}, ms per batch, its "
          "profiler's self time)\n")
    print("| operation | ms per batch | share |")
    print("|---|---:|---:|")
    for op in operations[:10]:
        print(f"| {op.key} | {op.self_cpu_time_total / 1e3 / steps:.2f} | "
              f"{op.self_cpu_time_total / total:.0%} |")
    print(f"| total | {total / 1e3 / steps:.2f} | 100% |")


RUNNERS = {"ildl": run_ildl, "pytorch": run_torch, "keras": run_keras, "products": run_products}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=common.DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="also print where ildl's and PyTorch's time goes")
    parser.add_argument("--seeds", type=int, default=3, help="runs per framework (3)")
    parser.add_argument("--only", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # child process: one framework, its result as JSON
        print(json.dumps(RUNNERS[args.only](args.data_dir, args.epochs, args.seeds)))
        return
    results = common.run_each_in_own_process(
        __file__, list(RUNNERS), ["--data-dir", args.data_dir, "--epochs", str(args.epochs),
                                  "--seeds", str(args.seeds)])
    common.print_table(f"CNN conv32-pool-conv64-pool-dense128-dense10, Adam 1e-3, batch {BATCH}, "
                       f"{args.epochs} epochs, MNIST 8000/2000, float32, 2 threads, same initial "
                       "weights", results)
    print("\nNumPy products alone: the matrix products of each training step (each layer's "
          "forward, kernel gradient and input gradient, the convolutions' as im2col products) "
          "and nothing else, the faster of 1 and 2 BLAS threads in this run: a floor for any "
          "network on NumPy's BLAS")
    if args.profile:
        profile_ildl(args.data_dir)
        profile_torch(args.data_dir)


if __name__ == "__main__":
    main()
