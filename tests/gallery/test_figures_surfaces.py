"""The surface figures of the gallery render in quick mode: an animation and a summary PNG."""

import time

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions
from ildl.gallery.figures_surfaces import LR_START, LR_STEPS, LR_ZOOM, learning_rate_optimizers
from ildl.viz.optimizer_paths import plot_optimizers
from ildl.viz.surfaces import peaks

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


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_learning_rate_of_the_legend_shows_its_path(theme):
    # Three of the four paths used to lie under the fourth: the legend listed colours that
    # appeared nowhere on the surface.
    from matplotlib.colors import to_rgb

    figure = plot_optimizers(peaks(), learning_rate_optimizers(), LR_START, LR_STEPS,
                             theme=theme, zoom=LR_ZOOM)
    try:
        (legend,) = figure.legends
        paths = {text.get_text(): handle.get_color()
                 for text, handle in zip(legend.get_texts(), legend.legend_handles)
                 if text.get_text().startswith("lr = ")}
        assert len(paths) == 4
        legend.set_visible(False)  # count the paths' pixels, not those of the legend's lines
        figure.canvas.draw()
        pixels = np.asarray(figure.canvas.buffer_rgba())[:, :, :3].astype(int)
        left, bottom, right, top = figure.axes[0].bbox.extents  # the paths panel, inset and all
        panel = pixels[len(pixels) - int(top): len(pixels) - int(bottom), int(left): int(right)]
        for label, color in paths.items():
            exact = np.abs(panel - np.array(to_rgb(color)) * 255).max(axis=-1) <= 8
            assert exact.sum() >= 50, (label, exact.sum())  # measured: 103 to 3816 pixels
    finally:
        matplotlib.pyplot.close(figure)


def test_each_critical_points_panel_names_its_own_markers():
    """The saddle's cross on the left, the minima's stars on the right: each in its panel's
    legend (the right panel's stars were unexplained), and the dot at the path's head."""
    import matplotlib.pyplot as plt

    from ildl.gallery.figures_surfaces import CP_START, _critical_points_figure
    from ildl.nn.optimizers import SGD
    from ildl.viz.optimizer_paths import optimizer_path
    from ildl.viz.surfaces import monkey_saddle

    panels = [(surface, optimizer_path(surface, SGD(0.005), CP_START, 5), surface.name)
              for surface in (monkey_saddle(), peaks())]
    figure, _ = _critical_points_figure(panels, dpi=50)
    legends = [[text.get_text() for text in ax.get_legend().get_texts()] for ax in figure.axes]
    plt.close(figure)
    assert "saddle point" in legends[0] and "minimum" in legends[1]
    assert all("current position" in legend for legend in legends)  # the dot at the path's head


def test_the_gradient_descent_surface_names_its_markers_below_the_surface():
    """The 3-D panel had no legend: its start, path and head dot are named in one row under
    the surface (inside the turning 3-D box it would cover it)."""
    import matplotlib.pyplot as plt

    from ildl.gallery.figures_surfaces import GD_START, _gradient_descent_figure
    from ildl.nn.optimizers import SGD
    from ildl.viz.optimizer_paths import optimizer_path
    from ildl.viz.surfaces import curve_fit_surface

    surface = curve_fit_surface()
    figure, _, _ = _gradient_descent_figure(surface, optimizer_path(surface, SGD(0.04), GD_START,
                                                                    5), dpi=50)
    figure.canvas.draw()
    surface_panel = figure.axes[0]
    legend = surface_panel.get_legend()
    names = [text.get_text() for text in legend.get_texts()]
    legend_box = legend.get_window_extent()
    panel_box = surface_panel.get_window_extent()
    plt.close(figure)
    assert names == ["start", "path", "current position"]
    assert legend_box.y1 <= panel_box.y0 + 0.05 * panel_box.height  # under the surface
    assert legend_box.y0 >= 0  # and inside the figure (the GIF's frames are not trimmed)
