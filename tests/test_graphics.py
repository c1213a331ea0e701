"""ildl.graphics, the leaf under every figure: what importing it loads, the theme, save_figure
(atomic, format from the extension) and the GIF/MP4 writers."""

import io
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from PIL import Image

import ildl.viz.animation
import ildl.viz.theme
from ildl import graphics
from ildl.errors import ArgumentError
from ildl.graphics import save_animation, save_figure, themed, write_frames

matplotlib.use("Agg")


def modules_loaded_by(statement: str) -> set[str]:
    """The names in sys.modules after ``statement`` runs in a fresh interpreter."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=os.environ.copy())
    return set(result.stdout.split())


# -- a leaf ---------------------------------------------------------------------------------------
def test_the_leaf_loads_only_the_bottom_utilities_of_ildl_and_no_plotting():
    loaded = modules_loaded_by("import ildl.graphics")
    assert {name for name in loaded if name.startswith("ildl")} == {
        "ildl", "ildl.graphics", "ildl.atomic", "ildl.errors"}
    assert not {"matplotlib", "PIL", "torch"} & loaded  # loaded only by the function using them


def test_viz_theme_loads_no_figure_module_and_nothing_of_nn():
    loaded = modules_loaded_by("import ildl.viz.theme")
    assert {name for name in loaded if name.startswith("ildl")} == {
        "ildl", "ildl.graphics", "ildl.atomic", "ildl.errors", "ildl.viz", "ildl.viz.theme"}


def test_the_old_homes_hand_out_the_same_objects():
    assert ildl.viz.theme.themed is graphics.themed
    assert ildl.viz.theme.SERIES_COLORS is graphics.SERIES_COLORS
    assert ildl.viz.animation.write_frames is graphics.write_frames
    assert ildl.viz.animation.figure_pixels is graphics.figure_pixels


# -- the theme ------------------------------------------------------------------------------------
def test_themed_sets_the_colours_inside_the_block_only():
    before = matplotlib.rcParams["figure.facecolor"]
    with themed("dark"):
        assert matplotlib.rcParams["figure.facecolor"] == "#111418"
    with themed("light"):
        assert matplotlib.rcParams["text.color"] == "#202124"
    assert matplotlib.rcParams["figure.facecolor"] == before


@pytest.mark.parametrize("name", ["blue", "", None, ["dark"]])
def test_an_unknown_theme_names_the_known_ones(name):
    with pytest.raises(ArgumentError, match="unknown theme .*expected one of dark, light"):
        with themed(name):
            pass


# -- save_figure ----------------------------------------------------------------------------------
def small_figure(color="#ff0000"):
    import matplotlib.pyplot as plt

    with themed("dark"):
        figure, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [1, 0], color=color)
    return figure


def pixels(png: bytes | str) -> np.ndarray:
    with Image.open(io.BytesIO(png) if isinstance(png, bytes) else png) as image:
        return np.asarray(image.convert("RGB"))


def test_save_figure_writes_what_savefig_draws_on_the_themes_background(tmp_path):
    figure = small_figure()
    reference = io.BytesIO()
    figure.savefig(reference, format="png", dpi=80, facecolor=figure.get_facecolor())
    path = save_figure(figure, tmp_path / "f.png", 80, close=False)
    assert path == str(tmp_path / "f.png")
    saved = pixels(path)
    np.testing.assert_array_equal(saved, pixels(reference.getvalue()))
    assert saved.shape == (120, 160, 3)  # 2 x 1.5 inches at 80 dpi
    assert tuple(saved[0, 0]) == (0x11, 0x14, 0x18)  # the dark theme's background
    tight = io.BytesIO()
    figure.savefig(tight, format="png", dpi=80, facecolor=figure.get_facecolor(),
                   bbox_inches="tight")
    save_figure(figure, tmp_path / "t.png", 80, tight=True)
    np.testing.assert_array_equal(pixels(str(tmp_path / "t.png")), pixels(tight.getvalue()))
    assert pixels(tight.getvalue()).shape != saved.shape  # the box fits the drawing, not 2 x 1.5


def test_the_extension_picks_the_format_and_pyplot_forgets_the_figure(tmp_path):
    import matplotlib.pyplot as plt

    figure = small_figure()
    save_figure(figure, tmp_path / "f.svg")
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    assert not plt.fignum_exists(figure.number)
    save_figure(small_figure(), tmp_path / "noextension")  # png, under the exact name asked
    assert (tmp_path / "noextension").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_outside_pyplot_is_saved_without_loading_pyplot(tmp_path):
    code = ("from matplotlib.figure import Figure\nfrom ildl.graphics import save_figure\n"
            "figure = Figure()\nfigure.subplots().plot([0, 1])\n"
            f"save_figure(figure, {str(tmp_path / 'f.png')!r})")
    loaded = modules_loaded_by(code)
    assert "matplotlib.pyplot" not in loaded
    assert (tmp_path / "f.png").stat().st_size > 0


def test_a_failing_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.png"
    target.write_bytes(b"the old figure")
    broken = small_figure()
    broken.axes[0].set_title(r"$\frac{$")  # mathtext that fails when the figure is drawn
    with pytest.raises(ValueError):
        save_figure(broken, target)
    assert target.read_bytes() == b"the old figure"

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # fail while the new file is being written
    with pytest.raises(OSError, match="No space"):
        save_figure(small_figure(), target)
    assert target.read_bytes() == b"the old figure"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["f.png"]


def test_an_unknown_extension_an_axes_or_a_bad_dpi_is_refused_before_writing(tmp_path):
    figure = small_figure()
    with pytest.raises(ArgumentError, match=r"\.docx is not an image format .*\.png.*\.svg"):
        save_figure(figure, tmp_path / "f.docx")
    with pytest.raises(ArgumentError, match="needs a matplotlib Figure, got Axes; .*ax.figure"):
        save_figure(figure.axes[0], tmp_path / "f.png")
    for dpi in (0, -5, "100", True):
        with pytest.raises(ArgumentError, match="dpi must be a positive number"):
            save_figure(figure, tmp_path / "f.png", dpi)
    assert list(tmp_path.iterdir()) == []


# -- animations -----------------------------------------------------------------------------------
def test_gif_has_the_frames_and_size_asked(tmp_path):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(3, 2), dpi=50)
    point, = ax.plot([], [], "o")
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 100)
    calls = []
    path = save_animation(figure, lambda i: point.set_data([i], [i * i]), frames=7,
                          path=str(tmp_path / "a.gif"), fps=10,
                          progress=lambda done, total: calls.append((done, total)))
    plt.close(figure)
    with Image.open(path) as gif:
        assert gif.n_frames == 7
        assert gif.size == (150, 100)
        assert gif.info["duration"] == 100
    assert calls[-1] == (7, 7)


def test_frames_keep_their_colours(tmp_path):
    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((20, 30, 3), np.uint8)
    blue[..., 2] = 255
    path = write_frames([red, blue], str(tmp_path / "c.gif"))
    with Image.open(path) as gif:
        gif.seek(1)
        assert gif.convert("RGB").getpixel((5, 5)) == (0, 0, 255)


def test_steady_frames_keep_colours_that_moved_within_the_tolerance():
    frames = [np.array([[[10, 10, 10], [10, 10, 10]]], np.uint8),
              np.array([[[14, 6, 10], [10, 30, 10]]], np.uint8),   # 4 levels: kept; 20: moves
              np.array([[[16, 10, 10], [31, 30, 10]]], np.uint8)]  # 6 from the 10 kept: moves
    steady = graphics.steady_frames(frames, tolerance=5)
    assert [frame.tolist() for frame in steady] == [
        [[[10, 10, 10], [10, 10, 10]]], [[[10, 10, 10], [10, 30, 10]]],
        [[[16, 10, 10], [31, 30, 10]]]]


def test_a_tolerance_shrinks_a_gif_of_flickering_noise(tmp_path):
    rng = np.random.default_rng(0)
    still = np.linspace(0, 200, 64 * 64 * 3).reshape(64, 64, 3)
    frames = [(still + rng.integers(-3, 4, still.shape)).astype(np.uint8) for _ in range(12)]
    exact = os.path.getsize(write_frames(frames, tmp_path / "exact.gif"))
    steady = os.path.getsize(write_frames(frames, tmp_path / "steady.gif", tolerance=6))
    assert steady < exact / 3


def test_mp4_when_imageio_ffmpeg_is_installed(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    frames = [np.full((31, 41, 3), value, np.uint8) for value in range(0, 250, 25)]
    path = write_frames(frames, str(tmp_path / "m.mp4"), fps=5)
    assert open(path, "rb").read()[4:8] == b"ftyp"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m.mp4"]  # no partial file


def test_mp4_without_imageio_ffmpeg_says_how_to_install_it(tmp_path, monkeypatch):
    from ildl.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install imageio-ffmpeg.*\.gif"):
        write_frames([np.zeros((4, 4, 3), np.uint8)], tmp_path / "m.mp4")
    with pytest.raises(MissingDependencyError, match="imageio-ffmpeg"):
        graphics.check_animation_format("mp4")
    drawn = []
    with pytest.raises(MissingDependencyError, match="imageio-ffmpeg"):
        save_animation(small_figure(), drawn.append, 5, str(tmp_path / "m.mp4"))
    assert drawn == []  # refused before any frame is drawn
    assert graphics.check_animation_format("gif") == "gif"
    with pytest.raises(ArgumentError, match="format must be one of gif, mp4, got 'avi'"):
        graphics.check_animation_format("avi")
    assert list(tmp_path.iterdir()) == []


def test_bad_paths_and_empty_animations_are_refused(tmp_path):
    with pytest.raises(ValueError, match=".gif or .mp4"):
        write_frames([np.zeros((2, 2, 3), np.uint8)], str(tmp_path / "x.avi"))
    with pytest.raises(ValueError, match="at least one frame"):
        write_frames([], str(tmp_path / "x.gif"))


@pytest.mark.parametrize(("frames", "fps", "message"), [
    ([np.zeros((4, 4, 3))], 10, r"frame 0 .* float64 .*\(H, W, 3\) uint8"),
    ([np.zeros((4, 4), np.uint8)], 10, r"frame 0 .*shape \(4, 4\)"),
    ([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], 10,
     r"frame 1 .*first frame's shape \(4, 4, 3\)"),
    ([np.zeros((4, 4, 3), np.uint8)], 0, "fps must be a positive"),
])
def test_frames_that_are_not_pixels_are_refused_and_nothing_is_written(tmp_path, frames, fps,
                                                                       message):
    target = tmp_path / "x.gif"
    target.write_bytes(b"the old animation")
    with pytest.raises(ArgumentError, match=message):
        write_frames(frames, target, fps)
    assert target.read_bytes() == b"the old animation"
