"""The chat widget in headless Chromium against the real stack (web app + Rasa + actions,
fixture `live_stack`): the customer's path through a set-up question, history, safety,
password redaction, Rasa going down, accessibility, and a screenshot for the report."""
from __future__ import annotations

import sqlite3

import pytest

from widget_driver import (
    bot_count, click_quick_reply, describe, log_text, new_page, open_with_keyboard, run_axe,
    screenshot, serious, type_and_send,
)

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def live_page(browser, live_stack):
    if not live_stack.web_url:
        pytest.fail("the stack runs without the web app", pytrace=False)
    page = new_page(browser, live_stack.web_url)
    yield page
    page.context.close()


def test_live_outlook_imap_setup(live_page):
    page = live_page
    open_with_keyboard(page)
    type_and_send(page, "Ich möchte Outlook einrichten")
    imap = page.locator(".mh-quick-btn", has_text="IMAP")
    assert imap.count() >= 1, f"no 'IMAP' quick reply; the bot said:\n{log_text(page)}"
    click_quick_reply(page, "IMAP")
    text = log_text(page)
    assert "imap.dokom.net" in text, text
    assert "993" in text, text
    assert page.dialogs == [] and page.csp_errors == []
    violations = run_axe(page)
    screenshot(page, "widget-live.png")
    assert not serious(violations), describe(serious(violations))


def test_live_history_survives_reload(live_page):
    page = live_page
    open_with_keyboard(page)
    type_and_send(page, "Hallo")
    type_and_send(page, "Welche Ports brauche ich für IMAP?")
    before = log_text(page)
    assert "Welche Ports brauche ich für IMAP?" in before
    page.reload()
    page.wait_for_function("() => window.__mailhilfeWidgetReady === true")
    assert page.locator(".mh-panel").is_visible()
    assert log_text(page) == before
    assert page.evaluate("window.localStorage.length") == 0


def test_live_html_is_shown_as_text(live_page):
    page = live_page
    open_with_keyboard(page)
    evil = "<img src=x onerror=alert(1)>"
    type_and_send(page, evil)
    assert page.locator(".mh-log .mh-user").last.inner_text().endswith(evil)
    assert page.locator(".mh-root img").count() == 0
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.locator(".mh-error").is_hidden()


def test_live_password_is_removed_and_customer_warned(live_page, live_stack):
    page = live_page
    open_with_keyboard(page)
    secret = "Zebra-Mond-4711"
    type_and_send(page, f"Mein Passwort ist {secret} und Outlook meldet einen Fehler")
    text = log_text(page)
    assert "www.service.dokom.net" in text and "Passwort" in text  # the warning
    with sqlite3.connect(str(live_stack.tracker_db)) as db:
        stored = "\n".join(str(row) for row in db.execute("SELECT * FROM events"))
    assert "[Passwort entfernt]" in stored
    assert secret not in stored
    for log in live_stack.run_dir.glob("*.log"):
        assert secret not in log.read_text(errors="replace"), log.name


def test_live_rasa_down_shows_german_error(live_page, live_stack):
    """Stops the Rasa server; it is started again afterwards for the tests that follow."""
    page = live_page
    open_with_keyboard(page)
    type_and_send(page, "Hallo")
    live_stack.stop_rasa()
    try:
        before = bot_count(page)
        page.locator(".mh-input").fill("Ist noch jemand da?")
        page.keyboard.press("Enter")
        error = page.locator(".mh-error")
        error.wait_for(state="visible", timeout=15_000)
        assert "nicht erreichbar" in error.inner_text()
        assert page.locator(".mh-retry").is_visible()
        assert bot_count(page) == before
        screenshot(page, "widget-live-rasa-down.png")
    finally:
        live_stack.start_rasa()
    page.locator(".mh-retry").click()
    page.wait_for_function(
        "([n]) => document.querySelectorAll('.mh-log .mh-bot').length > n", arg=[before], timeout=20_000)
    assert page.locator(".mh-error").is_hidden()
