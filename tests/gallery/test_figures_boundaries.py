"""The boundary, overfitting and regularization figures render in quick mode as asked."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.errors import ArgumentError
from ildl.gallery import FIGURES, RenderOptions
from ildl.gallery.figures_boundaries import (
    EarlyStoppingWatcher,
    bias_variance_recordings,
    l2_weight_matrices,
)

matplotlib.use("Agg")
QUICK = RenderOptions(quick=True)
ANIMATED = ["boundary_animation", "numpy_model_animation", "bias_variance",
            "train_vs_validation"]


@pytest.mark.parametrize("name", ANIMATED)
def test_animated_figures_write_the_animation_and_a_summary_png(tmp_path, name):
    files = FIGURES[name].render(str(tmp_path), QUICK)
    assert files == [f"{name}.gif", f"{name}_summary.png"]
    with Image.open(tmp_path / files[0]) as gif:
        assert gif.n_frames >= 3
        assert gif.size[0] >= 300 and gif.size[1] >= 200
    with Image.open(tmp_path / files[1]) as png:
        png.verify()


@pytest.mark.parametrize("name", ["boundary_frames", "weights_l2"])
def test_still_figures_write_a_png(tmp_path, name):
    assert FIGURES[name].render(str(tmp_path), RenderOptions(quick=True, theme="light")) \
        == [f"{name}.png"]
    with Image.open(tmp_path / f"{name}.png") as png:
        assert png.size[0] > 300


def test_boundary_animation_has_one_frame_per_recording(tmp_path):
    from ildl.gallery.figures_boundaries import circles_recording

    recorder, _, _ = circles_recording(quick=True)
    FIGURES["boundary_animation"].render(str(tmp_path), QUICK)
    with Image.open(tmp_path / "boundary_animation.gif") as gif:
        assert gif.n_frames == len(recorder)
        assert gif.size == (600, 300)


def test_mp4_format_is_honoured(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    files = FIGURES["numpy_model_animation"].render(str(tmp_path),
                                                    RenderOptions(quick=True, format="mp4"))
    assert files[0] == "numpy_model_animation.mp4"
    assert (tmp_path / files[0]).stat().st_size > 1000


def test_l2_shrinks_the_weights():
    kernels = l2_weight_matrices((0.0, 1e-3, 1e-2), quick=True)
    sizes = [np.abs(kernel).mean() for kernel in kernels.values()]
    assert sizes[0] > sizes[1] > sizes[2]


def test_the_weakest_l2_empties_the_matrix_under_adam_but_hardly_shows_under_sgd():
    """The figure's lesson, on the full network: L2(0.0001) cuts the layer's mean |w| to about a
    quarter under Adam (measured 0.137 -> 0.036) and by about 5% under SGD (0.138 -> 0.131)."""
    shrunk = {}
    for optimizer in ("adam", "sgd"):
        kernels = l2_weight_matrices((0.0, 1e-4), optimizer=optimizer)
        plain, penalized = (np.abs(kernel).mean() for kernel in kernels.values())
        shrunk[optimizer] = penalized / plain
    assert shrunk["adam"] < 0.5 and shrunk["sgd"] > 0.85


def test_weight_matrices_refuse_an_unknown_optimizer():
    with pytest.raises(ArgumentError, match="unknown optimizer 'rmsprop'.*adam"):
        l2_weight_matrices(optimizer="rmsprop")


def test_bias_variance_models_are_recorded_at_the_same_epochs():
    recorders, data = bias_variance_recordings(quick=True)
    assert len(recorders) == 3
    steps = [recorder.steps for recorder in recorders.values()]
    assert all(s == steps[0] for s in steps)
    assert all("val_accuracy" in recorder.metrics for recorder in recorders.values())
    assert len(data.x_val) == 9 * len(data.x_train)


def boundary_crossings(probabilities: np.ndarray) -> int:
    """How many edges between neighbouring grid points the line P = 0.5 crosses: its length
    in grid cells, longer for a boundary that winds around single points."""
    above = probabilities > 0.5
    return int((above[:, 1:] != above[:, :-1]).sum() + (above[1:] != above[:-1]).sum())


def test_boundary_crossings_measure_the_length_of_the_line():
    straight = np.tile(np.arange(8) > 3, (8, 1)).astype(float)  # a vertical line, 8 rows high
    assert boundary_crossings(straight) == 8
    island = np.zeros((8, 8))
    island[2:4, 2:4] = 1  # a 2 x 2 island has a perimeter of 8 edges
    assert boundary_crossings(island) == 8


@pytest.mark.slow
def test_l2_draws_a_shorter_boundary_fitting_training_less_and_validation_better():
    # What the caption says of the figure's own last frame.
    recorders, _ = bias_variance_recordings()
    _, plain, regularized = recorders.values()
    assert boundary_crossings(regularized.probabilities[-1]) \
        < 0.7 * boundary_crossings(plain.probabilities[-1])  # measured: 123 against 232
    assert regularized.metrics["accuracy"][-1] < plain.metrics["accuracy"][-1]
    assert regularized.metrics["val_accuracy"][-1] > plain.metrics["val_accuracy"][-1]


def test_watcher_notes_where_early_stopping_would_stop_but_training_goes_on():
    watcher = EarlyStoppingWatcher(monitor="val_loss", patience=2)

    class Model:  # all EarlyStopping needs of a model without restore_best_weights
        stop_training = False

    watcher.set_model(Model())
    watcher.on_train_begin()
    for epoch, loss in enumerate([5, 4, 3, 3.5, 3.5, 3.6, 3.7]):
        watcher.on_epoch_end(epoch, {"val_loss": loss})
        assert not watcher.model.stop_training
    assert (watcher.best_at, watcher.would_stop) == (2, 4)
