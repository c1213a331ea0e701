"""A second, independent generator of shape scenes, to test that a detector trained on
``ildl.data.shapes`` learned shapes and not that generator's habits.

It shares no code with ``ildl.data.shapes`` and draws differently on purpose: Pillow's own
ellipse, triangles of any angles (each at least 35 degrees) instead of near-equilateral ones,
squares drawn from two random corners' geometry, plain / gradient / checker / blurred-noise
backgrounds, no occlusion (objects do not overlap), outlines of 2-4 px for a fifth of the
objects. Writes the YOLO layout (``images/val``, ``labels/val``, ``data.yaml``) with the class
order circle, square, triangle.

    python benchmarks/other_shapes.py runs/bench/other_shapes --images 200
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

NAMES = ("circle", "square", "triangle")


def background(rng: np.random.Generator, side: int) -> Image.Image:
    kind = rng.integers(4)
    if kind == 0:  # flat
        return Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(0, 256, 3)))
    if kind == 1:  # linear gradient between two colours along a random direction
        a, b = rng.integers(0, 256, (2, 3))
        angle = rng.uniform(0, 2 * math.pi)
        ys, xs = np.mgrid[0:side, 0:side] / side
        t = (np.cos(angle) * xs + np.sin(angle) * ys)
        t = (t - t.min()) / (np.ptp(t) + 1e-9)
        return Image.fromarray((a + (b - a) * t[..., None]).astype(np.uint8))
    if kind == 2:  # checker board of two muted colours
        cell = int(rng.integers(8, 40))
        ys, xs = np.mgrid[0:side, 0:side] // cell
        a, b = rng.integers(60, 200, (2, 3))
        return Image.fromarray(np.where(((xs + ys) % 2)[..., None] == 0, a, b).astype(np.uint8))
    noise = rng.integers(0, 256, (side // 8, side // 8, 3)).astype(np.uint8)
    return Image.fromarray(noise).resize((side, side), Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(2))


def outline(rng: np.random.Generator, label: int, cx: float, cy: float, r: float
            ) -> list[tuple[float, float]] | None:
    """Vertices of a square or triangle around (cx, cy) with circumradius r; None = circle."""
    if label == 0:
        return None
    turn = rng.uniform(0, 2 * math.pi)
    if label == 1:
        angles = [turn + k * math.pi / 2 for k in range(4)]
    else:  # three angles on the circle with gaps of at least 70 degrees: every angle >= 35
        while True:
            angles = np.sort(rng.uniform(0, 2 * math.pi, 3))
            gaps = np.diff(np.append(angles, angles[0] + 2 * math.pi))
            if gaps.min() >= math.radians(70):
                break
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]


def scene(rng: np.random.Generator, side: int) -> tuple[Image.Image, list[tuple]]:
    image = background(rng, side)
    draw = ImageDraw.Draw(image)
    placed: list[tuple[float, float, float]] = []
    labels = []
    for _ in range(int(rng.integers(1, 6))):
        for _attempt in range(30):  # find a free spot
            r = side * rng.uniform(0.04, 0.22)
            cx, cy = rng.uniform(r, side - r, 2)
            if all(math.hypot(cx - x, cy - y) > r + q + 2 for x, y, q in placed):
                break
        else:
            continue
        placed.append((cx, cy, r))
        label = int(rng.integers(3))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        width = int(rng.integers(2, 5)) if rng.random() < 0.2 else 0
        points = outline(rng, label, cx, cy, r)
        if points is None:
            box = (cx - r, cy - r, cx + r, cy + r)
            if width:
                draw.ellipse(box, outline=colour, width=width)
            else:
                draw.ellipse(box, fill=colour)
        else:
            xs, ys = zip(*points)
            box = (min(xs), min(ys), max(xs), max(ys))
            if width:
                draw.line([*points, points[0]], fill=colour, width=width, joint="curve")
            else:
                draw.polygon(points, fill=colour)
        labels.append((label, *box))
    return image, labels


def write(root: str, images: int = 200, side: int = 160, seed: int = 12345) -> str:
    """Write ``images`` scenes as the val split of a YOLO dataset in ``root``; returns data.yaml."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images", "val"), exist_ok=True)
    os.makedirs(os.path.join(root, "labels", "val"), exist_ok=True)
    for index in range(images):
        image, labels = scene(rng, side)
        image.save(os.path.join(root, "images", "val", f"{index:05d}.png"))
        with open(os.path.join(root, "labels", "val", f"{index:05d}.txt"), "w") as file:
            for label, x1, y1, x2, y2 in labels:
                file.write(f"{label} {(x1 + x2) / 2 / side:.6f} {(y1 + y2) / 2 / side:.6f} "
                           f"{(x2 - x1) / side:.6f} {(y2 - y1) / side:.6f}\n")
    data_yaml = os.path.join(root, "data.yaml")
    with open(data_yaml, "w") as file:
        file.write(f"path: {os.path.abspath(root)}\ntrain: images/val\nval: images/val\n"
                   f"names: [{', '.join(NAMES)}]\n")
    return data_yaml


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    print(write(args.root, args.images))
