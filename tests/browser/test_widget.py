"""The chat widget in headless Chromium, in front of a scripted Rasa: rendering, safety,
history, errors, accessibility and the phone layout, independent of the trained model."""
from __future__ import annotations

import pytest

from widget_driver import (
    WebApp, bot_count, click_quick_reply, describe, log_text, new_page, open_with_keyboard,
    run_axe, screenshot, serious, type_and_send, wait_answer,
)

pytestmark = pytest.mark.browser


def test_setup_conversation_with_keyboard_and_quick_reply(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    assert page.locator(".mh-launcher").get_attribute("aria-expanded") == "true"
    assert "DOKOM21" in log_text(page)  # welcome message
    type_and_send(page, "Ich möchte Outlook einrichten")
    assert page.locator(".mh-quick-btn", has_text="IMAP").is_visible()
    click_quick_reply(page, "IMAP")
    text = log_text(page)
    assert "imap.dokom.net" in text and "993" in text
    codes = page.locator(".mh-log .mh-bot code").all_inner_texts()
    assert "imap.dokom.net" in codes and "993" in codes
    assert page.locator(".mh-copy[aria-label='imap.dokom.net kopieren']").count() == 1
    assert page.locator(".mh-copy-block").count() == 1  # the settings list can be copied at once
    # the button's title is shown as the customer's message, the payload went to Rasa
    assert page.locator(".mh-log .mh-user").last.inner_text().endswith("IMAP")
    assert rasa_up.received[-1]["message"] == '/inform{"protocol":"imap"}'
    assert page.locator(".mh-quick").count() == 0  # used quick replies disappear
    assert page.dialogs == [] and page.csp_errors == []
    page.context.close()


def test_copy_buttons_copy_host_and_settings(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url, clipboard=True)
    open_with_keyboard(page)
    type_and_send(page, "Ich möchte Outlook einrichten")
    click_quick_reply(page, "IMAP")
    button = page.locator(".mh-copy[aria-label='imap.dokom.net kopieren']")
    button.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => navigator.clipboard.readText()") == "imap.dokom.net"
    assert button.inner_text() == "Kopiert"
    page.locator(".mh-copy-block").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.splitlines() == [
        "Posteingangsserver: imap.dokom.net", "Port: 993", "Verschlüsselung: SSL/TLS"]
    page.context.close()


def test_history_survives_reload_in_session_storage_only(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    type_and_send(page, "Ich möchte Outlook einrichten")
    before = log_text(page)
    sender = rasa_up.received[-1]["sender"]
    page.reload()
    page.wait_for_function("() => window.__mailhilfeWidgetReady === true")
    assert page.locator(".mh-panel").is_visible()  # stays open
    assert log_text(page) == before
    assert page.locator(".mh-quick-btn", has_text="IMAP").is_visible()  # still answerable
    assert page.evaluate("window.localStorage.length") == 0
    assert page.evaluate("Object.keys(window.sessionStorage).some(k => k.startsWith('mailhilfe:'))")
    assert "mailhilfe_session" not in page.evaluate("document.cookie")  # HttpOnly
    click_quick_reply(page, "IMAP")
    assert rasa_up.received[-1]["sender"] == sender  # same conversation after reload
    page.context.close()


def test_html_from_customer_and_bot_is_shown_as_text(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    evil = "<img src=x onerror=alert(1)>"
    type_and_send(page, evil)
    assert page.locator(".mh-log .mh-user").last.inner_text().endswith(evil)
    assert page.locator(".mh-log .mh-bot").last.inner_text().endswith("Echo: " + evil)
    type_and_send(page, "<script>alert(3)</script>")
    type_and_send(page, "markdown-test")
    last = page.locator(".mh-log .mh-bot").last
    assert page.locator(".mh-root img").count() == 0
    assert page.locator(".mh-root script").count() == 0
    assert last.locator("strong", has_text="Fett").count() == 1
    assert last.locator("ol li").count() == 2
    assert last.locator("b").count() == 0 and "<b>kein HTML</b>" in last.inner_text()
    links = last.locator("a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "https://www.service.dokom.net/"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    assert "[Böse](https://evil.example/x)" in last.inner_text()
    assert "[Skript](javascript:alert(1))" in last.inner_text()
    assert last.locator(".mh-settings pre").inner_text().startswith("Server: imap.dokom.net")
    page.wait_for_timeout(300)
    assert page.dialogs == []
    page.context.close()


def test_rasa_down_shows_german_error_and_retry_works(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    rasa_up.stop()
    before = bot_count(page)
    page.locator(".mh-input").fill("Hallo, ist jemand da?")
    page.keyboard.press("Enter")
    error = page.locator(".mh-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "nicht erreichbar" in error.inner_text()
    assert page.locator(".mh-failed-label").count() == 1
    assert page.locator(".mh-error").get_attribute("role") == "alert"
    rasa_up.start()
    page.locator(".mh-retry").click()
    wait_answer(page, before)
    assert error.is_hidden()
    assert page.locator(".mh-failed-label").count() == 0
    assert "Echo: Hallo, ist jemand da?" in log_text(page)
    assert page.locator(".mh-log .mh-user").count() == 1  # the retry sent no duplicate
    page.context.close()


def test_slow_rasa_gives_timeout_message_not_a_hang(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    rasa_up.delay = 6.0  # the web app runs with UPSTREAM_TIMEOUT=3 here
    page.locator(".mh-input").fill("Hallo")
    page.keyboard.press("Enter")
    assert page.locator(".mh-typing").is_visible()
    page.locator(".mh-error").wait_for(state="visible", timeout=8_000)
    assert "nicht rechtzeitig" in page.locator(".mh-error").inner_text()
    assert page.locator(".mh-typing").is_hidden()
    page.context.close()


def test_rate_limit_message_in_german(browser, scripted_rasa, rasa_up):
    app = WebApp(scripted_rasa.url, RATE_LIMIT_MESSAGES="2", RATE_LIMIT_WINDOW="60")
    try:
        page = new_page(browser, app.url)
        open_with_keyboard(page)
        type_and_send(page, "eins")
        type_and_send(page, "zwei")
        page.locator(".mh-input").fill("drei")
        page.keyboard.press("Enter")
        page.locator(".mh-error").wait_for(state="visible")
        assert "warten Sie" in page.locator(".mh-error").inner_text()
        page.context.close()
    finally:
        app.close()


def test_long_message_is_cut_with_a_notice(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    page.locator(".mh-input").fill("x" * 4500)
    assert "4.000" in page.locator(".mh-hint").inner_text()
    before = bot_count(page)
    page.keyboard.press("Enter")
    wait_answer(page, before)
    assert "4.000 Zeichen" in page.locator(".mh-log .mh-notice").last.inner_text()
    assert len(rasa_up.received[-1]["message"]) == 4000
    page.context.close()


def test_new_conversation_clears_history_and_session(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    type_and_send(page, "erste Frage")
    first = rasa_up.received[-1]["sender"]
    page.locator(".mh-reset").click()
    page.wait_for_function("() => document.querySelectorAll('.mh-log .mh-user').length === 0")
    assert "erste Frage" not in log_text(page)
    assert page.locator(".mh-quick-btn").count() >= 1  # welcome with starters again
    type_and_send(page, "zweite Frage")
    assert rasa_up.received[-1]["sender"] != first
    page.context.close()


def test_escape_closes_and_focus_returns_to_launcher(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    page.keyboard.press("Escape")
    assert page.locator(".mh-panel").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('mh-launcher')")
    page.context.close()


def test_phone_width_360(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url, width=360, height=740)
    open_with_keyboard(page)
    type_and_send(page, "Ich möchte Outlook einrichten")
    click_quick_reply(page, "IMAP")
    box = page.locator(".mh-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    send_box = page.locator(".mh-send").bounding_box()
    assert send_box["x"] + send_box["width"] <= 360
    screenshot(page, "widget-360px.png")
    page.context.close()


def test_accessibility_axe_wcag21_aa(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    closed = serious(run_axe(page))
    assert not closed, describe(closed)
    open_with_keyboard(page)
    type_and_send(page, "Ich möchte Outlook einrichten")
    click_quick_reply(page, "IMAP")
    type_and_send(page, "Ich möchte Outlook einrichten")  # quick replies visible again
    violations = run_axe(page)
    assert not serious(violations), describe(serious(violations))
    role_log = page.locator(".mh-log")
    assert role_log.get_attribute("role") == "log" and role_log.get_attribute("aria-live") == "polite"
    assert page.locator("label[for='%s']" % page.locator(".mh-input").get_attribute("id")).count() == 1
    screenshot(page, "widget-scripted.png")
    page.context.close()


def test_visible_focus_on_widget_controls(browser, widget_app, rasa_up):
    page = new_page(browser, widget_app.url)
    open_with_keyboard(page)
    for selector in (".mh-input", ".mh-send", ".mh-reset", ".mh-close"):
        page.locator(selector).focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(s) => getComputedStyle(document.querySelector(s)).outlineStyle", selector)
        assert outline not in ("none", ""), selector
    page.context.close()
