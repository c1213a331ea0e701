"""Bilinear resizing against torch.nn.functional.interpolate(mode="bilinear",
align_corners=False), up and down, with leading axes; and a hand-computed row."""

import numpy as np
import pytest

from ildl.explain.resize import resize_bilinear


@pytest.mark.parametrize("source, target", [
    ((3, 3), (12, 12)), ((5, 7), (9, 4)), ((4, 4), (4, 4)), ((2, 3), (17, 5)), ((1, 1), (3, 2)),
    ((9, 8), (3, 3)),
])
def test_resize_equals_torch_interpolate(source, target, rng, torch):
    maps = rng.normal(size=(2, 3, *source))
    expected = torch.nn.functional.interpolate(torch.tensor(maps), target, mode="bilinear",
                                               align_corners=False).numpy()
    ours = resize_bilinear(maps, target)
    assert ours.shape == (2, 3, *target)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_resize_by_hand():
    """Output pixel centres 0.5, 1.5, 2.5, 3.5 of a 4-wide row read the 2-wide input at -0.25
    (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1)."""
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 1.0]]), (1, 4)),
                               [[0.0, 0.25, 0.75, 1.0]])
