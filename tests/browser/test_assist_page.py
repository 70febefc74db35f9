"""The agent-assist page in headless Chromium against the real stack."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.stack]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by `make test`")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "reports" / "assist" / "assist_page.png"
CUSTOMER_EMAIL = (
    "Hallo,\n\n"
    "ich möchte mein Postfach in Thunderbird mit IMAP einrichten. Welche Einstellungen brauche ich?\n\n"
    "Mit freundlichen Grüßen\nMax Mustermann\n\n"
    "Am 02.03.2024 um 11:00 schrieb Support <support@dokom21.de>:\n> Bitte schicken Sie uns Details.\n"
)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_stack.web_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.errors, page.dialogs = errors, dialogs
    yield page
    context.close()


def log_in(page, stack, token=None):
    page.goto(f"{stack.web_url}/assist")
    page.fill("#token", token or stack.assist_token)
    page.click("#login-button")


def test_log_in_paste_see_intent_article_reply_and_copy(page, live_stack):
    log_in(page, live_stack)
    page.wait_for_selector("#customer-text", state="visible")
    assert page.evaluate("sessionStorage.getItem('mailhilfe.assistToken')") == live_stack.assist_token

    page.fill("#customer-text", CUSTOMER_EMAIL)
    page.click("#analyse-button")
    page.wait_for_selector("#results", state="visible", timeout=15000)

    assert "setup_client" in page.inner_text("#intent")
    assert page.locator("#ranking li").count() >= 1
    entities = page.inner_text("#entities")
    assert "Thunderbird" in entities and "IMAP" in entities

    first_article = page.locator("#articles > li").first
    assert first_article.get_attribute("data-article") == "guide_thunderbird_imap"
    first_article.get_by_role("button", name="Öffnen").click()
    body = first_article.locator(".article-body")
    body.wait_for(state="visible")
    assert body.locator("ol li").count() >= 3
    assert "imap.dokom.net" in body.inner_text()

    reply = page.input_value("#reply")
    assert reply.startswith("Guten Tag Max Mustermann,")
    assert "imap.dokom.net" in reply and "Bitte schicken Sie uns Details" not in reply

    page.fill("#reply", reply + "\nPS: Test")
    page.click("#copy-button")
    page.locator("#copy-status", has_text="kopiert").wait_for()  # (wait_for_function needs eval: CSP)
    assert page.evaluate("navigator.clipboard.readText()") == reply + "\nPS: Test"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert not page.errors, page.errors


def test_customer_markup_is_shown_as_text(page, live_stack):
    log_in(page, live_stack)
    page.wait_for_selector("#customer-text", state="visible")
    hostile = '<img src=x onerror=alert(1)> <script>alert(2)</script> Mein Outlook sendet nicht'
    page.fill("#customer-text", hostile)
    page.click("#analyse-button")
    page.wait_for_selector("#results", state="visible", timeout=15000)
    assert page.locator("#masked-text").text_content() == hostile
    assert page.locator("#results img").count() == 0
    assert page.locator("#results script").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_wrong_token_is_refused(page, live_stack):
    log_in(page, live_stack, token="falsch")
    page.wait_for_selector("#login-error", state="visible")
    assert "stimmt nicht" in page.inner_text("#login-error")
    assert page.is_hidden("#app")
    assert page.evaluate("sessionStorage.getItem('mailhilfe.assistToken')") is None


def test_two_questions_are_shown_separately(page, live_stack):
    log_in(page, live_stack)
    page.wait_for_selector("#customer-text", state="visible")
    page.fill("#customer-text", "Mein Outlook verschickt keine E-Mails. Was kann ich tun?\n\n"
                                "Und wie groß darf ein Anhang sein?")
    page.click("#analyse-button")
    page.wait_for_selector("#questions-card", state="visible", timeout=15000)
    assert page.locator("#questions .question").count() == 2
