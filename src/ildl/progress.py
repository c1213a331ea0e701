"""A text progress bar for training: step count, metrics, rate and time left.

On a terminal the line is redrawn in place; in a log file (not a TTY) one line per epoch is
printed so logs stay readable. ``ildl.nn`` (``fit``), ``ildl.detect`` (training) and
``ildl.explain`` (the benchmark) all draw it, so it sits below them and imports nothing of ildl.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``75.3`` -> ``"1:15"``; short durations keep one decimal (``"3.2s"``)."""
    if round(seconds, 1) < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """``Epoch 3/10 [=====>....] 45/125  12k samples/s  ETA 0.4s  loss 0.2340  accuracy 0.9100``.

    Call ``update(steps_done, samples_done, metrics)`` as work progresses and ``finish(metrics)``
    at the end of the epoch. ``interactive``: redraw the line in place while it runs (True), or
    write only the final line (False); by default, redraw when ``stream`` is a terminal.
    ``unit`` names what the rate counts (``"tiles"`` gives ``12 tiles/s``).
    """

    def __init__(self, total_steps: int, title: str = "", width: int = 24,
                 stream: TextIO | None = None, min_interval: float = 0.1,
                 interactive: bool | None = None, unit: str = "samples"):
        self.total_steps = max(1, total_steps)
        self.title = title
        self.width = width
        self.stream = stream or sys.stdout
        self.min_interval = min_interval
        self.unit = unit
        self.start = time.perf_counter()
        self._last_draw = 0.0
        if interactive is None:
            interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interactive = bool(interactive)

    def _line(self, steps: int, samples: int, metrics: dict, done: bool) -> str:
        elapsed = time.perf_counter() - self.start
        filled = int(self.width * steps / self.total_steps)
        bar = "=" * filled + (">" if filled < self.width else "") + "." * (self.width - filled - 1)
        rate = samples / elapsed if elapsed > 0 else 0.0
        if done:
            timing = f"{format_seconds(elapsed)} {rate:,.0f} {self.unit}/s"
        else:
            eta = elapsed / max(steps, 1) * (self.total_steps - steps)
            timing = f"{rate:,.0f} {self.unit}/s  ETA {format_seconds(eta)}"
        values = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        return f"{self.title} [{bar[:self.width]}] {steps}/{self.total_steps}  {timing}  {values}"

    def update(self, steps: int, samples: int, metrics: dict) -> None:
        now = time.perf_counter()
        if not self.interactive or now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self.stream.write("\r" + self._line(steps, samples, metrics, done=False) + "\033[K")
        self.stream.flush()

    def finish(self, steps: int, samples: int, metrics: dict) -> None:
        line = self._line(steps, samples, metrics, done=True)
        self.stream.write(("\r" + line + "\033[K" if self.interactive else line) + "\n")
        self.stream.flush()
