"""ildl.progress: the bar redraws in place only when interactive, and says so in its constructor."""

import io

import pytest

import ildl.nn.progress
from ildl.progress import ProgressBar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def run(bar: ProgressBar) -> str:
    for step in (1, 2, 3):
        bar.update(step, step * 10, {"loss": 0.5})
    bar.finish(4, 40, {"loss": 0.25})
    return bar.stream.getvalue()


@pytest.mark.parametrize("stream", [io.StringIO, FakeTerminal])
def test_interactive_redraws_in_place_whatever_the_stream(stream):
    out = run(ProgressBar(4, "epoch 1/1", stream=stream(), min_interval=0, interactive=True))
    assert out.count("\r") == 4  # three redraws and the final line
    assert "ETA" in out and out.endswith("loss 0.2500\033[K\n")


@pytest.mark.parametrize("stream", [io.StringIO, FakeTerminal])
def test_not_interactive_writes_only_the_final_line(stream):
    out = run(ProgressBar(4, "epoch 1/1", stream=stream(), min_interval=0, interactive=False))
    assert out.startswith("epoch 1/1 [") and out.count("\n") == 1 and "\r" not in out
    assert "4/4" in out and "loss 0.2500" in out


@pytest.mark.parametrize(("stream", "redraws"), [(io.StringIO, False), (FakeTerminal, True)])
def test_by_default_it_redraws_on_a_terminal_only(stream, redraws):
    bar = ProgressBar(4, stream=stream(), min_interval=0)
    assert bar.interactive is redraws
    assert ("\r" in run(bar)) is redraws


def test_the_old_home_hands_out_the_same_bar():
    assert ildl.nn.progress.ProgressBar is ProgressBar


def test_the_rate_names_its_unit():
    out = run(ProgressBar(4, "photo.png", stream=io.StringIO(), min_interval=0,
                          interactive=True, unit="tiles"))
    assert "tiles/s  ETA" in out and "samples" not in out
