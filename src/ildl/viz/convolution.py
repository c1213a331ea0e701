"""What a convolution does to an image: classic 3x3 kernels run through ildl's Conv2D arithmetic.

Each output pixel is the sum of the 3x3 patch of the image under the kernel, weighted by the
kernel: ``out[i, j] = sum_{a, b} image[i + a, j + b] * K[a, b]`` (cross-correlation, as in Keras,
PyTorch and ``ildl.nn.Conv2D``). A kernel whose weights sum to 1 keeps flat regions as they are
(blur, sharpen, emboss); one whose weights sum to 0 turns them black and keeps only changes
(outline, Sobel edges). The kernels below are what a CNN's first layer often ends up learning::

    image = sample_image()
    outputs = apply_kernels(image)                   # {"outline": (94, 94) array, ...}
    figure = plot_kernels(image)
    animate_convolution(sample_image(48), "outline", "convolution.gif")
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from ..graphics import SERIES_COLORS, save_animation
from ..nn.convolution import conv2d

#: Named 3x3 kernels, (3, 3) float arrays.
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.ones((3, 3)) / 9,
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "left sobel": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float),
    "top sobel": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
}


#: Colour of the output pixels the animation has not computed yet (distinct from black = 0).
NOT_COMPUTED = "#4a5868"


def sample_image(size: int = 96) -> np.ndarray:
    """A synthetic grey-scale landscape (size, size) in [0, 1]: sky with a sun, hills, a house and
    striped grass -- flat regions, straight and curved edges, and texture, for the kernels to
    act on. Drawn with NumPy alone (no download), the same every time."""
    row, col = np.mgrid[0:size, 0:size] / (size - 1)  # coordinates in [0, 1], row 0 at the top
    image = 0.9 - 0.3 * row  # sky, darker toward the horizon
    image[(row - 0.2) ** 2 + (col - 0.78) ** 2 < 0.11**2] = 1.0  # sun
    ridge = 0.55 - 0.12 * np.sin(2 * np.pi * (col * 1.3 + 0.1)) - 0.05 * np.sin(9 * col)
    image[row > ridge] = 0.35  # hills
    grass = row > 0.78
    image[grass] = 0.5 + 0.12 * np.sign(np.sin(2 * np.pi * 9 * (col[grass] + 0.3 * row[grass])))
    wall = (row > 0.56) & (row < 0.86) & (col > 0.14) & (col < 0.46)
    image[wall] = 0.7
    roof = (row <= 0.56) & (row > 0.38) & (np.abs(col - 0.30) < (row - 0.38) * 1.1)
    image[roof] = 0.12
    image[(row > 0.68) & (row < 0.86) & (col > 0.21) & (col < 0.29)] = 0.05  # door
    image[(row > 0.63) & (row < 0.74) & (col > 0.34) & (col < 0.42)] = 0.95  # window
    return np.clip(image, 0, 1)


def apply_kernels(image: np.ndarray, kernels: dict[str, np.ndarray] | None = None,
                  padding: str = "valid") -> dict[str, np.ndarray]:
    """Convolve a grey-scale ``image`` (H, W) with each kernel (all kh x kw) of ``kernels``
    (default ``KERNELS``); returns {name: (H', W')}, H' = H - kh + 1 with "valid" padding.

    All kernels run in one ``ildl.nn.convolution.conv2d`` call, as the F filters of one Conv2D
    layer: the image is a batch of 1 with 1 channel, (1, H, W, 1), and the kernels are stacked
    into the layer's (kh, kw, 1, F) weight.
    """
    kernels = KERNELS if kernels is None else kernels
    shapes = {np.shape(kernel) for kernel in kernels.values()}
    if len(shapes) != 1:
        raise ArgumentError(f"all kernels must have the same shape, got {sorted(shapes)}")
    weight = np.stack([np.asarray(k, dtype=float) for k in kernels.values()], axis=-1)
    outputs = conv2d(np.asarray(image, dtype=float)[None, :, :, None], weight[:, :, None, :],
                     padding=padding)[0]  # (H', W', F)
    return {name: outputs[:, :, index] for index, name in enumerate(kernels)}


def kernel_scale(kernel: np.ndarray) -> int:
    """The denominator d (1, 9 or 16) that makes ``d * kernel`` whole numbers: blur kernels read
    better as ``1/16 x [[1, 2, 1], ...]`` than as 0.0625, 0.125..."""
    for denominator in (1, 9, 16):
        scaled = kernel * denominator
        if np.allclose(scaled, scaled.round()):
            return denominator
    return 1


def _weight_text(weight: float, scale: int) -> str:
    scaled = weight * scale
    return f"{round(scaled)}" if scale > 1 else f"{weight:.3g}"


def _draw_kernel(ax, kernel: np.ndarray, fontsize: float = 10) -> None:
    """The kernel as a small signed heat map with its weights written in the cells."""
    scale = kernel_scale(kernel)
    limit = max(np.abs(kernel).max(), 1e-12)
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (a, b), weight in np.ndenumerate(kernel):
        strong = abs(weight) > 0.6 * limit
        ax.text(b, a, _weight_text(weight, scale), ha="center", va="center", fontsize=fontsize,
                color="white" if strong else "black")
    if scale > 1:
        ax.set_ylabel(f"1/{scale} ×", rotation=0, ha="right", va="center")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_kernels(image: np.ndarray, kernels: dict[str, np.ndarray] | None = None,
                 columns: int = 4):
    """A panel per kernel: the image convolved with it (values clipped to [0, 1] for display, as
    image editors do), with the kernel's weights below. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    kernels = KERNELS if kernels is None else kernels
    outputs = apply_kernels(image, kernels)
    rows = -(-len(kernels) // columns)
    figure = plt.figure(figsize=(3.0 * columns, 4.5 * rows))
    grid = figure.add_gridspec(2 * rows, columns, height_ratios=[3, 1.2] * rows, hspace=0.3,
                               wspace=0.15)
    for index, (name, kernel) in enumerate(kernels.items()):
        row, column = divmod(index, columns)
        ax = figure.add_subplot(grid[2 * row, column])
        ax.imshow(np.clip(outputs[name], 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
        _draw_kernel(figure.add_subplot(grid[2 * row + 1, column]), np.asarray(kernel, float))
    kh, kw = np.shape(next(iter(kernels.values())))
    figure.suptitle(f"A {image.shape[0]}x{image.shape[1]} image convolved with {kh}x{kw} kernels "
                    "(ildl.nn.convolution.conv2d, 'valid' padding)", fontsize=13)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9)
    return figure


def animate_convolution(image: np.ndarray, kernel: str | np.ndarray, path: str,
                        frames: int = 80, fps: float = 12, dpi: int = 75,
                        progress: Callable[[int, int], None] | None = None) -> str:
    """Animate ``kernel`` (a name of ``KERNELS`` or a (kh, kw) array) sliding over ``image``
    (H, W): the window on the image, the patch times the kernel, and the output filling in,
    row by row in ``frames`` chunks. Writes ``path`` (.gif or .mp4) and returns it."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    name = kernel if isinstance(kernel, str) else "kernel"
    weights = KERNELS[kernel] if isinstance(kernel, str) else np.asarray(kernel, dtype=float)
    output = apply_kernels(image, {name: weights})[name]
    (kh, kw), (out_h, out_w) = weights.shape, output.shape
    # Output pixels in reading order, cut into one chunk per frame; the last frame ends complete.
    ends = np.linspace(1, out_h * out_w, frames).round().astype(int)

    figure, (ax_in, ax_patch, ax_out) = plt.subplots(
        1, 3, figsize=(8.4, 3.6), dpi=dpi, gridspec_kw={"width_ratios": (1, 0.8, 1)})
    ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title(f"input {image.shape[0]}x{image.shape[1]}")
    window = Rectangle((-0.5, -0.5), kw, kh, fill=False, edgecolor=SERIES_COLORS[0], linewidth=2)
    ax_in.add_patch(window)
    patch_image = ax_patch.imshow(np.zeros((kh, kw)), cmap="gray", vmin=0, vmax=1)
    cell_texts = [[ax_patch.text(b, a, "", ha="center", va="center", fontsize=9)
                   for b in range(kw)] for a in range(kh)]
    ax_patch.set_title(f"patch × {name} kernel")
    cmap = plt.get_cmap("gray").with_extremes(bad=NOT_COMPUTED)  # NaN: not computed yet
    shown = np.full(output.shape, np.nan)
    out_image = ax_out.imshow(shown, cmap=cmap, vmin=0, vmax=1)
    marker = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor=SERIES_COLORS[0], linewidth=1.5)
    ax_out.add_patch(marker)
    ax_out.set_title(f"output {out_h}x{out_w}, clipped to [0, 1]")
    for ax in (ax_in, ax_patch, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    ax_patch.set_xlabel("sum = output[0, 0] = +0.00")  # room for the per-frame label
    figure.tight_layout()

    def update(frame: int) -> None:
        end = ends[frame]
        shown.flat[:end] = np.clip(output.flat[:end], 0, 1)
        out_image.set_data(shown)
        i, j = divmod(end - 1, out_w)  # the output pixel computed last in this chunk
        window.set_xy((j - 0.5, i - 0.5))
        marker.set_xy((j - 0.5, i - 0.5))
        patch = image[i:i + kh, j:j + kw]
        patch_image.set_data(patch)
        for (a, b), value in np.ndenumerate(patch):
            cell_texts[a][b].set_text(f"{value:.2f}\n×{weights[a, b]:.3g}")
            cell_texts[a][b].set_color("black" if value > 0.5 else "white")
        ax_patch.set_xlabel(f"sum = output[{i}, {j}] = {output[i, j]:+.2f}")

    try:
        return save_animation(figure, update, frames, path, fps, progress)
    finally:
        plt.close(figure)
