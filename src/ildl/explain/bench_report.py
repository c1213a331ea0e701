"""The explainer benchmarks' reports, each file written atomically.

- shapes task (``ildl.explain.bench``): ``explain_bench.md`` (a table a person reads, with what
  each column means), ``explain_bench.csv`` (the same numbers for a program) and
  ``explain_curves.png`` (the mean deletion and insertion curves of every method);
- photos (``ildl.explain.bench_photos``): ``explain_photos.md`` (the photos and their top-1
  classes, the cost-and-faithfulness table, the cascade's table), ``explain_photos.csv``,
  ``explain_cascade.csv``, ``explain_photos_curves.png`` (the curves under both baselines) and
  ``explain_cascade.png`` (rank correlation against layers randomised, one line per method).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from ..atomic import write_bytes_atomically
from ..graphics import save_figure
from ..progress import format_seconds
from .bench_methods import RANDOM
from .metrics import auc

SHAPES_FILES = ("explain_bench.md", "explain_bench.csv", "explain_curves.png")
PHOTO_FILES = ("explain_photos.md", "explain_photos.csv", "explain_cascade.csv",
               "explain_photos_curves.png", "explain_cascade.png")

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
PHOTO_COLUMNS = {
    "method": ("method", "{}"),
    "photos": ("photos", "{}"),
    "seconds": ("seconds", "{:.3g}"),
    "evaluations": ("evaluations", "{:,.0f}"),
    "deletion_auc_black": ("deletion AUC, black ↓", "{:.3f}"),
    "insertion_auc_black": ("insertion AUC, black ↑", "{:.3f}"),
    "deletion_auc_blurred": ("deletion AUC, blurred ↓", "{:.3f}"),
    "insertion_auc_blurred": ("insertion AUC, blurred ↑", "{:.3f}"),
}
# baseline -> how a pixel is removed (deletion) and what it is copied onto (insertion)
BASELINE_WORDS = {"black": ("set to black", "onto black"),
                  "blurred": ("replaced by the blurred photo", "onto the blurred photo")}


@dataclass(frozen=True)
class BenchSettings:
    """What the shapes numbers were measured on, for the report's header."""

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


@dataclass(frozen=True)
class PhotoBenchSettings:
    """What the photo numbers were measured on, for the report's header."""

    model: str
    photos: list  # (name, top-1 class, its probability) of each photo explained
    sanity_photos: list  # names of the photos of the cascade
    cascade_layers: list  # the last layer randomised at each step of the cascade
    image_shape: tuple  # (H, W, C) of the images the model sees
    steps: int  # deletion and insertion steps
    blur_sigma: float  # pixels, of the blurred baseline
    quick: bool
    seed: int
    seconds: float
    notes: list = field(default_factory=list)


def write_report(rows: list[dict], curves: dict[str, tuple[np.ndarray, np.ndarray]],
                 settings: BenchSettings, out_dir: str | os.PathLike) -> list[str]:
    """Write the shapes task's three files (``SHAPES_FILES``) into ``out_dir``; their paths.

    ``rows``: one dict per method with the keys of ``COLUMNS``; ``curves``: per method its mean
    deletion and insertion curves, each ``(steps + 1,)``.

    >>> write_report(rows, curves, settings, "explain_bench")
    ['explain_bench/explain_bench.md', 'explain_bench/explain_bench.csv', ...]
    """
    paths = [os.path.join(out_dir, name) for name in SHAPES_FILES]
    write_bytes_atomically(paths[0], markdown(rows, settings).encode())
    write_bytes_atomically(paths[1], csv_text(rows).encode())
    black = {method: {"black": pair} for method, pair in curves.items()}
    save_figure(curves_figure(black, "probability of the labelled class"), paths[2], dpi=110)
    return paths


def write_photo_report(rows: list[dict], curves: dict[str, dict], settings: PhotoBenchSettings,
                       out_dir: str | os.PathLike) -> list[str]:
    """Write the photo task's five files (``PHOTO_FILES``) into ``out_dir``; their paths.

    ``rows``: one dict per method with the keys of ``PHOTO_COLUMNS`` and ``"cascade"`` (last
    layer randomised -> rank correlation); ``curves``: per method, per baseline, its mean
    deletion and insertion curves.
    """
    paths = [os.path.join(out_dir, name) for name in PHOTO_FILES]
    write_bytes_atomically(paths[0], photo_markdown(rows, settings).encode())
    write_bytes_atomically(paths[1], csv_text(rows, PHOTO_COLUMNS).encode())
    layers = settings.cascade_layers
    write_bytes_atomically(paths[2], csv_text(cascade_rows(rows), cascade_columns(layers))
                           .encode())
    save_figure(curves_figure(curves, "probability of the top-1 class"), paths[3], dpi=110)
    save_figure(cascade_figure(rows, layers), paths[4], dpi=110)
    return paths


