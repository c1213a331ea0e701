"""The surface figures of the gallery render in quick mode: an animation and a summary PNG."""

import time

import matplotlib
import pytest
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions

matplotlib.use("Agg")
NAMES = ["gradient_descent", "critical_points", "optimizers_comparison", "learning_rate"]


@pytest.mark.parametrize("name", NAMES)
def test_quick_render_writes_a_gif_and_a_png(tmp_path, name):
    start = time.perf_counter()
    files = FIGURES[name].render(str(tmp_path), RenderOptions(quick=True))
    assert time.perf_counter() - start < 10  # about 1-2 s; generous for a busy machine
    assert files == [f"{name}.gif", f"{name}.png"]
    with Image.open(tmp_path / f"{name}.gif") as image:
        assert image.format == "GIF" and image.size[0] > 200 and image.size[1] > 100
        durations = []
        for index in range(image.n_frames):  # identical frames are merged into longer ones
            image.seek(index)
            durations.append(image.info["duration"])
    # GIF durations are whole centiseconds, so a merged frame lasts about k times a single one.
    assert sum(round(duration / min(durations)) for duration in durations) == 6  # quick: 6
    with Image.open(tmp_path / f"{name}.png") as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_light_theme_and_mp4_format(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    files = FIGURES["learning_rate"].render(str(tmp_path),
                                            RenderOptions(quick=True, theme="light", format="mp4"))
    assert files[0] == "learning_rate.mp4" and (tmp_path / files[0]).stat().st_size > 1000
    with Image.open(tmp_path / files[1]) as image:
        assert image.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # light background


def test_captions_and_code_name_the_public_calls():
    for name in NAMES:
        figure = FIGURES[name]
        assert len(figure.caption) > 60
        assert "from ildl.viz import" in figure.code and "ildl.nn.optimizers" in figure.code
