"""The moons experiment: the collection's data and network, and the PyTorch twin."""

import numpy as np
import pytest

from ildl.data import make_moons
from ildl.demos.moons import build_model, moons_data, run_moons


def test_data_is_the_collections_moons():
    sklearn = pytest.importorskip("sklearn.datasets")
    data = moons_data()
    x, y = sklearn.make_moons(1000, noise=0.2, random_state=100)
    assert len(data.x_train) == 900 and len(data.x_test) == 100
    # Every split point is one of the collection's points with its label.
    together = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    labels = np.concatenate([data.y_train, data.y_test])
    order_ours, order_theirs = np.lexsort(together.T), np.lexsort(x.T)
    np.testing.assert_allclose(together[order_ours], x[order_theirs], rtol=1e-6)
    np.testing.assert_array_equal(labels[order_ours], y[order_theirs])
    np.testing.assert_array_equal(make_moons(1000, noise=0.2, random_state=100)[0], x)


def test_network_is_2_25_50_50_25_1():
    model = build_model()
    assert [layer.params["kernel"].shape for layer in model.layers] == [
        (2, 25), (25, 50), (50, 50), (50, 25), (25, 1)]
    assert [layer.activation.name for layer in model.layers] == ["relu"] * 4 + ["sigmoid"]


def test_torch_twin_follows_ildl_step_for_step():
    pytest.importorskip("torch")
    result = run_moons(steps=300)
    # Same initial weights, same data, same arithmetic in float32: same predictions.
    assert result.torch is not None
    assert abs(result.torch.accuracy - result.ildl.accuracy) <= 0.01


def test_moons_shows_ildl_then_the_twin_each_as_a_bar_of_steps(capsys):
    pytest.importorskip("torch")
    run_moons(steps=40, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("40 full-batch steps [") and "40/40" in lines[0]
    assert lines[1].startswith("pytorch twin, 40 full-batch steps [") and "steps/s" in lines[1]
    assert len(lines) == 2


@pytest.mark.slow
def test_moons_reaches_95_percent():
    result = run_moons(torch_twin=False)
    assert result.ildl.accuracy >= 0.95
