"""Quick renders of the misc figures: files open, frames and sizes as asked, themes honoured."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions
from ildl.gallery.render import render_one

matplotlib.use("Agg")
QUICK = RenderOptions(quick=True)
STILLS = ["activations", "ewma", "cnn_training"]
ANIMATED = {"lorenz_attractor": 6, "convolution": 5}  # quick-mode frame counts


def render(name, tmp_path, options=QUICK):
    outcome = render_one(name, str(tmp_path), options)
    assert outcome.error is None, outcome.error
    return outcome.files


def test_the_figures_are_registered_with_caption_and_code():
    for name in [*STILLS, *ANIMATED]:
        figure = FIGURES[name]
        assert len(figure.caption) > 40
        assert "ildl" in figure.code and "(" in figure.code


@pytest.mark.parametrize("name", STILLS)
def test_still_figures_write_one_png(name, tmp_path):
    assert render(name, tmp_path) == [f"{name}.png"]
    with Image.open(tmp_path / f"{name}.png") as image:
        assert image.format == "PNG" and min(image.size) > 150


@pytest.mark.parametrize("name", ANIMATED)
def test_animated_figures_write_the_animation_and_a_summary_png(name, tmp_path):
    assert render(name, tmp_path) == [f"{name}.gif", f"{name}.png"]
    with Image.open(tmp_path / f"{name}.gif") as image:
        assert image.n_frames == ANIMATED[name]
        assert min(image.size) > 100
    with Image.open(tmp_path / f"{name}.png") as image:
        assert image.format == "PNG"


def test_mp4_format_is_honoured(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    files = render("convolution", tmp_path, RenderOptions(quick=True, format="mp4"))
    assert files == ["convolution.mp4", "convolution.png"]
    assert (tmp_path / "convolution.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("theme, light", [("dark", False), ("light", True)])
def test_theme_sets_the_background(theme, light, tmp_path):
    render("ewma", tmp_path, RenderOptions(quick=True, theme=theme))
    with Image.open(tmp_path / "ewma.png") as image:
        corner = np.asarray(image.convert("RGB"))[2, 2]
    assert (corner.mean() > 200) == light
