"""The web app as a whole: demo page, static files, security headers on every route,
widget configuration, agent-assist registration, entry point."""
from __future__ import annotations

import importlib.machinery
import os
import re
import subprocess
import sys
import time
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sanic import Blueprint
from sanic.response import json as json_response

from bot.web import create_app
from web_support import Running, free_port, make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def web():
    with Running() as running:
        yield running


class ScriptCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []
        self.inline_handlers = []
        self.styles_inline = 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "script":
            self.scripts.append(attrs)
        if tag == "style":
            self.styles_inline += 1
        self.inline_handlers += [name for name in attrs if name.startswith("on")]
        if "style" in attrs:
            self.styles_inline += 1


def test_demo_page_embeds_the_widget_with_one_script_tag(web):
    response = web.client().request("GET", "/")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page = ScriptCollector()
    page.feed(response.body.decode("utf-8"))
    assert page.lang == "de"
    assert page.scripts == [{"src": "/static/widget.js", "defer": None}]
    assert page.inline_handlers == [] and page.styles_inline == 0
    assert "Hilfe &amp; Support" in response.body.decode("utf-8")


@pytest.mark.parametrize(
    "path", ["/", "/static/widget.js", "/static/widget.css", "/api/widget/config", "/api/nothing", "/static/nope.js"]
)
def test_security_headers_on_every_route(web, path):
    response = web.client().request("GET", path)
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'self' https://www.dokom21.de" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_frame_ancestors_follow_the_settings():
    settings = make_settings(allowed_origins=("https://www.dokom21.de",),
                             frame_ancestors=("https://hilfe.dokom21.de",))
    with Running(settings) as running:
        csp = running.client().request("GET", "/").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://www.dokom21.de https://hilfe.dokom21.de" in csp


def test_head_on_the_demo_page_for_health_checks(web):
    assert web.client().request("HEAD", "/").status == 200


def test_api_answers_are_not_cached(web):
    response = web.client().chat({"message": "hallo"})
    assert response.headers["cache-control"] == "no-store"


def test_static_files_have_the_right_types(web):
    client = web.client()
    assert client.request("GET", "/static/widget.js").headers["content-type"].startswith("text/javascript")
    assert client.request("GET", "/static/widget.css").headers["content-type"].startswith("text/css")


def test_static_files_do_not_escape_their_folder(web):
    for path in ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"]:
        response = web.client().request("GET", path)
        assert response.status in (400, 404)
        assert b"create_app" not in response.body


def test_widget_config_has_texts_limits_and_link_hosts(web):
    data = web.client().request("GET", "/api/widget/config").json()
    assert data["texts"]["new_conversation"] == "Neues Gespräch"
    assert data["limits"] == {"max_message_chars": 4000}
    assert "dokom21.de" in data["link_hosts"]


def test_widget_script_never_uses_inner_html_or_eval():
    script = (ROOT / "bot" / "web" / "static" / "widget.js").read_text()
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                      "new Function", "localStorage"):
        assert forbidden not in script, forbidden
    assert "sessionStorage" in script
    hosts = set(re.findall(r"https?://([a-z0-9.-]+\.[a-z]{2,})", script, re.IGNORECASE))
    assert not {h for h in hosts if not h.endswith(("dokom21.de", "dokom.net", "dokom.de"))}, \
        "the widget loads nothing from a third party"


def test_context_offers_what_agent_assist_relies_on(web):
    ctx = web.app.ctx
    assert ctx.settings.rasa_url.startswith("http://127.0.0.1:")
    assert hasattr(ctx.settings, "assist_token") and hasattr(ctx.settings, "rasa_token")
    assert ctx.http is not None and not ctx.http.closed


def test_assist_blueprint_is_registered_and_gets_the_headers(monkeypatch):
    module = types.ModuleType("bot.web.assist")
    module.__spec__ = importlib.machinery.ModuleSpec("bot.web.assist", None)
    blueprint = Blueprint("assist_fake")

    @blueprint.get("/assist")
    async def page(request):
        return json_response({"token_set": bool(request.app.ctx.settings.assist_token)})

    module.assist_bp = blueprint
    monkeypatch.setitem(sys.modules, "bot.web.assist", module)
    with Running(make_settings(assist_token="geheim-token")) as running:
        response = running.client().request("GET", "/assist")
    assert response.status == 200 and response.json() == {"token_set": True}
    assert "frame-ancestors" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_assist_module_without_blueprint_is_an_error(monkeypatch):
    module = types.ModuleType("bot.web.assist")
    module.__spec__ = importlib.machinery.ModuleSpec("bot.web.assist", None)
    monkeypatch.setitem(sys.modules, "bot.web.assist", module)
    with pytest.raises(RuntimeError, match="assist_bp"):
        create_app(make_settings(), name="no_assist_bp")


def test_python_dash_m_bot_web_serves_on_the_configured_port():
    port = free_port()
    env = dict(os.environ, WEB_PORT=str(port), WEB_HOST="127.0.0.1",
               RASA_URL=f"http://127.0.0.1:{free_port()}", PYTHONPATH=str(ROOT))
    env.pop("SESSION_SECRET", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from web_support import Client

        client = Client(port)
        deadline = time.monotonic() + 30
        while True:
            try:
                response = client.request("GET", "/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status == 200
        started = time.monotonic()
        down = client.chat({"message": "Mein Kennwort ist Tiger-123-Berg"})
        assert down.status == 503 and time.monotonic() - started < 12
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert b"Tiger-123-Berg" not in output
