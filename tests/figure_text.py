"""Checks of a matplotlib figure's text as drawn: every piece inside the figure, none on another."""

import matplotlib.text


def drawn_texts(figure) -> list:
    """(text, window extent) of every visible, non-empty text of ``figure`` after drawing it."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [(text.get_text(), text.get_window_extent(renderer))
            for text in figure.findobj(matplotlib.text.Text)
            if text.get_visible() and text.get_text().strip()]


def texts_outside(figure) -> list[str]:
    """The texts of ``figure`` that reach past its edges (clipped when saved as it is)."""
    edges = figure.bbox
    return [text for text, box in drawn_texts(figure)
            if box.x0 < edges.x0 or box.y0 < edges.y0 or box.x1 > edges.x1 or box.y1 > edges.y1]


def texts_overlapping(figure) -> list[tuple[str, str]]:
    """Pairs of texts of ``figure`` drawn over each other."""
    texts = drawn_texts(figure)
    return [(first, second) for index, (first, box) in enumerate(texts)
            for second, other in texts[index + 1:] if box.overlaps(other)]
