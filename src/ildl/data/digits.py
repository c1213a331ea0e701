"""Synthetic handwritten-like digits: an MNIST stand-in that needs no download.

Each image is a digit 0-9 drawn with Pillow's built-in font at a random size, stroke width,
rotation, shear and position, then softened, on a 28x28 black background like MNIST. A CNN learns
them in seconds, so the CNN figure and tests run anywhere; they are easier than real handwriting.

>>> x, y = make_digits(100, random_state=0)
>>> x.shape, x.dtype, y[:5]
((100, 28, 28), dtype('uint8'), array([...]))
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError

SIZE = 28


def _render_digit(digit: int, rng: np.random.Generator):
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    canvas = 56  # draw large, then shrink: smoother strokes
    font = ImageFont.load_default(size=int(rng.integers(30, 42)))
    image = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(image)
    stroke = int(rng.integers(0, 3))
    left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font, stroke_width=stroke)
    position = ((canvas - (right - left)) / 2 - left, (canvas - (bottom - top)) / 2 - top)
    draw.text(position, str(digit), fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    shear = rng.uniform(-0.3, 0.3)
    image = image.transform(image.size, Image.Transform.AFFINE,
                            (1, shear, -shear * canvas / 2, 0, 1, 0), Image.Resampling.BILINEAR)
    image = image.rotate(rng.uniform(-15, 15), Image.Resampling.BILINEAR,
                         translate=tuple(rng.uniform(-4, 4, size=2)))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.LANCZOS))


def make_digits(n_samples: int = 2000, random_state: int | None = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` digit images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8, classes balanced.

    Same ``random_state``, same images.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) \
            or n_samples < 1:
        raise ArgumentError(f"n_samples must be a positive integer, got {n_samples!r}")
    rng = np.random.default_rng(random_state)
    labels = rng.permutation(np.arange(int(n_samples)) % 10).astype(np.uint8)
    images = np.stack([_render_digit(int(digit), rng) for digit in labels])
    return images, labels