def summary(rows: list[dict], out_dir: str | os.PathLike) -> str:
    """The tables of a run (the photo task's rows carry ``"cascade"``) and where its report is,
    for the command line."""
    if "cascade" not in rows[0]:
        return table(rows) + "\nreport: " + _paths(out_dir, SHAPES_FILES)
    layers = list(rows[0]["cascade"])
    cascade = "\n" + table(cascade_rows(rows), cascade_columns(layers)) if layers else ""
    return table(rows, PHOTO_COLUMNS) + cascade + "\nreport: " + _paths(out_dir, PHOTO_FILES)


def _paths(out_dir: str | os.PathLike, names: tuple) -> str:
    return ", ".join(os.path.join(out_dir, name) for name in names)


def markdown(rows: list[dict], settings: BenchSettings) -> str:
    """The shapes report: what was measured, the table, what each column means, and notes."""
    height, width, _ = settings.image_shape
    header = (f"# Explainer benchmark\n\n{settings.images} held-out {height}x{width} images of "
              f"one shape each ({', '.join(settings.class_names)}), explained for their "
              f"labelled class; model: {settings.model}, accuracy {settings.accuracy:.1%} on "
              f"the {settings.held_out} held-out images. Seed {settings.seed}"
              f"{', quick mode' if settings.quick else ''}; "
              f"{format_seconds(settings.seconds)} in all.\n\n")
    return header + table(rows) + "\n" + _legend(settings) + _notes(settings.notes)


def photo_markdown(rows: list[dict], settings: PhotoBenchSettings) -> str:
    """The photo report: the photos, the cost-and-faithfulness table, the cascade's table,
    what each number means and which task the localisation numbers come from."""
    height, width, _ = settings.image_shape
    photos = "\n".join(f"| {name} | {class_name} | {probability:.3f} |"
                       for name, class_name, probability in settings.photos)
    text = (f"# Explainer benchmark on photos\n\n{len(settings.photos)} photos, each explained "
            f"for the top-1 class of {settings.model}, on the {height}x{width} image the model "
            f"sees (its crop and resize). Seed {settings.seed}"
            f"{', quick mode (fewer samples per method)' if settings.quick else ''}; "
            f"{format_seconds(settings.seconds)} in all.\n\n"
            "Which numbers come from where: photos have no object masks, so this report "
            "measures cost, faithfulness and the sanity check. Localisation (pointing game, "
            "energy in mask) needs masks and comes from the shapes task (`ildl explain bench` "
            "without `--model`, report `explain_bench.md`).\n\n"
            f"| photo | top-1 class | probability |\n|---|---|---:|\n{photos}\n\n"
            f"## Cost and faithfulness\n\n{table(rows, PHOTO_COLUMNS)}\n"
            f"{_photo_legend(settings)}")
    if settings.cascade_layers:
        text += (f"\n## Sanity: cascading randomisation\n\n"
                 f"{table(cascade_rows(rows), cascade_columns(settings.cascade_layers))}\n"
                 f"{_cascade_legend(settings)}")
    return text + _notes(settings.notes)


