"""The registry of figures and the renderer behind ``ildl gallery``.

A figure is registered once with its name, caption, the Python call that makes it, and a
``render(out_dir, options)`` function that writes its files and returns their names. The gallery
renders the chosen figures in parallel processes (one per core by default), reports each as it
finishes, keeps going when one fails, and writes ``index.html``.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError
from ..viz.animation import FORMATS
from ..viz.theme import check_theme


@dataclass(frozen=True)
class RenderOptions:
    """How to render: ``quick`` (few small frames, for tests), ``theme`` ("dark" or "light") and
    the animation ``format`` ("gif" or "mp4")."""

    quick: bool = False
    theme: str = "dark"
    format: str = "gif"

    def __post_init__(self):
        check_theme(self.theme)
        if self.format not in FORMATS:
            raise ArgumentError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")


@dataclass
class Figure:
    """A figure of the gallery: ``render(out_dir, options)`` writes files, returns their names."""

    name: str
    caption: str
    code: str  # the Python call that makes it, shown in the index
    render: Callable[[str, RenderOptions], list[str]]
    requires: tuple[str, ...] = ()  # optional packages it needs, e.g. ("torch",)

    def missing(self) -> list[str]:
        """The packages of ``requires`` that are not installed."""
        return [package for package in self.requires if importlib.util.find_spec(package) is None]


@dataclass
class Outcome:
    name: str
    files: list[str]
    seconds: float
    error: str | None
    skipped: str | None = None  # why it was not rendered (a missing optional package)


FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    FIGURES[figure.name] = figure
    return figure


def render_one(name: str, out_dir: str, options: RenderOptions) -> Outcome:
    """Render one registered figure, catching its failure (runs in a worker process)."""
    import matplotlib

    matplotlib.use("Agg")
    from . import figures  # noqa: F401  (a fresh worker process registers the figures)

    start = time.perf_counter()
    missing = FIGURES[name].missing()
    if missing:
        return Outcome(name, [], 0.0, None, skipped=(
            f"needs {', '.join(missing)}, which is not installed: pip install \"ildl[torch]\" "
            "(with torch==2.13.0 installed first for the CPU build)"))
    try:
        files = FIGURES[name].render(out_dir, options)
        return Outcome(name, files, time.perf_counter() - start, None)
    except Exception:  # one broken figure must not stop the gallery
        return Outcome(name, [], time.perf_counter() - start, traceback.format_exc())


@contextlib.contextmanager
def _single_threaded_blas():
    """Environment for worker processes: one BLAS/OpenMP thread each. With one process per core,
    a multi-threaded BLAS in every process oversubscribes the cores and its spinning threads make
    matrix products many times slower. Spawned workers read these variables when NumPy loads."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _index_html(outcomes: list[Outcome], options: RenderOptions) -> str:
    sections = []
    for outcome in outcomes:
        figure = FIGURES[outcome.name]
        if outcome.error:
            body = f"<pre class='error'>{html.escape(outcome.error)}</pre>"
        elif outcome.skipped:
            body = f"<p class='error'>skipped: {html.escape(outcome.skipped)}</p>"
        else:
            body = "".join(
                f"<video src='{html.escape(f)}' autoplay loop muted controls></video>"
                if f.endswith(".mp4") else f"<img src='{html.escape(f)}' alt='{figure.name}'>"
                for f in outcome.files)
        sections.append(f"<section id='{figure.name}'><h2>{html.escape(figure.name)}</h2>"
                        f"<p>{html.escape(figure.caption)}</p>{body}"
                        f"<pre><code>{html.escape(figure.code)}</code></pre>"
                        f"<p class='time'>rendered in {outcome.seconds:.1f} s</p></section>")
    dark = options.theme == "dark"
    style = (f"body{{background:{'#111418' if dark else '#fff'};color:"
             f"{'#e8eaed' if dark else '#202124'};font-family:sans-serif;max-width:1000px;"
             "margin:auto;padding:1em}img,video{max-width:100%;display:block;margin:.5em 0}"
             f"pre{{background:{'#202124' if dark else '#f3f3f3'};padding:8px;overflow:auto}}"
             ".error{color:#f77}.time{opacity:.6;font-size:small}")
    contents = "".join(f"<li><a href='#{o.name}'>{o.name}</a></li>" for o in outcomes)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>ildl gallery</title>"
            f"<style>{style}</style></head><body><h1>ildl gallery</h1>"
            f"<p>Every figure of the collection, regenerated by <code>ildl gallery</code>.</p>"
            f"<ul>{contents}</ul>{''.join(sections)}</body></html>\n")


def render_gallery(out_dir: str, names: list[str] | None = None,
                   options: RenderOptions | None = None, jobs: int = 1,
                   log: Callable[[str], None] = print) -> list[Outcome]:
    """Render the chosen figures (all by default) into ``out_dir`` with ``jobs`` processes and
    write ``index.html``; returns one Outcome per figure (``error`` holds a failure's traceback)."""
    options = options or RenderOptions()
    unknown = sorted(set(names or []) - set(FIGURES))
    if unknown:
        raise ArgumentError(f"unknown figure(s) {', '.join(unknown)}; available: "
                            f"{', '.join(sorted(FIGURES))}")
    os.makedirs(out_dir, exist_ok=True)
    chosen = list(names or FIGURES)
    outcomes: dict[str, Outcome] = {}

    def report(outcome: Outcome) -> None:
        outcomes[outcome.name] = outcome
        state = ("FAILED" if outcome.error else f"skipped, {outcome.skipped}" if outcome.skipped
                 else ", ".join(outcome.files))
        log(f"[{len(outcomes)}/{len(chosen)}] {outcome.name}: {state} ({outcome.seconds:.1f}s)")
        if outcome.error:
            log(outcome.error)

    log(f"rendering {len(chosen)} figure(s) into {out_dir}/ with {jobs} process(es)...")
    if jobs <= 1 or len(chosen) == 1:
        for name in chosen:
            report(render_one(name, out_dir, options))
    else:
        # Spawned (not forked) workers start a fresh interpreter that loads NumPy with the
        # single-threaded settings above.
        with _single_threaded_blas(), ProcessPoolExecutor(
                max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(render_one, name, out_dir, options) for name in chosen]
            for future in as_completed(futures):
                report(future.result())
    ordered = [outcomes[name] for name in chosen]
    write_bytes_atomically(os.path.join(out_dir, "index.html"),
                           _index_html(ordered, options).encode())
    return ordered
