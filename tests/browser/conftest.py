"""Fixtures of the real-browser tests: Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os

import pytest

from widget_driver import CHROMIUM, CHROMIUM_ARGS, ScriptedRasa, WebApp


@pytest.fixture(scope="module")
def browser():
    """Per module, so no two Playwright instances ever overlap in one process."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} missing: run `bash ops/install_chromium.sh`", pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture(scope="module")
def scripted_rasa():
    rasa = ScriptedRasa()
    rasa.start()
    try:
        yield rasa
    finally:
        rasa.close()


@pytest.fixture(scope="module")
def widget_app(scripted_rasa):
    """The real web app in front of the scripted Rasa."""
    app = WebApp(scripted_rasa.url, SESSION_SECRET="browser-test-secret-0123456789abcdef")
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def rasa_up(scripted_rasa):
    """Each test starts with the scripted Rasa running."""
    scripted_rasa.stop()
    scripted_rasa.start()
    scripted_rasa.delay = 0.0
    return scripted_rasa
