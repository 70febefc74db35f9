"""What the customer sees when a part behind the web app fails (Rasa faked).

The real stack is exercised in tests/e2e/test_faults.py; these tests pin the web app's
side: an empty answer from Rasa (Rasa 3.6 answers `[]` when the action server is down)
becomes a German apology with the support address from the knowledge base, and the
503 errors for a missing or slow Rasa name the support address too.
"""
from __future__ import annotations

import time

import pytest
from aiohttp import web as aioweb

from bot.kb import get_kb
from bot.web.chat import has_real_answer
from bot.web.messages import error_text, load_messages, no_answer_apology, password_warning
from web_support import FakeRasa, Running

SUPPORT = get_kb().contact.email


@pytest.fixture(scope="module")
def web():
    with Running() as running:
        yield running


@pytest.fixture
def client(web):
    web.rasa.mode = "echo"
    web.rasa.delay = 0.0
    return web.client()


def test_support_address_comes_from_the_knowledge_base():
    assert SUPPORT == "support@dokom21.de"
    raw = load_messages()["no_answer_apology"]
    assert "{support}" in raw and SUPPORT not in raw  # not hard-coded in the text file
    text = no_answer_apology()
    assert SUPPORT in text and "{" not in text
    assert text.startswith("Entschuldigung")


@pytest.mark.parametrize("code", ["upstream_unavailable", "upstream_timeout"])
def test_upstream_errors_name_the_support_address(code):
    text = error_text(code)
    assert SUPPORT in text and "{" not in text


def test_unfilled_placeholders_do_not_raise():
    assert "{seconds}" in error_text("rate_limited")
    assert "7 Sekunden" in error_text("rate_limited", seconds=7)


@pytest.mark.parametrize("payload", [{"message": "Mein Postfach ist voll"},
                                     {"payload": "/mailbox_full"}])
def test_no_answer_from_rasa_gives_the_apology(client, web, payload):
    web.rasa.mode = "empty"
    response = client.chat(payload)
    assert response.status == 200
    data = response.json()
    assert data["messages"] == [{"text": no_answer_apology()}]
    # the conversation goes on normally once Rasa answers again
    web.rasa.mode = "echo"
    again = client.chat({"message": "Mein Postfach ist voll"}).json()
    assert again["messages"][0]["text"] == "Echo: Mein Postfach ist voll"
    assert all(SUPPORT not in (m.get("text") or "") for m in again["messages"])


def test_only_the_password_warning_is_no_answer():
    warning = {"text": password_warning()}
    assert not has_real_answer([])
    assert not has_real_answer([warning])
    assert has_real_answer([warning, {"text": "Ihr Postfach fasst 300 MB."}])
    assert has_real_answer([{"custom": {"kind": "settings"}}])


class WarningOnlyRasa(FakeRasa):
    """Rasa whose channel sent the password warning but whose actions failed."""

    async def webhook(self, request):
        body = await request.json()
        self.received.append(body)
        return aioweb.json_response([{"recipient_id": body["sender"], "text": password_warning()}])


def test_password_warning_alone_is_followed_by_the_apology():
    running = Running()
    running.rasa = WarningOnlyRasa()
    with running:
        response = running.client().chat({"message": "Kennwort: x7#Lk9q"})
        assert response.status == 200
        texts = [m["text"] for m in response.json()["messages"]]
        assert texts == [password_warning(), no_answer_apology()]
        assert "x7#Lk9q" not in running.rasa.received[0]["message"]


def test_slow_rasa_gives_503_with_support_address_in_time(client, web):
    web.rasa.mode = "slow"
    started = time.monotonic()
    response = client.chat({"message": "hallo"})
    assert time.monotonic() - started < 3.0  # upstream_timeout is 1 s in these tests
    assert response.status == 503
    data = response.json()
    assert data["code"] == "upstream_timeout"
    assert SUPPORT in data["error"]
    assert response.headers.get("retry-after")


def test_rasa_down_gives_503_with_support_address():
    with Running(rasa_down=True) as running:
        response = running.client().chat({"message": "hallo"})
        assert response.status == 503
        assert response.json()["code"] == "upstream_unavailable"
        assert SUPPORT in response.json()["error"]
