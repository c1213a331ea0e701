"""The explainer benchmark's report: ``explain_bench.md`` (a table a person reads, with what each
column means), ``explain_bench.csv`` (the same numbers for a program) and ``explain_curves.png``
(the mean deletion and insertion curves of every method). Each file is written atomically."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from ..atomic import write_bytes_atomically
from ..graphics import save_figure
from ..progress import format_seconds
from .metrics import auc

RANDOM = "random"  # the name of the floor: a map of uniform noise

# CSV key -> (markdown header, format of a value)
COLUMNS = {
    "method": ("method", "{}"),
    "images": ("images", "{}"),
    "seconds": ("seconds", "{:.3g}"),
    "evaluations": ("evaluations", "{:,.0f}"),
    "deletion_auc": ("deletion AUC ↓", "{:.3f}"),
    "insertion_auc": ("insertion AUC ↑", "{:.3f}"),
    "pointing_game": ("pointing game ↑", "{:.3f}"),
    "energy_in_mask": ("energy in mask ↑", "{:.3f}"),
    "sanity_rank_correlation": ("sanity rank corr. ↓", "{:.3f}"),
}


@dataclass(frozen=True)
class BenchSettings:
    """What the numbers were measured on, for the report's header."""

    model: str  # how the model is named in the report
    accuracy: float  # of the model on the task's held-out images
    held_out: int  # held-out images of the task
    images: int  # images explained by each method (the first of the held-out ones)
    image_shape: tuple  # (H, W, C)
    class_names: tuple
    steps: int  # deletion and insertion steps
    tolerance: int  # pixels of the pointing game
    quick: bool
    seed: int
    seconds: float  # the whole run
    notes: list = field(default_factory=list)  # methods that were skipped, and why


def write_report(rows: list[dict], curves: dict[str, tuple[np.ndarray, np.ndarray]],
                 settings: BenchSettings, out_dir: str | os.PathLike) -> list[str]:
    """Write the three files into ``out_dir`` and return their paths.

    ``rows``: one dict per method with the keys of ``COLUMNS``; ``curves``: per method its mean
    deletion and insertion curves, each ``(steps + 1,)``.

    >>> write_report(rows, curves, settings, "explain_bench")
    ['explain_bench/explain_bench.md', 'explain_bench/explain_bench.csv', ...]
    """
    paths = [os.path.join(out_dir, name) for name in
             ("explain_bench.md", "explain_bench.csv", "explain_curves.png")]
    write_bytes_atomically(paths[0], markdown(rows, settings).encode())
    write_bytes_atomically(paths[1], csv_text(rows).encode())
    save_figure(curves_figure(curves), paths[2], dpi=110)
    return paths


def markdown(rows: list[dict], settings: BenchSettings) -> str:
    """The report: what was measured, the table, what each column means, and notes."""
    height, width, _ = settings.image_shape
    header = (f"# Explainer benchmark\n\n{settings.images} held-out {height}x{width} images of "
              f"one shape each ({', '.join(settings.class_names)}), explained for their "
              f"labelled class; model: {settings.model}, accuracy {settings.accuracy:.1%} on "
              f"the {settings.held_out} held-out images. Seed {settings.seed}"
              f"{', quick mode' if settings.quick else ''}; "
              f"{format_seconds(settings.seconds)} in all.\n\n")
    return header + table(rows) + "\n" + _legend(settings) + "".join(
        f"\nNote: {note}\n" for note in settings.notes)


def table(rows: list[dict]) -> str:
    """A markdown table with one line per row and the columns of ``COLUMNS`` (NaN: n/a).

    >>> print(table(rows))
    | method | images | seconds | evaluations | deletion AUC ↓ | ...
    |---|---:|---:|---:|---:|...
    | gradcam | 100 | 0.000922 | 1 | 0.397 | ...
    """
    lines = ["| " + " | ".join(title for title, _ in COLUMNS.values()) + " |",
             "|---|" + "---:|" * (len(COLUMNS) - 1)]
    for row in rows:
        cells = [_cell(row[key], style) for key, (_, style) in COLUMNS.items()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value, style: str) -> str:
    if isinstance(value, float) and np.isnan(value):
        return "n/a"
    return style.format(value)


def _legend(settings: BenchSettings) -> str:
    return (
        "- seconds, evaluations: per explanation (evaluations: images the model ran on). "
        "Methods that hide pixels hide them with black, as the deletion and insertion curves do.\n"
        f"- deletion / insertion AUC (Petsiuk et al. 2018): mean probability of the class while "
        f"the hottest pixels are set to black / copied onto a black image, in "
        f"{settings.steps} steps; pixels of equal heat in random order.\n"
        f"- pointing game: share of maps whose maximum lies within {settings.tolerance} px of "
        f"the object's mask; energy in mask: share of the positive heat on the object.\n"
        "- sanity rank corr. (Adebayo et al. 2018): Spearman correlation of |map| from the "
        "trained model and from a copy with re-initialised weights; low means the map depends "
        "on what the model learned. It is 1 for random by construction (its noise ignores the "
        "model).\n")


def csv_text(rows: list[dict]) -> str:
    """The rows as CSV with the keys of ``COLUMNS`` as header, numbers at full precision."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def curves_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]]):
    """Two panels, deletion and insertion: each method's mean curve (probability of the class
    against the share of pixels switched), its AUC in the legend. Returns a matplotlib Figure."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    figure = Figure(figsize=(11, 4.2), layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    titles = ("Deletion: hottest pixels set to black first (lower is better)",
              "Insertion: hottest pixels copied onto black first (higher is better)")
    for column, (axes, title) in enumerate(zip(panels, titles)):
        for method, pair in curves.items():
            curve = pair[column]
            share = np.linspace(0, 1, len(curve))
            style = {"color": "grey", "linestyle": "--"} if method == RANDOM else {}
            axes.plot(share, curve, label=f"{method} ({auc(curve):.3f})", **style)
        axes.set(title=title, xlabel="share of the pixels switched", xlim=(0, 1))
        axes.title.set_fontsize(10)
        axes.legend(fontsize=8)
    panels[0].set_ylabel("probability of the labelled class")
    return figure
