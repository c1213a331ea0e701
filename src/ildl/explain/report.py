"""What ``ildl explain image`` writes for each photo: the figure, a JSON record of it and, when
asked, the heat maps themselves.

``<name>_explained.png`` is the photo as the model saw it, then a row per explained class with
one heat map per method (``ildl.viz.explanations``). ``<name>_explained.json`` holds what the
model said (its top classes and their probabilities) and, for every map, its method, class,
options, seconds and evaluations, so runs can be compared without reading the figure.
``<name>_explained.npz`` (``maps=True``) holds the maps as computed, signed and unscaled:
``heatmaps`` (classes, methods, H, W), ``image`` (H, W, C), ``classes`` and ``methods``
(``np.load`` reads it without pickle). The JSON record::

    {"photo": "cat.jpg", "converted": null, "model": "efficientnet-lite0",
     "image_size": [224, 224], "figure": "cat_explained.png",
     "top_classes": [{"class": 281, "name": "tabby", "probability": 0.61}, ...],
     "maps": [{"method": "gradcam", "class": 281, "name": "tabby", "probability": 0.61,
               "options": {}, "seconds": 0.04, "evaluations": 1}, ...],
     "skipped_methods": {"shap": "shap needs cv2, not installed here: ..."},
     "maps_file": "cat_explained.npz"}                      # with maps=True only
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..atomic import write_bytes_atomically
from ..graphics import save_figure, themed
from ..viz.explanations import plot_explanation_grid
from .compare import top_classes
from .explanation import Explanation

# Classes listed under "top_classes" in the JSON, whichever classes the figure explains.
LISTED_CLASSES = 5
FIGURE_DPI = 110


def report_files(out: str, name: str, maps: bool = False) -> list[str]:
    """The files of the photo called ``name`` (its file name without the extension) in the
    folder ``out``: the figure, the JSON record and, with ``maps``, the heat maps."""
    stem = os.path.join(out, f"{name}_explained")
    return [stem + ".png", stem + ".json"] + ([stem + ".npz"] if maps else [])


@dataclass(frozen=True)
class PhotoReport:
    """One photo explained: ``rows[r][c]`` is the map of the r-th explained class by the c-th
    method (``Explanation``s, all of the same ``image`` (H, W, C), the photo as the model saw
    it); ``probabilities`` (K,) the model's output and ``class_names`` (K,) its classes' names;
    ``converted`` what reading the file changed (``ildl.images.read_rgb``); ``options`` each
    method's options; ``skipped`` the methods left out and why."""

    photo: str
    model: str
    rows: list[list[Explanation]]
    probabilities: np.ndarray
    class_names: Sequence[str]
    converted: str | None = None
    options: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def record(self, figure_name: str) -> dict:
        """The JSON record (see the module's docstring)."""
        first = self.rows[0][0]
        return {
            "photo": self.photo,
            "converted": self.converted,
            "model": self.model,
            "image_size": list(first.image.shape[:2]),
            "figure": figure_name,
            "top_classes": [self._class(index) for index in
                            top_classes(self.probabilities, LISTED_CLASSES)],
            "maps": [{"method": found.method, **self._class(found.target),
                      "options": _plain(self.options.get(found.method, {})),
                      "seconds": found.seconds, "evaluations": found.evaluations}
                     for row in self.rows for found in row],
            "skipped_methods": dict(self.skipped),
        }

    def _class(self, index: int) -> dict:
        return {"class": index, "name": self.class_names[index],
                "probability": float(self.probabilities[index])}

    def figure(self):
        """The figure of ``rows`` (``plot_explanation_grid``), titled with the photo's name."""
        explained = self.rows[0][0]
        return plot_explanation_grid(
            explained.image, self.rows, self.probabilities, self.class_names,
            title=f"{os.path.basename(self.photo)}: what {self.model} looked at for each "
                  f"class, by {len(self.rows[0])} method{'s' if len(self.rows[0]) > 1 else ''}",
            note=f"the file was {self.converted}" if self.converted else None)

    def maps_file(self) -> bytes:
        """The content of the ``.npz`` file of the maps (see the module's docstring)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, heatmaps=np.array([[found.heatmap for found in row] for row in self.rows],
                                      dtype=np.float32),
            image=self.rows[0][0].image.astype(np.float32),
            classes=np.array([row[0].target for row in self.rows]),
            methods=np.array([found.method for found in self.rows[0]]))
        return buffer.getvalue()

    def write(self, out: str, name: str, theme: str = "dark", maps: bool = False) -> dict:
        """Write the figure, the JSON record and, with ``maps``, the heat maps of the photo
        ``name`` into the folder ``out`` (each file atomically); returns the record."""
        files = report_files(out, name, maps)
        with themed(theme):
            save_figure(self.figure(), files[0], dpi=FIGURE_DPI)
        record = self.record(os.path.basename(files[0]))
        if maps:
            write_bytes_atomically(files[2], self.maps_file())
            record["maps_file"] = os.path.basename(files[2])
        write_bytes_atomically(files[1], (json.dumps(record, indent=1) + "\n").encode())
        return record


def _plain(options: dict) -> dict:
    """Options as JSON can hold them (a layer given as a module is named by its type)."""
    return {key: value if isinstance(value, str | int | float | bool | None) else repr(value)
            for key, value in options.items()}
