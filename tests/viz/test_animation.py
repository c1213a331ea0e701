"""Animation writers: frame count, size and palette of GIFs; MP4 when imageio-ffmpeg is present."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.viz.animation import save_animation, write_frames

matplotlib.use("Agg")


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


def test_mp4_when_imageio_ffmpeg_is_installed(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    frames = [np.full((31, 41, 3), value, np.uint8) for value in range(0, 250, 25)]
    path = write_frames(frames, str(tmp_path / "m.mp4"), fps=5)
    assert open(path, "rb").read()[4:8] == b"ftyp"


def test_bad_paths_and_empty_animations_are_refused(tmp_path):
    with pytest.raises(ValueError, match=".gif or .mp4"):
        write_frames([np.zeros((2, 2, 3), np.uint8)], str(tmp_path / "x.avi"))
    with pytest.raises(ValueError, match="at least one frame"):
        write_frames([], str(tmp_path / "x.gif"))
