"""Driving the chat widget in headless Chromium (Debian's /usr/bin/chromium via Playwright),
plus a scripted fake Rasa and a web app process for the widget tests that do not need
the trained model."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
AXE_JS = ROOT / ".vendor" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = ROOT / "reports" / "browser"
WIDGET = ".mh-root"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------- fake Rasa
SETUP_REPLY = {
    "text": "Gern helfe ich beim Einrichten von **Outlook**. Welches Protokoll möchten Sie nutzen?",
    "buttons": [
        {"title": "IMAP", "payload": '/inform{"protocol":"imap"}'},
        {"title": "POP3", "payload": '/inform{"protocol":"pop3"}'},
    ],
}
IMAP_REPLY = {
    "text": (
        "So richten Sie Outlook mit IMAP ein:\n"
        "- Posteingangsserver: `imap.dokom.net`\n"
        "- Port: `993`\n"
        "- Verschlüsselung: **SSL/TLS**\n\n"
        "Ihr Passwort ändern Sie im Kundenportal unter www.service.dokom.net."
    ),
}
MARKDOWN_REPLY = {
    "text": (
        "**Fett** und `smtp.dokom.net`\n"
        "1. Schritt eins\n2. Schritt zwei\n\n"
        "[Portal](https://www.service.dokom.net) [Böse](https://evil.example/x) "
        "[Skript](javascript:alert(1)) <b>kein HTML</b> <script>alert(2)</script>\n"
        "```\nServer: imap.dokom.net\nPort: 993\n```"
    ),
}


class ScriptedRasa:
    """Rasa's REST channel with scripted answers, served from its own thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: List[Dict[str, Any]] = []
        self.delay = 0.0
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def reply(self, body: Dict[str, Any]) -> List[Dict[str, Any]]:
        text = str(body.get("message") or "")
        if "outlook" in text.lower():
            return [SETUP_REPLY]
        if '"imap"' in text:
            return [IMAP_REPLY]
        if text == "markdown-test":
            return [MARKDOWN_REPLY]
        return [{"text": "Echo: " + text}]

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response([dict(item, recipient_id=body.get("sender")) for item in self.reply(body)])

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(15)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(15)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class WebApp:
    """`python -m bot.web` as a subprocess, like the real stack runs it."""

    def __init__(self, rasa_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / ".run" / f"browser-web-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        environment = dict(os.environ)
        environment.update(
            {"WEB_PORT": str(self.port), "WEB_HOST": "127.0.0.1", "RASA_URL": rasa_url,
             "PYTHONPATH": str(ROOT), "UPSTREAM_TIMEOUT": "3"}
        )
        environment.update(env)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=environment,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"web app did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


# ------------------------------------------------------------ widget driving
def new_page(browser, base_url: str, width: int = 1280, height: int = 900, clipboard: bool = False):
    """A page with a dialog/console recorder: page.dialogs, page.csp_errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    dialogs: List[str] = []
    csp_errors: List[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text else None)
    page.dialogs = dialogs
    page.csp_errors = csp_errors
    page.goto(base_url + "/")
    wait_ready(page)
    return page


def wait_ready(page) -> None:
    page.wait_for_function("() => window.__mailhilfeWidgetReady === true", timeout=10_000)


def open_with_keyboard(page, max_tabs: int = 40) -> None:
    """Tab through the page until the launcher has focus, then press Enter."""
    page.locator("body").focus()
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.classList.contains('mh-launcher')"):
            break
    else:
        raise AssertionError("the chat launcher cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    page.locator(".mh-panel").wait_for(state="visible")
    assert page.evaluate("document.activeElement.classList.contains('mh-input')"), \
        "focus should move to the message field"


def bot_count(page) -> int:
    return page.locator(".mh-log .mh-bot").count()


def type_and_send(page, text: str) -> None:
    before = bot_count(page)
    page.locator(".mh-input").fill(text)
    page.keyboard.press("Enter")
    wait_answer(page, before)


def wait_answer(page, bot_before: int, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "([n]) => document.querySelectorAll('.mh-log .mh-bot').length > n"
        " || !document.querySelector('.mh-error').hidden",
        arg=[bot_before], timeout=timeout,
    )


def click_quick_reply(page, title: str) -> None:
    before = bot_count(page)
    page.locator(".mh-quick-btn", has_text=title).first.click()
    wait_answer(page, before)


def log_text(page) -> str:
    return page.locator(".mh-log").inner_text()


def run_axe(page, context_selector: Optional[str] = None) -> List[Dict[str, Any]]:
    """axe-core with the WCAG 2.1 A/AA rules; returns the violations."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} missing: run `bash ops/install_chromium.sh`")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async ([selector, tags]) => await axe.run(selector ? document.querySelector(selector) : document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [context_selector, AXE_TAGS],
    )
    return result["violations"]


def serious(violations: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def describe(violations: List[Dict[str, Any]]) -> str:
    return json.dumps(
        [{"id": v["id"], "impact": v["impact"], "help": v["help"],
          "nodes": [n["target"] for n in v["nodes"]][:5]} for v in violations],
        indent=1, ensure_ascii=False,
    )


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=False)
    return path
