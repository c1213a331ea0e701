"""Benchmark: the collection's moons experiment, ildl.nn against its PyTorch twin and Keras.

Moons (1000 points, noise 0.2, ``random_state=100``, 10% test), the 2-25-50-50-25-1 ReLU/sigmoid
network of ``ildl nn moons``, plain gradient descent with learning rate 0.01 on the full training
set (900 points) for 10 000 steps, float32, 2 threads; the PyTorch twin and Keras (torch backend)
start from ildl's initial weights. On a network this small a step is mostly the framework's fixed
cost per step, so each framework then also runs steps on a single sample: their time is that
overhead alone. A last row times the step's matrix products alone in plain NumPy: the least time
any network on NumPy's BLAS can take for this arithmetic.

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
    model.compile(nn.optimizers.SGD(learning_rate=LEARNING_RATE), "binary_crossentropy",
                  ["accuracy"])

    def train(moons: MoonsData, steps: int) -> float:
        start = time.perf_counter()
        model.fit(moons.x_train, moons.y_train, batch_size=len(moons.x_train), epochs=steps,
                  shuffle=False, verbose=0)
        return time.perf_counter() - start

    seconds = train(data, steps)
    accuracy = model.evaluate(data.x_test, data.y_test)["accuracy"]
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


def run_products(steps: int, seed: int) -> dict:
    """The floor: the 14 matrix products of a full-batch step (forward, and each layer's kernel
    and input gradients) in plain NumPy, nothing else, on one BLAS thread and on BLAS's threads;
    the faster counts."""
    from threadpoolctl import threadpool_limits

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

    seconds = {}
    for threads in (1, common.THREADS):
        with threadpool_limits(limits=threads, user_api="blas"):
            seconds[threads] = products(steps)
    fastest = min(seconds, key=seconds.get)
    return {"seconds": seconds[fastest], "steps": steps, "accuracy": None,
            "step_overhead_s": None, "peak_rss_mb": common.peak_rss_mb(),
            "label": f"NumPy products alone, {fastest} BLAS thread{'s' * (fastest > 1)}"}


RUNNERS = {"ildl": run_ildl, "pytorch": run_torch, "keras": run_keras, "products": run_products}


def print_table(title: str, results: dict) -> None:
    reference = results["pytorch"]
    print(title + "\n")
    print("| framework | seconds | steps/s | time vs PyTorch | test accuracy | ms per step | "
          "per-step overhead (ms) | overhead share | peak RSS (MB) | RSS vs PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        step = row["seconds"] / row["steps"]
        trains = row["accuracy"] is not None  # the products' row trains nothing
        accuracy = f"{row['accuracy']:.1%}" if trains else "-"
        overhead = (f"{1e3 * row['step_overhead_s']:.3f} | {row['step_overhead_s'] / step:.0%}"
                    if trains else "- | -")
        print(f"| {row.get('label', name)} | {row['seconds']:.2f} | {1 / step:,.0f} | "
              f"{row['seconds'] / reference['seconds']:.2f}x | {accuracy} | "
              f"{1e3 * step:.3f} | {overhead} | {row['peak_rss_mb']:,.0f} | "
              f"{row['peak_rss_mb'] / reference['peak_rss_mb']:.2f}x |")
    print(f"\nper-step overhead: the time of a step on a single sample (mean of "
          f"{reference['overhead_steps']:,} steps), the framework's fixed cost per step; overhead "
          "share: its part of a full-batch step. NumPy products alone: the step's 14 matrix "
          "products and nothing else, the least time a network on NumPy's BLAS can take")


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
