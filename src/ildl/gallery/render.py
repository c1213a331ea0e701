"""The renderer behind ``ildl gallery``: every registered figure into one folder, and an index.

``render_gallery`` renders the chosen figures in parallel processes (one per core by default),
reports each as it finishes, keeps going when one fails, and writes ``index.html``.
"""

from __future__ import annotations

import contextlib
import html
import io
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError
from ..progress import format_seconds
from ..validation import check_integer, did_you_mean
from . import figures  # noqa: F401  (registers every figure, in worker processes too)
from .registry import FIGURES, RenderOptions


@dataclass
class Outcome:
    """What became of one figure: the files it wrote and its time, or why it has none."""

    name: str
    files: list[str]
    seconds: float
    error: str | None  # the traceback of its failure
    skipped: str | None = None  # why it was not rendered (a missing optional package)


class LinePrefixer(io.TextIOBase):
    """A text stream that passes whole lines on to ``stream`` with ``prefix`` in front.

    Figures render side by side and print progress (a detector's epochs, photos explained): the
    prefix says whose each line is. A progress bar redrawn with "\\r" keeps only its last state,
    and the stream says it is no terminal, so bars print one finished line rather than redraws.
    """

    def __init__(self, stream, prefix: str):
        self.stream = stream
        self.prefix = prefix
        self._partial = ""  # the text after the last newline, until its line ends

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            line = line.rsplit("\r", 1)[-1]
            if line.strip():
                self.stream.write(f"{self.prefix}{line}\n")
        self.stream.flush()
        return len(text)

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        self.stream.flush()


def render_one(name: str, out_dir: str, options: RenderOptions) -> Outcome:
    """Render one registered figure, catching its failure (runs in a worker process); what it
    prints is prefixed with its name."""
    with contextlib.redirect_stdout(LinePrefixer(sys.stdout, f"{name} | ")):
        return _render_one(name, out_dir, options)


def _render_one(name: str, out_dir: str, options: RenderOptions) -> Outcome:
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window
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
    style = (f"body{{background:{'#111418' if dark else '#ffffff'};color:"
             f"{'#e8eaed' if dark else '#202124'};font-family:sans-serif;max-width:1000px;"
             "margin:auto;padding:1em}img,video{max-width:100%;display:block;margin:.5em 0}"
             f"pre{{background:{'#202124' if dark else '#f3f3f3'};padding:8px;overflow:auto}}"
             ".error{color:#f77}.time{opacity:.6;font-size:small}")
    link = "#8ab4f8" if dark else "#1a56c4"  # readable on the page's background
    style += f"a{{color:{link}}}a:visited{{color:{'#c58af9' if dark else '#6b3fa0'}}}"
    contents = "".join(f"<li><a href='#{o.name}'>{o.name}</a></li>" for o in outcomes)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>ildl gallery</title>"
            f"<style>{style}</style></head><body><h1>ildl gallery</h1>"
            f"<p>Every figure of the collection, regenerated by <code>ildl gallery</code>.</p>"
            f"<ul>{contents}</ul>{''.join(sections)}</body></html>\n")


def _long_work(names: list[str], options: RenderOptions) -> list[tuple[str, str]]:
    """(name, what it computes before drawing and about how long) for each figure of ``names``
    that has such work still to do; quick renders have none worth announcing."""
    if options.quick:
        return []
    found = [(name, FIGURES[name].long_work(options)) for name in names
             if FIGURES[name].long_work is not None and not FIGURES[name].missing()]
    return [(name, work) for name, work in found if work]


def render_gallery(out_dir: str, names: list[str] | None = None,
                   options: RenderOptions | None = None, jobs: int = 1,
                   log: Callable[[str], None] = print) -> list[Outcome]:
    """Render the chosen figures (all by default) into ``out_dir`` with ``jobs`` processes and
    write ``index.html``; returns one Outcome per figure (``error`` holds a failure's traceback)."""
    options = options or RenderOptions()
    unknown = sorted(set(names or []) - set(FIGURES))
    if unknown:
        raise ArgumentError(f"unknown figure(s) {', '.join(unknown)}"
                            f"{did_you_mean(unknown[0], FIGURES)}; available: "
                            f"{', '.join(sorted(FIGURES))}")
    check_integer(jobs, "jobs", "render_gallery", minimum=1)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ArgumentError(f"the gallery's output folder {out_dir!r} is a file; choose a "
                            "folder (--out DIR)")
    os.makedirs(out_dir, exist_ok=True)
    chosen = list(names or FIGURES)
    outcomes: dict[str, Outcome] = {}
    start = time.perf_counter()

    def report(outcome: Outcome) -> None:
        outcomes[outcome.name] = outcome
        state = ("FAILED" if outcome.error else f"skipped, {outcome.skipped}" if outcome.skipped
                 else ", ".join(outcome.files))
        waiting = [name for name in chosen if name not in outcomes]
        log(f"[{len(outcomes)}/{len(chosen)}] {outcome.name}: {state} ({outcome.seconds:.1f}s); "
            f"{format_seconds(time.perf_counter() - start)} so far"
            + (f", waiting for {', '.join(waiting)}" if 0 < len(waiting) <= 3 else ""))
        if outcome.error:
            log(outcome.error)

    log(f"rendering {len(chosen)} figure(s) into {out_dir}/ with {jobs} process(es)...")
    for name, work in _long_work(chosen, options):
        log(f"{name} {work}; it is done once, then cached")
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
