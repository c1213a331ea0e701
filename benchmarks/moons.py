"""Benchmark: the collection's moons experiment, ildl.nn against its PyTorch twin and Keras.

Moons (1000 points, noise 0.2, ``random_state=100``, 10% test), the 2-25-50-50-25-1 ReLU/sigmoid
network of ``ildl nn moons``, plain gradient descent with learning rate 0.01 on the full training
set (900 points) for 10 000 steps, float32, 2 threads; the PyTorch twin and Keras (torch backend)
start from ildl's initial weights. On a network this small a framework's fixed cost per step
weighs, so each framework then also runs steps on a single sample: their time is that overhead
alone. Two last rows are floors: the same training written by hand in plain NumPy, and
the step's matrix products alone, which any network on NumPy's BLAS computes and then more.

    pip install -e '.[torch,bench]'     # Keras; without it the table has no Keras row
    python benchmarks/moons.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import common
from ildl import nn
from ildl.demos.moons import MoonsData, build_model, make_torch_twin, moons_data, train_torch_twin

LEARNING_RATE = 0.01
OVERHEAD_STEPS = 1000  # single-sample steps that measure the fixed cost of a step


def build_keras(model):
    """The moons network in Keras with ``model``'s weights (sigmoid output, as the twin)."""
    keras = common.import_keras()
    layers = [keras.Input((2,))]
    layers += [keras.layers.Dense(layer.params["kernel"].shape[1], activation="relu")
               for layer in model.layers[:-1]]
    twin = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid")])
    common.copy_weights_to_keras(model, twin)
    return twin


def one_sample(data: MoonsData) -> MoonsData:
    return MoonsData(data.x_train[:1], data.y_train[:1], data.x_test, data.y_test)


def result(seconds: float, steps: int, accuracy: float, overhead_seconds: float,
           overhead_steps: int) -> dict:
    return {"seconds": seconds, "steps": steps, "accuracy": accuracy,
            "step_overhead_s": overhead_seconds / overhead_steps, "overhead_steps": overhead_steps,
            "peak_rss_mb": common.peak_rss_mb()}


def run_ildl(steps: int, seed: int) -> dict:
    data = moons_data()
    model = build_model(seed)
    # No metric is compiled: the PyTorch twin's loop and Keras' fit compute the loss only.
    model.compile(nn.optimizers.SGD(learning_rate=LEARNING_RATE), "binary_crossentropy")

    def train(moons: MoonsData, steps: int) -> float:
        start = time.perf_counter()
        model.fit(moons.x_train, moons.y_train, batch_size=len(moons.x_train), epochs=steps,
                  shuffle=False, verbose=0)
        return time.perf_counter() - start

    seconds = train(data, steps)
    accuracy = float(np.mean((model.predict(data.x_test)[:, 0] > 0.5) == data.y_test))
    overhead_steps = min(steps, OVERHEAD_STEPS)
    return result(seconds, steps, accuracy, train(one_sample(data), overhead_steps),
                  overhead_steps)


