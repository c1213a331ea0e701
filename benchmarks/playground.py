"""Benchmark: frames per second and memory of ``ildl playground``, through its real HTTP API.

The server runs as the command does (``ildl playground --no-browser``, its own process); this
script plays the page's part: one session of a 2-8-8-1 tanh network on 500 points (the page's
default share of them for training, batch 10, Adam), then ``POST /api/step`` frame after frame,
each training several epochs and answering with the 100x100 boundary, the neuron maps and the
weights, which are decoded from JSON and base64 as the page decodes them (the page's drawing,
a few milliseconds in the browser, is not in these numbers).

1. Frames per second for each number of epochs per frame, ``--seconds`` each.
   With ``--browser``, the same in the real page too: Chromium (Playwright driving
   /usr/bin/chromium, headless) plays it and the frames it draws are counted.
2. Memory: the server's resident set (RSS) sampled while it plays for ``--minutes``, with a
   second tab opened and closed every 30 s and the settings changed every 10 s (new points and
   a new network), as a learner would; the table shows whether it grows.

    python benchmarks/playground.py [--minutes 10] [--seconds 10] [--epochs 1 5 10] [--browser]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIG = "?dataset=spiral&points=500&features=x1,x2&layers=8-tanh,8-tanh&batch=10&opt=adam"
SOURCE = Path(__file__).parents[1] / "src"


class Client:
    """What the page does over one keep-alive connection."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.session = None

    def post(self, path: str, body: dict) -> dict:
        content = json.dumps({"session": self.session, **body}).encode()
        self.connection.request("POST", path, body=content,
                                headers={"Content-Type": "application/json"})
        response = self.connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {answer}")
        return answer

    def open(self, query: str = CONFIG) -> dict:
        answer = self.post("/api/session", {"query": query})
        self.session = answer["session"]
        return answer["frame"]

    def frame(self, epochs: int) -> dict:
        frame = self.post("/api/step", {"epochs": epochs})["frame"]
        base64.b64decode(frame["boundary"]["data"])  # as the page's drawing starts
        base64.b64decode(frame["neurons"]["data"])
        return frame

    def close(self) -> None:
        self.post("/api/close", {})
        self.connection.close()


def start_server() -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-c", "import sys; from ildl.cli import main; sys.exit(main())",
               "playground", "--no-browser", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(SOURCE)})
    line = server.stdout.readline()  # "ildl playground: http://127.0.0.1:PORT/  (Ctrl-C ...)"
    port = int(line.split("127.0.0.1:")[1].split("/")[0])
    return server, port


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS (Linux only)")


def frames_per_second(port: int, epochs: int, seconds: float) -> tuple[float, float, float]:
    """(frames/s, milliseconds per frame, test loss at the end) over ``seconds``."""
    client = Client(port)
    client.open()
    client.frame(epochs)  # warm up
    frames, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        frame = client.frame(epochs)
        frames += 1
    elapsed = time.perf_counter() - started
    client.close()
    return frames / elapsed, 1000 * elapsed / frames, frame["metrics"]["test_loss"]


def browser_frames_per_second(port: int, epochs: int, seconds: float) -> float:
    """Frames per second the page draws in headless Chromium while playing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page.goto(f"http://127.0.0.1:{port}/{CONFIG}")
        page.wait_for_function("state.frame !== null")
        page.select_option("#speed", str(epochs))
        page.click("#play")
        time.sleep(1)  # warm up
        first = page.evaluate("[state.framesShown, performance.now()]")
        time.sleep(seconds)
        last = page.evaluate("[state.framesShown, performance.now()]")
        page.click("#play")
        page.evaluate("fetch('/api/close', {method: 'POST', body: JSON.stringify("
                      "{session: state.session})})")
        browser.close()
    return (last[0] - first[0]) / ((last[1] - first[1]) / 1000)


def memory_run(server: subprocess.Popen, port: int, minutes: float, epochs: int):
    """Yields (minute, frames so far, RSS MB) every 30 s of continuous play, and at the end."""
    client = Client(port)
    client.open()
    frames, started = 0, time.perf_counter()
    next_sample = next_tab = next_change = 0.0
    seed = 0
    while (elapsed := time.perf_counter() - started) < minutes * 60:
        if elapsed >= next_tab:  # a second tab opens, plays a little, closes
            other = Client(port)
            other.open()
            for _ in range(5):
                other.frame(epochs)
            other.close()
            next_tab += 30
        if elapsed >= next_change:  # the learner changes a setting: new points, new network
            seed += 1
            client.post("/api/configure", {"config": {**client.post(
                "/api/step", {"epochs": 1, "full": True})["frame"]["config"], "data_seed": seed}})
            next_change += 10
        if elapsed >= next_sample:
            yield elapsed / 60, frames, rss_mb(server.pid)
            next_sample += 30
        client.frame(epochs)
        frames += 1
    yield (time.perf_counter() - started) / 60, frames, rss_mb(server.pid)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="memory run (10)")
    parser.add_argument("--seconds", type=float, default=10, help="per frame-rate row (10)")
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 5, 10],
                        help="epochs per frame of the frame-rate rows (1 5 10)")
    parser.add_argument("--browser", action="store_true", help="also count the frames the "
                        "page draws in Chromium (needs playwright and /usr/bin/chromium)")
    args = parser.parse_args()
    server, port = start_server()
    try:
        print(f"2-8-8-1 tanh, spiral, 500 points (250 for training), batch 10, Adam; "
              f"100x100 boundary, 25x25 neuron maps; server pid {server.pid}\n")
        browser = " page in Chromium, frames/s |" if args.browser else ""
        print(f"| epochs per frame | frames/s | ms per frame | epochs/s | test loss at the end "
              f"|{browser}")
        print("|---:|---:|---:|---:|---:|" + ("---:|" if args.browser else ""))
        for epochs in args.epochs:
            fps, milliseconds, loss = frames_per_second(port, epochs, args.seconds)
            page = f" {browser_frames_per_second(port, epochs, args.seconds):.1f} |" \
                if args.browser else ""
            print(f"| {epochs} | {fps:.1f} | {milliseconds:.1f} | {fps * epochs:.0f} | "
                  f"{loss:.3f} |{page}", flush=True)
        epochs = max(args.epochs)
        print(f"\nmemory over {args.minutes:g} min at {epochs} epochs per frame (a second tab "
              "every 30 s, new settings every 10 s):\n")
        print("| minute | frames | server RSS (MB) |")
        print("|---:|---:|---:|")
        samples = []
        for minute, frames, rss in memory_run(server, port, args.minutes, epochs):
            print(f"| {minute:.1f} | {frames} | {rss:.1f} |", flush=True)
            samples.append((minute, frames, rss))
        settled = samples[min(2, len(samples) - 1)][2]  # after the first minute's warm-up
        print(f"\nRSS from minute {samples[min(2, len(samples) - 1)][0]:.1f} to the end: "
              f"{settled:.1f} -> {samples[-1][2]:.1f} MB ({samples[-1][2] - settled:+.1f} MB)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
