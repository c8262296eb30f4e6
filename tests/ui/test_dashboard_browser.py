"""The dashboard in a real headless Chromium (Debian's chromium + chromium-driver; no download).

Skipped only when Chromium is missing and ``EVOLVE_REQUIRE_BROWSER`` is unset; ``.ci/run`` sets
it, so CI fails rather than skips when the browser is not there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from evolve.config import load_config
from evolve.engine.campaign import start_campaign

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
if not HAVE_BROWSER and not os.environ.get("EVOLVE_REQUIRE_BROWSER"):
    pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

SMALL = ["search.population_size=50", "search.batch_size=25", "tasks.search=4", "tasks.select=4",
         "tasks.final=4", "campaign.success_fitness=1.0"]
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1800")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def dashboard(tmp_path):
    root = tmp_path / "results"
    (root / "done").mkdir(parents=True)
    start_campaign(load_config("linear-demo", [*SMALL, "campaign.max_evaluations=3000"]), root / "done",
                   quiet=True).run()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "evolve.cli", "dashboard", str(root), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def up():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_until(up, 60, "the dashboard to answer")
        yield root, f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def rows(driver) -> dict[str, str]:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#runs-table tbody tr')]"
        ".map(tr => [tr.dataset.id, tr.dataset.status]))")


def test_page_shows_runs_math_and_a_live_run(dashboard, browser, tmp_path):
    root, url = dashboard
    browser.get(url)
    wait_until(lambda: rows(browser).get("0/done") == "finished", 60, "the finished run in the table")
    # the run's detail: typeset math (MathML laid out with a real size) and the pruned program
    browser.execute_script("document.querySelector(\"tr[data-id='0/done']\").click()")
    math_box = wait_until(lambda: browser.execute_script(
        "const m = document.querySelector('#math math'); if (!m) return null;"
        "const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0 ? [r.width, r.height] : null"),
        60, "the math to be rendered")
    assert math_box[0] > 10
    assert "def Predict():" in browser.find_element("id", "pruned").text
    assert browser.find_elements("css selector", "#hof tbody tr")

    # a live update: a run starts writing into the watched folder
    live = root / "live"
    live.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "evolve.cli", "run", "linear-demo", "--quiet", "--out", str(live),
                             "--budget-minutes", "0.5", *[a for s in SMALL for a in ("--set", s)]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: rows(browser).get("0/live") == "running", 90, "the live run shown as running")
        # running runs are overlaid by default; tick the box only if it is not
        browser.execute_script("const box = document.querySelector(\"tr[data-id='0/live'] input\");"
                               "if (!box.checked) box.click()")

        def points():
            return browser.execute_script(
                "const p = document.querySelector(\"#overlay path[data-name='0/live']\");"
                "return p ? p.getAttribute('d').split('L').length : 0")

        first = wait_until(points, 60, "the live run's curve in the overlay plot")
        wait_until(lambda: points() > first, 60, "the live run's curve to grow")
        browser.save_screenshot(str(tmp_path / "dashboard.png"))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    logs = [entry for entry in browser.get_log("browser") if entry.get("level") == "SEVERE"]
    assert not logs, logs