def run_torch(steps: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(common.THREADS)
    data = moons_data()
    twin = make_torch_twin(build_model(seed))
    run = train_torch_twin(twin, data, steps, LEARNING_RATE)
    overhead_steps = min(steps, OVERHEAD_STEPS)
    overhead = train_torch_twin(twin, one_sample(data), overhead_steps, LEARNING_RATE)
    return result(run.seconds, steps, run.accuracy, overhead.seconds, overhead_steps)


def run_keras(steps: int, seed: int) -> dict:
    """Keras' own ``fit``, one epoch per full-batch step, as ildl's."""
    keras = common.import_keras()
    data = moons_data()
    model = build_keras(build_model(seed))
    model.compile(keras.optimizers.SGD(learning_rate=LEARNING_RATE),
                  keras.losses.BinaryCrossentropy())

    def train(moons: MoonsData, steps: int) -> float:
        start = time.perf_counter()
        model.fit(moons.x_train, moons.y_train.astype(np.float32),
                  batch_size=len(moons.x_train), epochs=steps, shuffle=False, verbose=0)
        return time.perf_counter() - start

    seconds = train(data, steps)
    predicted = model.predict(data.x_test, verbose=0)[:, 0] > 0.5
    accuracy = float(np.mean(predicted == data.y_test))
    overhead_steps = min(steps, OVERHEAD_STEPS)
    return {**result(seconds, steps, accuracy, train(one_sample(data), overhead_steps),
                     overhead_steps), "label": common.keras_label()}


def train_by_hand(model, data: MoonsData, steps: int) -> tuple[list, list, float]:
    """``steps`` full-batch steps of ``model``'s training written by hand in plain NumPy, as
    tight as we could make it: arrays allocated once, sigmoid and cross-entropy differentiated
    together, no framework around it. Returns (kernels, biases, seconds); ``model`` is not
    changed. ildl's step does this arithmetic and little else."""
    kernels = [layer.params["kernel"].copy() for layer in model.layers]
    biases = [layer.params["bias"].copy() for layer in model.layers]
    x = data.x_train.astype(np.float32)
    y = data.y_train.astype(np.float32)[:, None]
    rows = len(x)
    outputs = [np.empty((rows, kernel.shape[1]), np.float32) for kernel in kernels]
    on = [np.empty_like(output) for output in outputs]  # 1 where a ReLU unit is on, else 0
    grads = [np.empty_like(output) for output in outputs]
    grad_kernels = [np.empty_like(kernel) for kernel in kernels]
    grad_biases = [np.empty_like(bias) for bias in biases]
    last = len(kernels) - 1

    def step() -> None:
        inputs = x
        for layer, (kernel, bias, output) in enumerate(zip(kernels, biases, outputs)):
            np.matmul(inputs, kernel, out=output)
            output += bias
            if layer < last:
                np.maximum(output, 0, out=output)
            inputs = output
        probability = outputs[last]  # sigmoid of the logits
        np.negative(probability, out=probability)
        np.exp(probability, out=probability)
        probability += 1
        np.reciprocal(probability, out=probability)
        grad = grads[last]
        np.subtract(probability, y, out=grad)  # d(mean cross-entropy)/d(logits)
        grad /= rows
        for layer in range(last, -1, -1):
            inputs = x if layer == 0 else outputs[layer - 1]
            np.matmul(inputs.T, grad, out=grad_kernels[layer])
            np.einsum("nf->f", grad, out=grad_biases[layer])
            if layer:
                below = grads[layer - 1]
                kernel_t = kernels[layer].T
                if grad.shape[1] > 1:
                    np.matmul(grad, kernel_t, out=below)
                else:  # through the 1-unit layer: an outer product
                    np.multiply(grad, kernel_t, out=below)
                np.greater(inputs, 0, out=on[layer - 1])
                below *= on[layer - 1]
                grad = below
        for weights, gradients in ((kernels, grad_kernels), (biases, grad_biases)):
            for weight, gradient in zip(weights, gradients):
                gradient *= LEARNING_RATE
                weight -= gradient

    start = time.perf_counter()
    for _ in range(steps):
        step()
    return kernels, biases, time.perf_counter() - start


def run_numpy_step(steps: int, seed: int) -> dict:
    """The floor for a framework: the same training written by hand (``train_by_hand``), on one
    BLAS thread (its products are small)."""
    from threadpoolctl import threadpool_limits

    data = moons_data()
    with threadpool_limits(limits=1, user_api="blas"):
        kernels, biases, seconds = train_by_hand(build_model(seed), data, steps)
    inputs = data.x_test.astype(np.float32)
    for layer, (kernel, bias) in enumerate(zip(kernels, biases)):
        inputs = inputs @ kernel + bias
        inputs = np.maximum(inputs, 0) if layer < len(kernels) - 1 else inputs
    accuracy = float(np.mean((inputs[:, 0] > 0) == data.y_test))  # logit > 0: p > 0.5
    return {"seconds": seconds, "steps": steps, "accuracy": accuracy, "step_overhead_s": None,
            "peak_rss_mb": common.peak_rss_mb(), "label": "plain NumPy step, by hand"}


def run_products(steps: int, seed: int) -> dict:
    """The step's 14 matrix products (forward, and each layer's kernel and input gradients) in
    plain NumPy, nothing else, on one BLAS thread and on BLAS's threads; the faster counts."""
    x = moons_data().x_train.astype(np.float32)
    kernels = [layer.params["kernel"] for layer in build_model(seed).layers]

    def products(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            outputs = [x]
            for kernel in kernels:
                outputs.append(outputs[-1] @ kernel)
            grad = outputs[-1]
            for index in range(len(kernels) - 1, -1, -1):
                outputs[index].T @ grad
                if index:  # through a 1-unit layer the product is an outer one: a multiply
                    kernel_t = kernels[index].T
                    grad = grad @ kernel_t if grad.shape[1] > 1 else grad * kernel_t
        return time.perf_counter() - start

    seconds, threads = common.fastest_blas_threads(lambda: products(steps))
    return {"seconds": seconds, "steps": steps, "accuracy": None,
            "step_overhead_s": None, "peak_rss_mb": common.peak_rss_mb(),
            "label": f"NumPy products alone, {threads}"}


RUNNERS = {"ildl": run_ildl, "pytorch": run_torch, "keras": run_keras,
           "numpy-step": run_numpy_step, "products": run_products}


def print_table(title: str, results: dict) -> None:
    reference = results["pytorch"]
    print(title + "\n")
    print("| framework | seconds | steps/s | time vs PyTorch | test accuracy | ms per step | "
          "per-step overhead (ms) | overhead share | peak RSS (MB) | RSS vs PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        step = row["seconds"] / row["steps"]
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
        overhead = ("- | -" if row["step_overhead_s"] is None else
                    f"{1e3 * row['step_overhead_s']:.3f} | {row['step_overhead_s'] / step:.0%}")
        print(f"| {row.get('label', name)} | {row['seconds']:.2f} | {1 / step:,.0f} | "
              f"{row['seconds'] / reference['seconds']:.2f}x | {accuracy} | "
              f"{1e3 * step:.3f} | {overhead} | {row['peak_rss_mb']:,.0f} | "
              f"{row['peak_rss_mb'] / reference['peak_rss_mb']:.2f}x |")
    print(f"\nper-step overhead: the time of a step on a single sample (mean of "
          f"{reference['overhead_steps']:,} steps), the framework's fixed cost per step; overhead "
          "share: its part of a full-batch step. Plain NumPy step: the same training written "
          "by hand with arrays allocated once; NumPy products alone: the step's 14 matrix "
          "products and nothing else (the faster of 1 and 2 BLAS threads in this run), which "
          "any network on NumPy's BLAS computes, element-wise passes on top")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="full-batch steps (10000)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed (0)")
    parser.add_argument("--only", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # child process: one framework, its result as JSON
        print(json.dumps(RUNNERS[args.only](args.steps, args.seed)))
        return
    results = common.run_each_in_own_process(
        __file__, list(RUNNERS), ["--steps", str(args.steps), "--seed", str(args.seed)])
    print_table(f"Moons 2-25-50-50-25-1 ReLU/sigmoid, gradient descent lr {LEARNING_RATE}, "
                f"{args.steps:,} full-batch steps of 900 points, float32, 2 threads, same initial "
                "weights", results)


if __name__ == "__main__":
    main()
