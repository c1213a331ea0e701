"""BoundaryRecorder: frames come from the model while fit trains it, at the moments asked."""

import numpy as np
import pytest

from ildl import nn
from ildl.data import make_moons
from ildl.viz.recording import BoundaryRecorder


def easy_moons():
    x, y = make_moons(200, noise=0.1, random_state=0)
    return x.astype(np.float32), y


def small_model(seed=0):
    model = nn.Sequential([nn.Dense(16, activation="relu", input_shape=(2,)),
                           nn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(nn.optimizers.Adam(learning_rate=0.02), "binary_crossentropy", ["accuracy"])
    return model


def test_accuracy_rises_and_loss_falls_from_first_to_last_frame():
    x, y = easy_moons()
    recorder = BoundaryRecorder(x, y, every=2, resolution=20)
    small_model().fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[recorder])
    accuracy, loss = recorder.metrics["accuracy"], recorder.metrics["loss"]
    assert accuracy[-1] > accuracy[0] + 0.2
    assert accuracy[-1] > 0.85
    assert loss[-1] < loss[0]


def test_frames_are_recorded_at_the_epochs_asked_with_the_start_and_the_end():
    x, y = easy_moons()
    recorder = BoundaryRecorder(x, y, every=3, resolution=12)
    small_model().fit(x, y, epochs=10, batch_size=50, verbose=0, callbacks=[recorder])
    assert recorder.steps == [0, 3, 6, 9, 10]  # 10 is the last epoch, recorded anyway
    assert len(recorder) == len(recorder.probabilities) == len(recorder.metrics["loss"])
    assert all(frame.shape == (12, 12) for frame in recorder.probabilities)
    assert recorder.grid_x.shape == recorder.grid_y.shape == (12, 12)


def test_per_step_counts_optimizer_steps():
    x, y = easy_moons()
    recorder = BoundaryRecorder(x, y, every=4, per="step", resolution=8)
    small_model().fit(x, y, epochs=3, batch_size=50, verbose=0, callbacks=[recorder])
    assert recorder.steps == [0, 4, 8, 12]  # 4 batches an epoch, 12 steps in all


def test_last_frame_is_the_final_model_on_the_grid():
    x, y = easy_moons()
    model = small_model()
    recorder = BoundaryRecorder(x, y, every=5, resolution=25)
    model.fit(x, y, epochs=7, batch_size=32, verbose=0, callbacks=[recorder])
    expected = model.predict(recorder.points)[:, 0].reshape(25, 25)
    np.testing.assert_allclose(recorder.probabilities[-1], expected, rtol=0, atol=1e-6)
    assert recorder.metrics["accuracy"][-1] == pytest.approx(model.evaluate(x, y)["accuracy"])


def test_each_frame_is_the_model_at_that_moment():
    # Stop an identical twin after 3 epochs: its grid must equal the recorder's epoch-3 frame.
    x, y = easy_moons()
    recorder = BoundaryRecorder(x, y, every=3, resolution=15)
    small_model().fit(x, y, epochs=9, batch_size=40, verbose=0, callbacks=[recorder])
    twin = small_model()
    twin.fit(x, y, epochs=3, batch_size=40, verbose=0)
    at_three = twin.predict(recorder.points)[:, 0].reshape(15, 15)
    np.testing.assert_allclose(recorder.probabilities[recorder.steps.index(3)], at_three,
                               atol=1e-6)


def test_validation_data_is_measured_too():
    x, y = easy_moons()
    recorder = BoundaryRecorder(x[:150], y[:150], every=2, resolution=8,
                                validation_data=(x[150:], y[150:]))
    small_model().fit(x[:150], y[:150], epochs=4, verbose=0, callbacks=[recorder])
    assert set(recorder.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == len(recorder) for values in recorder.metrics.values())


def test_bad_arguments_are_refused():
    x, y = easy_moons()
    with pytest.raises(ValueError, match="per"):
        BoundaryRecorder(x, y, per="batch")
    with pytest.raises(ValueError, match="every"):
        BoundaryRecorder(x, y, every=0)
    with pytest.raises(ValueError, match="2-D"):
        BoundaryRecorder(np.zeros((5, 3)), y[:5])
