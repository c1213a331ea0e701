"""Callbacks: History, EarlyStopping (against Keras' rule), ModelCheckpoint, CSVLogger (Keras'
file layout), LambdaCallback, and the progress output of fit(verbose=...)."""

import io
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_reference import keras_early_stopping

from ildl import errors, nn
from ildl.nn import callbacks
from ildl.nn.progress import format_seconds


def small_model(seed=0):
    model = nn.Sequential([nn.Dense(6, activation="tanh", input_shape=(2,)), nn.Dropout(0.2),
                           nn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(nn.optimizers.Adam(learning_rate=0.01), "binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(24, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(float)


class Inject(callbacks.Callback):
    """Puts ``values[epoch]`` into the epoch logs as ``key`` (placed before the callback under
    test, which then sees a monitored sequence we chose)."""

    def __init__(self, values, key="score"):
        super().__init__()
        self.values, self.key = list(values), key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class RecordWeights(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


# --------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------

def test_history_records_one_entry_per_epoch(data):
    model = small_model()
    history = model.fit(*data, epochs=4, batch_size=8, validation_split=0.25, verbose=0)
    assert isinstance(history, callbacks.History)
    assert model.history is history
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 and all(isinstance(e, float) for e in v)
               for v in history.history.values())
    assert model.epochs_trained == 4
    resumed = model.fit(*data, epochs=6, initial_epoch=4, batch_size=8, verbose=0)
    assert resumed.epoch == [4, 5] and model.epochs_trained == 6


# --------------------------------------------------------------------------------------
# EarlyStopping
# --------------------------------------------------------------------------------------

def run_with_scores(values, stopper, data, epochs=None):
    recorder = RecordWeights()
    model = small_model()
    history = model.fit(*data, epochs=epochs or len(values), batch_size=12, verbose=0,
                        callbacks=[Inject(values), recorder, stopper])
    return model, history, recorder


@settings(max_examples=30, deadline=None, database=None)
@given(values=st.lists(st.sampled_from([10.0, 9.0, 8.0, 7.5, 7.0, 5.0, 12.0]), min_size=1,
                       max_size=9),
       patience=st.integers(0, 3), min_delta=st.sampled_from([0.0, 0.5, 1.0, 1.5]),
       mode=st.sampled_from(["min", "max"]))
def test_early_stopping_follows_the_keras_rule(values, patience, min_delta, mode):
    # Values and deltas are small binary fractions, so differences are exact and a difference
    # equal to min_delta (not an improvement) is decided the same way by any correct code.
    x = np.random.default_rng(0).normal(size=(24, 2))
    data = (x, (x[:, 0] > 0).astype(float))
    stopper = callbacks.EarlyStopping(monitor="score", patience=patience, min_delta=min_delta,
                                      mode=mode, restore_best_weights=True)
    model, history, recorder = run_with_scores(values, stopper, data)
    stopped, best = keras_early_stopping(values, patience, min_delta, mode)
    expected_epochs = len(values) if stopped is None else stopped + 1
    assert len(history.epoch) == expected_epochs
    assert stopper.stopped_epoch == (-1 if stopped is None else stopped)
    assert stopper.best_epoch == best
    for ours, at_best in zip(model.get_weights(), recorder.weights[best]):
        np.testing.assert_array_equal(ours, at_best)


def test_early_stopping_known_sequence(data):
    # Best 0.5 at epoch 2; 0.45 is not better by min_delta 0.1; patience 2 -> stop at epoch 4.
    values = [1.0, 0.8, 0.5, 0.45, 0.6, 0.1, 0.1]
    stopper = callbacks.EarlyStopping(monitor="score", min_delta=0.1, patience=2,
                                      restore_best_weights=True)
    model, history, recorder = run_with_scores(values, stopper, data)
    assert history.epoch == [0, 1, 2, 3, 4]
    assert (stopper.best_epoch, stopper.stopped_epoch) == (2, 4)
    for ours, best in zip(model.get_weights(), recorder.weights[2]):
        np.testing.assert_array_equal(ours, best)


def test_early_stopping_without_restore_keeps_the_last_weights(data):
    stopper = callbacks.EarlyStopping(monitor="score", patience=1)
    model, history, recorder = run_with_scores([1.0, 0.5, 0.7, 0.2], stopper, data)
    assert history.epoch == [0, 1, 2]
    for ours, last in zip(model.get_weights(), recorder.weights[-1]):
        np.testing.assert_array_equal(ours, last)


def test_early_stopping_verbose_says_when_it_stopped_and_which_weights_it_restored(data,
                                                                                  capsys):
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=2,
                                      restore_best_weights=True, verbose=1)
    small_model().fit(*data, epochs=6, verbose=0, callbacks=[
        Inject([0.5, 0.7, 0.6, 0.65, 0.9, 0.9], key="val_accuracy"), stopper])
    assert capsys.readouterr().out.splitlines() == [
        "EarlyStopping: val_accuracy did not improve for 2 epochs; stopping after epoch 4 "
        "(best 0.7000 at epoch 2)",
        "EarlyStopping: restored the weights of epoch 2"]


def test_early_stopping_mode_auto_maximises_accuracy(data):
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=0)
    model = small_model()
    history = model.fit(*data, epochs=4, verbose=0,
                        callbacks=[Inject([0.5, 0.6, 0.55, 0.9], key="val_accuracy"), stopper])
    assert history.epoch == [0, 1, 2]


def test_early_stopping_on_real_validation_loss(data, rng):
    """Stop epoch of a real run equals Keras' rule applied to the recorded val_loss."""
    x_val = rng.normal(size=(10, 2))
    y_val = rng.integers(0, 2, size=10).astype(float)  # noise: validation loss soon rises
    model = small_model()
    model.compile(nn.optimizers.Adam(learning_rate=0.05), "binary_crossentropy")
    stopper = callbacks.EarlyStopping(patience=2)  # monitor val_loss, mode min (defaults)
    history = model.fit(*data, epochs=60, batch_size=6, validation_data=(x_val, y_val),
                        verbose=0, callbacks=[stopper])
    stopped, best = keras_early_stopping(history.history["val_loss"], patience=2)
    assert stopped == len(history.epoch) - 1 and stopped < 59
    assert stopper.best_epoch == best


def test_early_stopping_missing_monitor_names_the_available_logs(data):
    with pytest.raises(KeyError) as error:
        small_model().fit(*data, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    message = str(error.value)
    assert "val_loss" in message and "loss" in message and "accuracy" in message


def test_early_stopping_bad_mode():
    with pytest.raises(ValueError, match="'min' or 'max'"):
        callbacks.EarlyStopping(mode="minimum")


# --------------------------------------------------------------------------------------
# ModelCheckpoint
# --------------------------------------------------------------------------------------

def test_checkpoint_every_epoch_with_formatted_names(data, tmp_path):
    recorder = RecordWeights()
    model = small_model()
    history = model.fit(*data, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[recorder, callbacks.ModelCheckpoint(
                            str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.ildl"))])
    expected = [f"ckpt-{e + 1:02d}-{v:.3f}.ildl"
                for e, v in enumerate(history.history["val_loss"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    for epoch, name in enumerate(expected):
        loaded = nn.load_model(tmp_path / name)
        assert loaded.epochs_trained == epoch + 1
        for ours, saved in zip(loaded.get_weights(), recorder.weights[epoch]):
            np.testing.assert_array_equal(ours, saved)


def test_checkpoint_save_best_only(data, tmp_path):
    values = [0.9, 0.7, 0.8, 0.7, 0.3, 0.4]  # improvements at epochs 1, 2, 5 (1-based)
    model = small_model()
    model.fit(*data, epochs=6, verbose=0, callbacks=[
        Inject(values), callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch:02d}.ildl"),
                                                  monitor="score", save_best_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-01.ildl", "best-02.ildl",
                                                          "best-05.ildl"]
    model = small_model()
    model.fit(*data, epochs=6, verbose=0, callbacks=[
        Inject(values), callbacks.ModelCheckpoint(str(tmp_path / "best.ildl"), monitor="score",
                                                  save_best_only=True)])
    assert nn.load_model(tmp_path / "best.ildl").epochs_trained == 5


def test_resuming_from_a_checkpoint_continues_identically(data, tmp_path):
    path = str(tmp_path / "epoch-{epoch}.ildl")
    straight = small_model(seed=11)
    straight.fit(*data, epochs=4, batch_size=5, verbose=0,
                 callbacks=[callbacks.ModelCheckpoint(path)])
    resumed = nn.load_model(tmp_path / "epoch-2.ildl")
    history = resumed.fit(*data, epochs=4, batch_size=5, verbose=0,
                          initial_epoch=resumed.epochs_trained)
    assert history.epoch == [2, 3]
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# CSVLogger: Keras' file, written out by hand
# --------------------------------------------------------------------------------------

def log_epochs(logger, logs_per_epoch, first_epoch=0):
    """Drive ``logger`` as fit does: begin, one on_epoch_end per entry, end."""
    logger.on_train_begin({})
    for epoch, logs in enumerate(logs_per_epoch, start=first_epoch):
        logger.on_epoch_end(epoch, logs)
    logger.on_train_end({})


def test_csv_logger_writes_epoch_then_the_sorted_log_names(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(callbacks.CSVLogger(path), [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625},
                                           {"val_loss": 0.25, "loss": 0.125, "accuracy": 1.0}])
    # Keras: "epoch" (0-based) first, the first epoch's names sorted, Excel's \r\n line ends
    assert path.read_bytes() == (b"epoch,accuracy,loss,val_loss\r\n"
                                 b"0,0.75,0.5,0.625\r\n"
                                 b"1,1.0,0.125,0.25\r\n")


def test_csv_logger_writes_na_for_a_missing_name_and_ignores_a_new_one(tmp_path):
    path = tmp_path / "log.csv"
    log_epochs(callbacks.CSVLogger(path, separator=";"),
               [{"loss": 0.5, "lr": 0.01}, {"loss": 0.25, "extra": 3.0}])
    assert path.read_bytes() == b"epoch;loss;lr\r\n0;0.5;0.01\r\n1;0.25;NA\r\n"


def test_csv_logger_append_continues_a_file_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"epoch,loss\r\n0,0.5\r\n1,0.25\r\n")
    log_epochs(callbacks.CSVLogger(path, append=True), [{"loss": 0.125}], first_epoch=2)
    assert path.read_bytes() == b"epoch,loss\r\n0,0.5\r\n1,0.25\r\n2,0.125\r\n"
    # without append, training starts the file afresh (already when it begins, as Keras)
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin({})
    assert path.read_bytes() == b""
    # appending to an empty or absent file writes the header
    for target in (path, tmp_path / "new" / "log.csv"):
        log_epochs(callbacks.CSVLogger(target, append=True), [{"loss": 0.5}])
        assert target.read_bytes() == b"epoch,loss\r\n0,0.5\r\n"


def test_csv_logger_in_fit_logs_what_history_holds_and_resumes(data, tmp_path):
    path = tmp_path / "log.csv"
    model = small_model()
    history = model.fit(*data, epochs=2, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    model.fit(*data, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
              initial_epoch=2, callbacks=[callbacks.CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2"]
    for line, epoch in zip(lines[1:3], range(2)):
        values = [float(v) for v in line.split(",")[1:]]
        assert values == [history.history[name][epoch] for name in
                          ("accuracy", "loss", "val_accuracy", "val_loss")]


def test_csv_logger_leaves_the_names_fit_logs_known_in_advance(data, tmp_path):
    """It adds nothing to the logs: a monitor fit will not log is still refused at the start."""
    model = small_model()
    with pytest.raises(errors.MetricNotFoundError, match="EarlyStopping monitors 'acc'"):
        model.fit(*data, epochs=2, verbose=0, callbacks=[
            callbacks.CSVLogger(tmp_path / "log.csv"), callbacks.EarlyStopping(monitor="acc")])
    assert model.epochs_trained == 0


@pytest.mark.parametrize("arguments, words", [
    ((3,), ["filename", "log.csv", "3"]),
    (("log.csv", ", "), ["separator", "one character", "', '"]),
    (("log.csv", "\n"), ["separator", "line break"]),
    (("log.csv", ",", "yes"), ["append", "True or False"]),
])
def test_csv_logger_arguments_are_checked(arguments, words):
    with pytest.raises(errors.ArgumentError) as error:
        callbacks.CSVLogger(*arguments)
    assert all(word in str(error.value) for word in words), str(error.value)


# --------------------------------------------------------------------------------------
# LambdaCallback
# --------------------------------------------------------------------------------------

def test_lambda_callback_hooks_are_called_the_right_number_of_times(data):
    counts = dict.fromkeys(["train_begin", "train_end", "epoch_begin", "epoch_end",
                            "batch_begin", "batch_end"], 0)
    epochs_seen, batches_seen = [], []

    def count(name):
        def hook(*args):
            counts[name] += 1
        return hook

    def epoch_end(epoch, *rest):
        counts["epoch_end"] += 1
        epochs_seen.append(epoch)

    def batch_end(batch, *rest):
        counts["batch_end"] += 1
        batches_seen.append(batch)

    small_model().fit(*data, epochs=3, batch_size=10, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_train_begin=count("train_begin"),
                                 on_train_end=count("train_end"),
                                 on_epoch_begin=count("epoch_begin"), on_epoch_end=epoch_end,
                                 on_train_batch_begin=count("batch_begin"),
                                 on_train_batch_end=batch_end)])
    # 24 samples in batches of 10 -> 3 batches per epoch
    assert counts == {"train_begin": 1, "train_end": 1, "epoch_begin": 3, "epoch_end": 3,
                      "batch_begin": 9, "batch_end": 9}
    assert epochs_seen == [0, 1, 2] and batches_seen == [0, 1, 2] * 3


def test_lambda_callback_epoch_end_gets_the_logs(data):
    seen = []
    small_model().fit(*data, epochs=2, verbose=0, validation_split=0.25, callbacks=[
        callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(dict(logs)))])
    assert [set(logs) for logs in seen] == [{"loss", "accuracy", "val_loss",
                                             "val_accuracy"}] * 2


def test_lambda_callback_accepts_keras_signatures(data):
    calls = []
    small_model().fit(*data, epochs=1, verbose=0, callbacks=[callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append("epoch_begin"),
        on_train_batch_begin=lambda batch, logs: calls.append("batch_begin"),
        on_train_batch_end=lambda batch, logs: calls.append("batch_end"),
        on_epoch_end=lambda epoch, logs: calls.append("epoch_end"),
        on_train_end=lambda logs: calls.append("train_end"))])
    assert calls[0] == "train_begin" and calls[-1] == "train_end"


def test_callbacks_can_stop_training(data):
    def stop_after_second(epoch, logs):
        if epoch == 1:
            model.stop_training = True

    model = small_model()
    history = model.fit(*data, epochs=10, verbose=0,
                        callbacks=[callbacks.LambdaCallback(on_epoch_end=stop_after_second)])
    assert history.epoch == [0, 1] and model.epochs_trained == 2


# --------------------------------------------------------------------------------------
# Progress output
# --------------------------------------------------------------------------------------

def test_verbose_zero_prints_nothing(data, capsys):
    small_model().fit(*data, epochs=2, verbose=0, validation_split=0.25)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_one_shows_epochs_rate_and_metrics(data, capsys):
    small_model().fit(*data, epochs=3, batch_size=8, verbose=1, validation_split=0.25)
    out = capsys.readouterr().out
    for text in ("Epoch 1/3", "Epoch 2/3", "Epoch 3/3", "samples/s", "loss", "val_accuracy"):
        assert text in out
    assert out.count("\n") == 3  # not a terminal: one line per epoch


def test_verbose_one_on_a_terminal_redraws_with_an_eta(data, monkeypatch):
    class FakeTerminal(io.StringIO):
        def isatty(self):
            return True

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    small_model().fit(*data, epochs=2, batch_size=4, verbose=1)
    out = terminal.getvalue()
    assert "Epoch 1/2" in out and "ETA" in out and "samples/s" in out and "\r" in out


def test_full_batch_training_shows_one_bar_over_all_its_steps(data, capsys):
    small_model().fit(*data, epochs=30, batch_size=len(data[0]), verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("30 full-batch steps [") and out.count("\n") == 1
    assert "30/30" in out and "steps/s" in out and "epoch" not in out.lower()


def test_verbose_two_prints_one_line_per_epoch(data, capsys):
    small_model().fit(*data, epochs=4, batch_size=4, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" [")[0] for line in lines] == [f"Epoch {e}/4" for e in range(1, 5)]


@pytest.mark.parametrize("seconds, shown", [(3.24, "3.2s"), (75.3, "1:15"), (3725, "1:02:05"),
                                            (0, "0.0s")])
def test_format_seconds(seconds, shown):
    assert format_seconds(seconds) == shown


def test_format_seconds_just_below_a_minute():
    assert format_seconds(59.97) == "1:00"


# --------------------------------------------------------------------------------------
# Names a callback needs: checked when fit starts (not after the first epoch)
# --------------------------------------------------------------------------------------

def test_checkpoint_pattern_with_a_missing_metric_fails_before_training(data, tmp_path):
    keep = tmp_path / "m-0.50.ildl"
    keep.write_bytes(b"an earlier file")
    model = small_model()
    before = model.get_weights()
    with pytest.raises(errors.MetricNotFoundError) as error:
        model.fit(*data, epochs=3, validation_split=0.25, verbose=0, callbacks=[
            callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.ildl"))])
    message = str(error.value)
    for word in ("ModelCheckpoint", "m-{val_acc:.2f}.ildl", "'val_acc'",
                 "loss, accuracy, val_loss, val_accuracy", "did you mean 'val_accuracy'?"):
        assert word in message, message
    assert isinstance(error.value, KeyError)  # what such code caught before
    assert model.epochs_trained == 0  # refused before the first epoch
    for ours, theirs in zip(model.get_weights(), before):
        np.testing.assert_array_equal(ours, theirs)
    assert [p.name for p in tmp_path.iterdir()] == [keep.name]
    assert keep.read_bytes() == b"an earlier file"


@pytest.mark.parametrize("make, words", [
    (lambda: callbacks.ModelCheckpoint("m-{val_loss:.3f}.ildl"),
     ["'val_loss'", "loss, accuracy", "validation_data or validation_split"]),
    (lambda: callbacks.ModelCheckpoint("best.ildl", monitor="val_auc", save_best_only=True),
     ["ModelCheckpoint monitors 'val_auc'"]),
    (lambda: callbacks.EarlyStopping(monitor="acc"), ["EarlyStopping monitors 'acc'",
                                                       "did you mean 'accuracy'?"]),
], ids=["val_without_validation", "checkpoint_monitor", "early_stopping_monitor"])
def test_missing_quantities_are_named_when_fit_starts(make, words, data, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = small_model()
    with pytest.raises(errors.MetricNotFoundError) as error:
        model.fit(*data, epochs=2, verbose=0, callbacks=[make()])
    assert all(word in str(error.value) for word in words), str(error.value)
    assert model.epochs_trained == 0 and list(tmp_path.iterdir()) == []


def test_with_a_callback_of_ones_own_the_name_is_checked_when_the_epoch_ends(data, tmp_path):
    """Own callbacks may add quantities to the logs, so the check waits for the logs."""
    model = small_model()
    with pytest.raises(errors.MetricNotFoundError) as error:
        model.fit(*data, epochs=3, verbose=0, callbacks=[
            Inject([0.5, 0.4, 0.3], key="score"),
            callbacks.ModelCheckpoint(str(tmp_path / "m-{scor}.ildl"))])
    assert "'scor'" in str(error.value) and "did you mean 'score'?" in str(error.value)
    assert model.epochs_trained == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("pattern, words", [
    ("m-{epoch:s}.ildl", ["m-{epoch:s}.ildl", "cannot be filled in", "{epoch:03d}"]),
    ("m-{}.ildl", ["field without a name", "{epoch:02d}"]),
    ("m-{0}.ildl", ["field without a name"]),
    ("m-{epoch.ildl", ["not a valid pattern", "{{"]),
    ("m-}.ildl", ["not a valid pattern"]),
    (3, ["filepath", "3"]),
])
def test_checkpoint_patterns_that_cannot_be_filled_are_refused(pattern, words):
    with pytest.raises(errors.ArgumentError) as error:
        callbacks.ModelCheckpoint(pattern)
    assert all(word in str(error.value) for word in words), str(error.value)


@pytest.mark.parametrize("make, words", [
    (lambda: callbacks.EarlyStopping(patience=-1), ["patience", ">= 0"]),
    (lambda: callbacks.EarlyStopping(patience=2.5), ["patience", "2.5 (float)"]),
    (lambda: callbacks.EarlyStopping(min_delta="0.1"), ["min_delta", "str"]),
    (lambda: callbacks.EarlyStopping(monitor=None), ["monitor", "'val_loss'"]),
    (lambda: callbacks.ModelCheckpoint("m.ildl", save_best_only="yes"),
     ["save_best_only", "True or False"]),
])
def test_callback_arguments_are_checked(make, words):
    with pytest.raises(errors.ArgumentError) as error:
        make()
    assert all(word in str(error.value) for word in words), str(error.value)
