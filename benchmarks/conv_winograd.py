"""Benchmark: would Winograd's F(2x2, 3x3) make ildl's second convolution faster in NumPy?

The CNN benchmark's second convolution (batch 64, 14x14x32 -> 14x14x64, 3x3, "same") computed
two ways on one BLAS thread, as one of ildl's threads computes its images:

- im2col: copy every 3x3x32 window into a row, then one product with the kernel (231 M
  multiply-adds); what ``Conv2D`` does.
- Winograd F(2x2, 3x3) (Lavin and Gray, 2016): each 4x4 input tile d and the kernel g go to a
  4x4 "transformed" space, ``V = B^T d B`` and ``U = G g G^T``, where 16 products of
  (tiles, C) @ (C, F) replace the convolution (2.25 times fewer multiply-adds), and
  ``Y = A^T (U . V) A`` turns each tile back into 2x2 outputs.

The transforms are additions of array slices, each a pass over the batch in NumPy; the script
times the three stages, checks the result against im2col, and prints the table.

    python benchmarks/conv_winograd.py
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from ildl.nn.convolution import ConvGeometry

BATCH, SIZE, CHANNELS, FILTERS = 64, 14, 32, 64
TILES = SIZE // 2  # 2x2 outputs per 4x4 tile
# F(2x2, 3x3)'s matrices (Lavin and Gray): inputs B^T, kernel G, outputs A^T.
KERNEL_TRANSFORM = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
                            np.float32)


def best_milliseconds(function, repeats: int = 10) -> float:
    function()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            function()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * 1e3


def input_tiles(images: np.ndarray) -> np.ndarray:
    """(N, 14, 14, C) -> a view (N, 7, 7, 4, 4, C) of the overlapping 4x4 tiles, stride 2."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    n, h, w, c = padded.strides
    return np.lib.stride_tricks.as_strided(padded, (BATCH, TILES, TILES, 4, 4, CHANNELS),
                                           (n, 2 * h, 2 * w, h, w, c), writeable=False)


def b_transpose_times(rows: list[np.ndarray], out: list[np.ndarray]) -> None:
    """``B^T x`` for the 4 slices ``rows`` of x along one axis, into the 4 slices ``out``:
    d0 - d2, d1 + d2, d2 - d1, d1 - d3."""
    np.subtract(rows[0], rows[2], out=out[0])
    np.add(rows[1], rows[2], out=out[1])
    np.subtract(rows[2], rows[1], out=out[2])
    np.subtract(rows[1], rows[3], out=out[3])


def transform_inputs(tiles: np.ndarray) -> np.ndarray:
    """V = B^T d B for every tile, laid out (4, 4, N * 49, C) for the 16 products."""
    rows = np.empty(tiles.shape, np.float32)  # B^T d: combine each tile's rows
    b_transpose_times([tiles[:, :, :, i] for i in range(4)], [rows[:, :, :, i] for i in range(4)])
    transformed = np.empty((4, 4, BATCH, TILES, TILES, CHANNELS), np.float32)
    for row in range(4):  # (B^T d) B: then its columns
        b_transpose_times([rows[:, :, :, row, j] for j in range(4)],
                          [transformed[row, j] for j in range(4)])
    return transformed.reshape(4, 4, -1, CHANNELS)


def transform_outputs(products: np.ndarray) -> np.ndarray:
    """Y = A^T M A: every tile's 4x4 products back to 2x2 outputs, (N, 14, 14, F)."""
    m = products.reshape(4, 4, BATCH, TILES, TILES, FILTERS)
    rows = np.empty((2, 4, BATCH, TILES, TILES, FILTERS), np.float32)
    np.add(m[0], m[1], out=rows[0])  # A^T's rows: m0 + m1 + m2 and m1 - m2 - m3
    rows[0] += m[2]
    np.subtract(m[1], m[2], out=rows[1])
    rows[1] -= m[3]
    outputs = np.empty((BATCH, TILES, 2, TILES, 2, FILTERS), np.float32)
    for row in range(2):
        np.add(rows[row, 0], rows[row, 1], out=outputs[:, :, row, :, 0])
        outputs[:, :, row, :, 0] += rows[row, 2]
        np.subtract(rows[row, 1], rows[row, 2], out=outputs[:, :, row, :, 1])
        outputs[:, :, row, :, 1] -= rows[row, 3]
    return outputs.reshape(BATCH, SIZE, SIZE, FILTERS)


def main() -> None:
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, SIZE, SIZE, CHANNELS), dtype=np.float32)
    kernel = rng.standard_normal((3, 3, CHANNELS, FILTERS), dtype=np.float32)
    geometry = ConvGeometry((SIZE, SIZE), (3, 3), (1, 1), "same")
    columns = np.empty((BATCH, SIZE, SIZE, 3, 3, CHANNELS), np.float32)

    def im2col_product() -> np.ndarray:
        np.copyto(columns, geometry.window_view(images))
        return columns.reshape(-1, 9 * CHANNELS) @ kernel.reshape(-1, FILTERS)

    transformed_kernel = np.einsum("ia,abcf,jb->ijcf", KERNEL_TRANSFORM, kernel,
                                   KERNEL_TRANSFORM)  # U = G g G^T, once per step
    tiles = input_tiles(images)
    transformed = transform_inputs(tiles)
    products = np.empty((4, 4, transformed.shape[2], FILTERS), np.float32)

    def sixteen_products() -> None:
        for row in range(4):
            for col in range(4):
                np.matmul(transformed[row, col], transformed_kernel[row, col],
                          out=products[row, col])

    with threadpool_limits(limits=1, user_api="blas"):
        sixteen_products()
        expected = im2col_product().reshape(BATCH, SIZE, SIZE, FILTERS)
        error = np.abs(transform_outputs(products) - expected).max() / np.abs(expected).max()
        timings = {"im2col copy and one product": best_milliseconds(im2col_product),
                   "Winograd: input transform": best_milliseconds(lambda: transform_inputs(tiles)),
                   "Winograd: 16 products": best_milliseconds(sixteen_products),
                   "Winograd: output transform":
                       best_milliseconds(lambda: transform_outputs(products))}
    winograd = sum(ms for name, ms in timings.items() if name.startswith("Winograd"))
    print(f"Second convolution's forward, batch {BATCH}, {SIZE}x{SIZE}x{CHANNELS} -> "
          f"{FILTERS} filters, 3x3, one BLAS thread (Winograd's largest relative difference "
          f"from im2col: {error:.1e})\n")
    print("| way | ms |")
    print("|---|---:|")
    for name, milliseconds in timings.items():
        print(f"| {name} | {milliseconds:.2f} |")
    print(f"| Winograd in all | {winograd:.2f} |")


if __name__ == "__main__":
    main()
