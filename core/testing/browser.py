"""End-to-end fixtures: the app served on loopback in this process, driven by headless Chromium.

Uses Debian's Chromium (``apt-get install chromium``) through Playwright, without Playwright's own browser
download. Tests that need it are skipped with a clear reason when no Chromium is installed.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("SUPRATA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class ServedApp:
    """A Flask app on 127.0.0.1 in a background thread (shares this process's database and fixtures)."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ServedApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


BLOCKING_IMPACTS = {"serious", "critical"}


def accessibility_problems(page) -> list[str]:
    """The serious and critical violations axe-core finds on the page open in ``page``, each as
    "rule (impact) at [targets]"."""
    violations = Axe().run(page).response["violations"]
    return [f"{violation['id']} ({violation['impact']}) at {[node['target'] for node in violation['nodes']]}"
            for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page, where: str) -> None:
    """An axe-core scan of the page as it is now finds no serious or critical violation (``where`` names the
    page in the failure)."""
    problems = accessibility_problems(page)
    assert problems == [], f"{where}: {problems}"


def policy_breaches(page) -> list[str]:
    """A list that fills with every Content-Security-Policy breach the browser reports on ``page``."""
    breaches: list[str] = []
    page.on("console", lambda message: breaches.append(message.text)
            if "Content Security Policy" in message.text else None)
    return breaches


@pytest.fixture(scope="session")
def served_app(app):
    server = ServedApp(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
