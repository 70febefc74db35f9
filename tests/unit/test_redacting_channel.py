"""channels.redacting.RedactingRestInput: Rasa's REST channel that removes passwords before
the message reaches the processor (and so the tracker store), with a German warning."""
from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import threading
from pathlib import Path
from typing import List

import pytest
from sanic import Sanic

from bot.redact import PLACEHOLDER
from channels.redacting import RedactingRestInput, warning_text

ROOT = Path(__file__).resolve().parents[2]
Sanic.test_mode = True
_names = itertools.count()


class FakeRasaServer:
    """A Sanic app with only the channel's blueprint; `on_new_message` records what the
    processor would get and answers like a bot."""

    def __init__(self):
        self.messages: List = []
        self.port = None
        self.app = Sanic(f"channel_test_{next(_names)}")
        channel = RedactingRestInput()

        async def on_new_message(message):
            self.messages.append(message)
            await message.output_channel.send_text_message(message.sender_id, "Antwort des Bots")

        self.app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/rest")
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        await self._server.start_serving()

    async def _stop(self):
        self._server.close()
        await self._server.wait_closed()

    def __enter__(self):
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)

    def post(self, body: dict, path: str = "/webhooks/rest/webhook"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        conn.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data


@pytest.fixture(scope="module")
def rasa():
    with FakeRasaServer() as server:
        yield server


def texts(raw: bytes) -> List[str]:
    return [item.get("text") for item in json.loads(raw)]


def test_channel_keeps_the_rest_name_and_url(rasa):
    assert RedactingRestInput.name() == "rest"
    assert RedactingRestInput().url_prefix() == "rest"
    status, _ = rasa.post({"sender": "a", "message": "hallo"})
    assert status == 200


def test_password_is_removed_before_the_processor_and_warning_comes_first(rasa):
    status, raw = rasa.post({"sender": "conv-1", "message": "Mein Passwort ist Sommer2024! Outlook geht nicht"})
    assert status == 200
    message = rasa.messages[-1]
    assert "Sommer2024" not in message.text
    assert message.text == f"Mein Passwort ist {PLACEHOLDER} Outlook geht nicht"
    assert message.metadata == {"redacted": ["password"]}
    assert message.sender_id == "conv-1" and message.input_channel == "rest"
    assert texts(raw) == [warning_text(), "Antwort des Bots"]
    assert "Sommer2024" not in raw.decode()


def test_warning_is_german_and_names_the_customer_portal():
    text = warning_text()
    assert "www.service.dokom.net" in text and "Passwort" in text and "ändern" in text
    assert "{" not in text and "\n" not in text


def test_normal_talk_passes_without_warning(rasa):
    _, raw = rasa.post({"sender": "conv-2", "message": "Ich habe mein Passwort vergessen"})
    assert rasa.messages[-1].text == "Ich habe mein Passwort vergessen"
    assert rasa.messages[-1].metadata == {"redacted": []}
    assert texts(raw) == ["Antwort des Bots"]


def test_web_app_findings_in_metadata_trigger_the_warning(rasa):
    _, raw = rasa.post({"sender": "conv-3", "message": f"Kennwort: {PLACEHOLDER}",
                        "metadata": {"redacted": ["password"], "other": 1}})
    assert rasa.messages[-1].metadata == {"redacted": ["password"], "other": 1}
    assert texts(raw)[0] == warning_text()


def test_spoofed_metadata_cannot_add_unknown_kinds(rasa):
    _, raw = rasa.post({"sender": "conv-4", "message": "hallo",
                        "metadata": {"redacted": ["Sommer2024", 5, None]}})
    assert rasa.messages[-1].metadata["redacted"] == []
    assert texts(raw) == ["Antwort des Bots"]


def test_credentials_block_is_removed(rasa):
    rasa.post({"sender": "conv-5", "message": "Benutzername: max@dokom.net\nGeheim123!"})
    assert "Geheim123" not in rasa.messages[-1].text
    assert rasa.messages[-1].metadata == {"redacted": ["credential_line"]}


def test_stream_mode_is_redacted_too(rasa):
    conn = http.client.HTTPConnection("127.0.0.1", rasa.port, timeout=15)
    conn.request("POST", "/webhooks/rest/webhook?stream=true",
                 body=json.dumps({"sender": "conv-6", "message": "pw=Xy7!qq"}).encode(),
                 headers={"Content-Type": "application/json"})
    raw = conn.getresponse().read().decode()
    conn.close()
    assert "Xy7!qq" not in raw and "Xy7!qq" not in rasa.messages[-1].text
    lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
    assert lines[0]["text"] == warning_text()


def test_non_string_message_is_passed_on_unchanged(rasa):
    status, _ = rasa.post({"sender": "conv-7", "message": None})
    assert status == 200
    assert rasa.messages[-1].text is None or rasa.messages[-1].text == ""


def test_credentials_yml_loads_this_channel_as_rest():
    from rasa.core.run import create_http_input_channels

    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    assert [type(c) for c in channels] == [RedactingRestInput]
    assert channels[0].name() == "rest"
