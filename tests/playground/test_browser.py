"""End to end in a real browser: Playwright driving Debian's Chromium against the real server.

Skipped, with the command that installs what they need, where Playwright or Chromium is absent.
``ILDL_UPDATE_SCREENSHOT=1`` writes the README's screenshot (docs/playground.png).
"""

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from ildl import nn
from ildl.playground.server import make_server

CHROMIUM = "/usr/bin/chromium"
INSTALL = "pip install playwright==1.65.0 && apt-get install -y chromium"
SCREENSHOT = Path(__file__).parents[2] / "docs" / "playground.png"

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api", reason=f"needs Playwright: {INSTALL}")
if not shutil.which(CHROMIUM):
    pytest.skip(f"needs Chromium at {CHROMIUM}: {INSTALL}", allow_module_level=True)


@pytest.fixture(scope="module")
def address():
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.address
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, address):
    # bypass_csp: Playwright's wait_for_function evaluates text, which the page's policy forbids
    page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, errors


def open_page(page, address: str, query: str = "") -> None:
    page.goto(address + query)
    page.wait_for_function("state.frame !== null && state.description !== null")


def loss(page) -> float:
    return float(page.text_content("#test-loss"))


def boundary_pixels(page) -> list:
    return page.evaluate("""Array.from(document.getElementById('boundary').getContext('2d')
                            .getImageData(0, 0, 360, 360).data.filter((_, i) => i % 97 === 0))""")


def test_play_trains_the_loss_falls_and_the_boundary_changes(page, address):
    open_page(page, address, "?dataset=spiral&layers=8-tanh,8-tanh&noise=0.05&seed=1")
    first_loss, first_pixels = loss(page), boundary_pixels(page)
    page.click("#play")
    page.wait_for_function("state.frame.epoch >= 150", timeout=60_000)
    page.click("#play")
    page.wait_for_function("!state.playing")
    assert loss(page) < first_loss * 0.8
    assert boundary_pixels(page) != first_pixels
    assert int(page.text_content("#epoch")) >= 150
    if os.environ.get("ILDL_UPDATE_SCREENSHOT"):
        from PIL import Image

        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
        with Image.open(SCREENSHOT) as image:  # 256 colours: a third of the bytes, same look
            image.convert("RGB").quantize(256).save(SCREENSHOT, optimize=True)


def test_switching_the_dataset_redraws_the_points_and_the_address(page, address):
    open_page(page, address)
    circle = page.evaluate("state.description.points.train")
    page.click("#datasets button[data-dataset=xor]")
    page.wait_for_function("state.config.dataset === 'xor'")
    assert "dataset=xor" in page.url
    assert page.evaluate("state.description.points.train") != circle
    assert page.get_attribute("#datasets button[data-dataset=xor]", "aria-checked") == "true"


def test_a_good_csv_is_used_and_a_bad_one_is_refused_with_its_lines(page, address):
    open_page(page, address)
    good = "x1,x2,label\n" + "\n".join(f"{i / 10},{(i % 7) / 10},{i % 2}" for i in range(40))
    page.set_input_files("#csv", files=[{"name": "mine.csv", "mimeType": "text/csv",
                                         "buffer": good.encode()}])
    page.wait_for_function("state.config.dataset === 'csv'")
    assert "mine.csv: 40 points" in page.text_content("#csv-message")
    bad = good.replace("0.3,0.3,1", "0.3,oops,1")
    page.set_input_files("#csv", files=[{"name": "bad.csv", "mimeType": "text/csv",
                                         "buffer": bad.encode()}])
    page.wait_for_function("document.getElementById('csv-message').className.includes('error')")
    assert "line 5: 'oops' is not a number" in page.text_content("#csv-message")
    assert page.evaluate("state.description.csv_name") == "mine.csv"  # the good file stays


def test_a_shared_address_opens_the_same_configuration(page, browser, address):
    open_page(page, address)
    page.select_option("#problem", "multiclass")
    page.wait_for_function("state.config.problem === 'multiclass'")
    page.click("#datasets button[data-dataset=gauss]")
    page.wait_for_function("state.config.dataset === 'gauss'")
    page.click("#add-layer")
    page.wait_for_function("state.config.hidden.length === 3")
    page.select_option("#optimizer", "rmsprop")
    page.wait_for_function("state.config.optimizer === 'rmsprop'")
    shared, config = page.url, page.evaluate("state.config")
    other = browser.new_page(bypass_csp=True)
    open_page(other, shared)
    assert other.evaluate("state.config") == config
    assert other.input_value("#optimizer") == "rmsprop"
    other.reload()
    other.wait_for_function("state.frame !== null")
    assert other.evaluate("state.config") == config
    other.close()


def test_the_downloaded_code_reproduces_the_downloaded_model(page, address, tmp_path):
    """A new user's path: train a spiral, download the model and the code, run the code."""
    open_page(page, address, "?dataset=spiral&layers=8-tanh,8-tanh&seed=2")
    page.click("#play")
    page.wait_for_function("state.frame.epoch >= 20", timeout=60_000)
    page.click("#play")
    page.wait_for_function("!state.playing && state.pending === null")
    downloads = {}
    for button in ("#export-model", "#export-code"):
        with page.expect_download() as download:
            page.click(button)
        downloads[button] = tmp_path / download.value.suggested_filename
        download.value.save_as(downloads[button])
    assert downloads["#export-code"].name == "playground.py"
    exported = nn.load_model(downloads["#export-model"])  # saved as playground.ildl
    epochs = exported.epochs_trained
    assert epochs >= 20 and f"epochs={epochs}" in downloads["#export-code"].read_text()
    run = tmp_path / "run"
    run.mkdir()
    (run / "playground.py").write_bytes(downloads["#export-code"].read_bytes())
    subprocess.run([sys.executable, "playground.py"], cwd=run, check=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": str(Path(nn.__file__).parents[2])},
                   capture_output=True)
    for theirs, mine in zip(nn.load_model(run / "playground.ildl").get_weights(),
                            exported.get_weights(), strict=True):
        np.testing.assert_array_equal(theirs, mine)