def table(rows: list[dict], columns: dict | None = None) -> str:
    """A markdown table with one line per row and the ``columns`` (default ``COLUMNS``: key ->
    (header, format)); NaN shows as n/a.

    >>> print(table(rows))
    | method | images | seconds | evaluations | deletion AUC ↓ | ...
    |---|---:|---:|---:|---:|...
    | gradcam | 100 | 0.000922 | 1 | 0.397 | ...
    """
    columns = COLUMNS if columns is None else columns
    lines = ["| " + " | ".join(title for title, _ in columns.values()) + " |",
             "|---|" + "---:|" * (len(columns) - 1)]
    for row in rows:
        cells = [_cell(row[key], style) for key, (_, style) in columns.items()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def cascade_rows(rows: list[dict]) -> list[dict]:
    """One dict per method: ``method`` and, per step of the cascade, its rank correlation."""
    return [{"method": row["method"], **row["cascade"]} for row in rows]


def cascade_columns(layers: list[str]) -> dict:
    """The columns of the cascade's table: the method, then one per step, headed by the last
    layer randomised (``"→ blocks.14"``: every layer from the top down to blocks.14)."""
    return {"method": ("method", "{}"), **{layer: (f"→ {layer}", "{:.3f}") for layer in layers}}


def _cell(value, style: str) -> str:
    if isinstance(value, float) and np.isnan(value):
        return "n/a"
    return style.format(value)


def _notes(notes: list[str]) -> str:
    return "".join(f"\nNote: {note}\n" for note in notes)


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


def _photo_legend(settings: PhotoBenchSettings) -> str:
    return (
        "- seconds, evaluations: per map, means over the photos (evaluations: images the model "
        "ran on). Methods that hide pixels hide them with black (lime and shap too).\n"
        f"- deletion / insertion AUC (Petsiuk et al. 2018): mean probability of the top-1 class "
        f"while the hottest pixels are removed / put back, in {settings.steps} steps (pixels "
        f"of equal heat in random order). Two baselines: *black* (a removed pixel is 0), and "
        f"*blurred*: the photo through a Gaussian blur of sigma {settings.blur_sigma:.1f} px "
        f"(5% of the shorter side, edges mirrored), which removes the details but leaves an "
        f"image like a photo; a few sharp pixels on black are an image no photo looks like, "
        f"and the model's answer on it says little about the map.\n")


def _cascade_legend(settings: PhotoBenchSettings) -> str:
    photos = ", ".join(settings.sanity_photos)
    return (
        f"Adebayo et al. (2018): the network's layers are re-initialised from the top, "
        f"cumulatively (column → X: every layer from the top down to X), each with random "
        f"weights as at initialisation (normalisation layers keep theirs). Each "
        f"cell is the Spearman correlation of |map| from the original network and from the "
        f"randomised one, same options and seed, on {photos} (mean over the photos). A map "
        f"that explains the model changes when its weights do: low is good. random is 1 by "
        f"construction; n/a: the randomised network's maps were constant (no ranking).\n")


def csv_text(rows: list[dict], columns: dict | None = None) -> str:
    """The rows as CSV with the keys of ``columns`` (default ``COLUMNS``) as header, numbers
    at full precision; other keys of the rows are left out."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS if columns is None else columns),
                            lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def curves_figure(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], ylabel: str):
    """One row of two panels, deletion and insertion, per baseline: each method's mean curve
    (probability of the class against the share of pixels switched), its AUC in the legend.

    ``curves``: method -> baseline (``BASELINE_WORDS``) -> (deletion, insertion) curves.
    Returns a matplotlib Figure."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    baselines = list(next(iter(curves.values())))
    figure = Figure(figsize=(11, 4.2 * len(baselines)), layout="constrained")
    panels = figure.subplots(len(baselines), 2, sharey=True, squeeze=False)
    for row, baseline in enumerate(baselines):
        removed, onto = BASELINE_WORDS[baseline]
        titles = (f"Deletion: hottest pixels {removed} first (lower is better)",
                  f"Insertion: hottest pixels copied {onto} first (higher is better)")
        for column, (axes, title) in enumerate(zip(panels[row], titles)):
            for method, by_baseline in curves.items():
                curve = by_baseline[baseline][column]
                share = np.linspace(0, 1, len(curve))
                axes.plot(share, curve, label=f"{method} ({auc(curve):.3f})", **_style(method))
            axes.set(title=title, xlabel="share of the pixels switched", xlim=(0, 1))
            axes.title.set_fontsize(10)
            axes.legend(fontsize=8)
        panels[row, 0].set_ylabel(ylabel)
    return figure


def cascade_figure(rows: list[dict], layers: list[str]):
    """The cascade: per method, the rank correlation of its maps (original against randomised
    network) as the layers are randomised from the top down. Returns a matplotlib Figure."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.subplots()
    steps = np.arange(1, len(layers) + 1)
    for row in rows:
        axes.plot(steps, [row["cascade"][layer] for layer in layers], marker="o",
                  label=row["method"], **_style(row["method"]))
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_xticks(steps, [f"→ {layer}" for layer in layers])
    axes.set(title="Cascading randomisation (Adebayo et al. 2018): a good method's maps "
                   "change (the correlation falls)",
             xlabel="layers re-initialised, from the classifier down to",
             ylabel="Spearman correlation of |map|")
    axes.set_ylim(top=1.05)
    axes.title.set_fontsize(10)
    axes.legend(fontsize=8)
    return figure


def _style(method: str) -> dict:
    """The random floor is drawn as a grey dashed line."""
    return {"color": "grey", "linestyle": "--"} if method == RANDOM else {}
