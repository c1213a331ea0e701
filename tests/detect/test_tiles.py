"""The tile grid and boxes clipped to tiles, against values worked out by hand."""

import numpy as np
import pytest

from ildl.detect.tiles import boxes_in_tile, tile_grid, tile_starts


def test_tiles_start_every_stride_and_the_last_ends_at_the_edge():
    assert tile_starts(1000, 400, 0.25) == [0, 300, 600]  # stride 300, 600 + 400 = 1000
    assert tile_starts(1100, 400, 0.25) == [0, 300, 600, 700]  # last moved back to 1100 - 400
    assert tile_starts(400, 400, 0.2) == [0]
    assert tile_starts(250, 400, 0.2) == [0]  # smaller than a tile: one tile of its own size
    assert tile_starts(800, 400, 0.0) == [0, 400]


def test_the_grid_covers_the_image_row_by_row():
    grid = tile_grid(500, 300, 400, 0.2)
    assert grid == [(0, 0, 400, 300), (100, 0, 500, 300)]
    # the orthophoto of issue 14: 2299x2472 in 400-pixel tiles, 20% overlap: stride 320
    grid = tile_grid(2299, 2472, 400, 0.2)
    columns, rows = len(tile_starts(2299, 400, 0.2)), len(tile_starts(2472, 400, 0.2))
    assert (columns, rows) == (7, 8) and len(grid) == 56  # columns end at 1600 + 400, then 1899
    covered = np.zeros((2472, 2299), bool)
    for x1, y1, x2, y2 in grid:
        assert (x2 - x1, y2 - y1) == (400, 400)
        covered[y1:y2, x1:x2] = True
    assert covered.all()


def test_boxes_are_clipped_to_the_tile_and_shifted_to_its_pixels():
    tile = (100, 50, 300, 250)
    boxes = [[120, 60, 140, 100],   # inside
             [280, 60, 320, 100],   # half outside on the right: keeps 20 of 40 columns
             [0, 0, 50, 40],        # outside
             [90, 240, 110, 260]]   # a corner inside: 10 x 10 of 20 x 20
    clipped, kept = boxes_in_tile(boxes, tile)
    np.testing.assert_array_equal(clipped, [[20, 10, 40, 50], [180, 10, 200, 50],
                                            [0, 0, 0, 0], [0, 190, 10, 200]])
    np.testing.assert_array_equal(kept, [1.0, 0.5, 0.0, 0.25])
    clipped, kept = boxes_in_tile(np.zeros((0, 4)), tile)
    assert clipped.shape == (0, 4) and kept.shape == (0,)


@pytest.mark.parametrize("size, overlap, message", [
    (16, 0.2, "tile size must be a whole number of pixels >= 32, got 16"),
    (400.0, 0.2, "got 400.0"),
    (400, 0.6, "between 0 and 0.5, got 0.6"),
    (400, -0.1, "got -0.1"),
    (400, True, "got True"),
])
def test_bad_tilings_are_refused(size, overlap, message):
    with pytest.raises(ValueError, match=message):
        tile_starts(1000, size, overlap)
