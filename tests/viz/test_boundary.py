"""Boundary plots and animations: grid layout, snapshot choice, files of the sizes asked."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl import nn
from ildl.data import make_moons
from ildl.viz.boundary import (
    animate_decision_boundary,
    plot_boundaries_snapshots,
    plot_boundary_snapshots,
    plot_decision_boundary,
    save_boundaries_animation,
    save_figure,
    snapshot_frames,
    train_with_recorders,
)
from ildl.viz.recording import BoundaryRecorder

matplotlib.use("Agg")


def moons():
    x, y = make_moons(120, noise=0.1, random_state=1)
    return x.astype(np.float32), y


def small_model(seed=0):
    model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(2,)),
                           nn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(nn.optimizers.Adam(learning_rate=0.02), "binary_crossentropy", ["accuracy"])
    return model


@pytest.mark.parametrize("spacing", ["log", "linear"])
def test_snapshots_are_distinct_and_include_first_and_last(spacing):
    steps = list(range(0, 101, 5))
    frames = snapshot_frames(steps, 8, spacing)
    assert len(frames) == 8 == len(set(frames))
    assert frames[0] == 0 and frames[-1] == len(steps) - 1
    assert frames == sorted(frames)
    assert snapshot_frames([0, 1, 2], 5) == [0, 1, 2]


def test_log_spacing_favours_early_frames():
    steps = list(range(0, 1001, 10))
    assert snapshot_frames(steps, 5, "log")[1] < snapshot_frames(steps, 5, "linear")[1]


def test_animation_has_one_frame_per_recording_and_the_size_asked(tmp_path):
    x, y = moons()
    path, summary = tmp_path / "learn.gif", tmp_path / "learn.png"
    recorder = animate_decision_boundary(small_model(), x, y, epochs=6, path=str(path),
                                         every=2, resolution=20, size=(4.0, 2.0),
                                         summary_path=str(summary), title="test")
    assert recorder.steps == [0, 2, 4, 6]
    with Image.open(path) as gif:
        assert gif.n_frames == 4
        assert gif.size == (400, 200)
    with Image.open(summary) as png:
        png.verify()


def test_mp4_is_written_when_imageio_ffmpeg_is_installed(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    x, y = moons()
    path = tmp_path / "learn.mp4"
    animate_decision_boundary(small_model(), x, y, epochs=2, path=str(path), every=1,
                              resolution=10, size=(3.0, 1.5))
    assert path.stat().st_size > 1000


def test_several_models_side_by_side(tmp_path):
    x, y = moons()
    recorders = train_with_recorders({"a": small_model(0), "b": small_model(1)}, x[:80], y[:80],
                                     epochs=4, every=2, validation_data=(x[80:], y[80:]),
                                     resolution=12)
    assert [len(recorder) for recorder in recorders.values()] == [3, 3]
    path = save_boundaries_animation(recorders, x[:80], y[:80], str(tmp_path / "two.gif"),
                                     (x[80:], y[80:]), size=(3.0, 3.0), theme="light")
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (300, 300)
    save_figure(plot_boundaries_snapshots(recorders, x[:80], y[:80], count=2),
                str(tmp_path / "two.png"))
    with Image.open(tmp_path / "two.png") as png:
        png.verify()


def test_static_plot_accepts_a_function():
    import matplotlib.pyplot as plt

    x, y = moons()
    ax = plot_decision_boundary(lambda p: 1 / (1 + np.exp(-p[:, 1])), x, y, resolution=20)
    assert ax.get_xlabel() == "$x_1$"
    plt.close(ax.figure)


def test_rows_of_snapshots_sit_close_together():
    # Square panels in cells taller than wide used to leave 0.6 inch of nothing between rows.
    x, y = moons()
    recorder = BoundaryRecorder(x, y, every=1, resolution=10)
    small_model().fit(x, y, epochs=8, verbose=0, callbacks=[recorder])  # 9 frames
    figure = plot_boundary_snapshots(recorder, x, y, count=8, columns=4, curves=False,
                                     title="t")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in figure.axes[:8]]  # then the colour bar
    top_row_bottom = min(box.y0 for box in boxes[:4])
    bottom_row_top = max(box.y1 for box in boxes[4:])
    assert 0 <= (top_row_bottom - bottom_row_top) / figure.dpi < 0.25  # inches


def test_snapshots_of_several_models_label_their_axes_in_a_readable_size():
    import matplotlib.pyplot as plt

    x, y = moons()
    recorders = train_with_recorders({"a": small_model(0), "b": small_model(1)}, x, y,
                                     epochs=2, every=1, resolution=8)
    figure = plot_boundaries_snapshots(recorders, x, y, count=2)
    axes = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]
    rows = [axes[:2], axes[2:]]
    assert [ax.get_xlabel() for ax in rows[-1]] == ["$x_1$", "$x_1$"]
    assert [ax.get_ylabel() for ax in (rows[0][0], rows[1][0])] == ["a\n$x_2$", "b\n$x_2$"]
    figure.canvas.draw()
    sizes = {label.get_fontsize() for ax in axes for label in ax.get_xticklabels()
             + ax.get_yticklabels() if label.get_visible() and label.get_text()}
    assert sizes and min(sizes) >= 9  # it was 7: unreadable at the gallery's width
    plt.close(figure)


def test_the_curves_legend_names_the_dotted_lines_at_the_snapshots():
    x, y = moons()
    recorder = BoundaryRecorder(x, y, every=1, resolution=10)
    small_model().fit(x, y, epochs=4, verbose=0, callbacks=[recorder])
    figure = plot_boundary_snapshots(recorder, x, y, count=3)
    accuracy_panel = next(ax for ax in figure.axes if ax.get_ylabel() == "accuracy")
    names = [text.get_text() for text in accuracy_panel.get_legend().get_texts()]
    dotted = [line for line in accuracy_panel.get_lines() if line.get_linestyle() == ":"]
    matplotlib.pyplot.close(figure)
    assert names == ["training", "snapshots above"] and len(dotted) == 3
