"""Agent-assist API (`bot/web/assist.py`) in the real web app against a fake Rasa server.

The fake Rasa answers /model/parse with keyword rules and serves one tracker; the knowledge
base is the small fixed one of `assist_fakes`, the bounce analyser a stand-in.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

import bot.assist.pipeline as pipeline
import bot.web.assist as web_assist
from bot.web.app import create_app
from bot.web.settings import Settings

from assist_fakes import FakeBounce, make_kb, rasa_parse

TOKEN = "assist-test-token-0123456789"
RASA_TOKEN = "rasa-test-token"
SECRET = "Sommer2024!x"
_names = itertools.count()

TRACKER = {
    "sender_id": "conv-1",
    "slots": {"client": "outlook", "handover_summary": "Outlook IMAP, Senden scheitert."},
    "latest_message": {"intent": {"name": "human_handoff", "confidence": 0.9}},
    "events": [
        {"event": "user", "text": "Outlook sendet nicht", "timestamp": 1700000000,
         "parse_data": {"intent": {"name": "send_problem", "confidence": 0.9}}},
        {"event": "bot", "text": "Ich verbinde Sie mit dem Support.", "timestamp": 1700000001},
    ],
}

RULES = [
    ("relay access denied", "report_bounce", 0.62),
    ("verschick", "send_problem", 0.91),
    ("sendet", "send_problem", 0.88),
    ("anhang", "max_message_size", 0.94),
    ("einrichten", "setup_client", 0.93),
    ("postfach voll", "mailbox_full", 0.9),
]


def fake_parse(text: str) -> dict[str, Any]:
    lowered = text.lower()
    entities = []
    for surface, entity, value in (("Outlook", "client", "outlook"), ("IMAP", "protocol", "imap"),
                                   ("POP3", "protocol", "pop3")):
        if surface in text:
            entities.append((entity, value, surface))
    for phrase, intent, confidence in RULES:
        if phrase in lowered:
            return rasa_parse(intent, confidence, text, entities)
    return rasa_parse("nlu_fallback", 0.3, text, entities)


@dataclass
class FakeRasa:
    parsed: list[str] = field(default_factory=list)
    tokens: list[Optional[str]] = field(default_factory=list)
    mode: str = "ok"  # ok | error | slow

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/model/parse", self.parse)
        app.router.add_get("/conversations/{cid}/tracker", self.tracker)
        return app

    async def parse(self, request: web.Request) -> web.Response:
        self.tokens.append(request.query.get("token"))
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"status": "failure"}, status=401)
        body = await request.json()
        self.parsed.append(body["text"])
        if self.mode == "error":
            return web.json_response({"error": "boom"}, status=500)
        if self.mode == "slow":
            await asyncio.sleep(1.0)
        return web.json_response(fake_parse(body["text"]))

    async def tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"status": "failure"}, status=401)
        if request.match_info["cid"] == "conv-1":
            return web.json_response(TRACKER)
        return web.json_response({"sender_id": request.match_info["cid"], "slots": {}, "events": []})


@dataclass
class Harness:
    url: str
    http: aiohttp.ClientSession
    rasa: FakeRasa

    async def post(self, body: Any, token: Optional[str] = TOKEN, raw: Optional[bytes] = None,
                   headers: Optional[dict] = None):
        all_headers = {"Content-Type": "application/json"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(f"{self.url}/api/assist", data=data, headers=all_headers) as response:
            return response.status, await response.read(), response.headers

    async def get(self, path: str, token: Optional[str] = TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.http.get(f"{self.url}{path}", headers=headers) as response:
            return response.status, await response.read(), response.headers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _start(monkeypatch, rasa_up: bool = True):
    # several apps start in one process: Sanic must not re-compile its own methods
    monkeypatch.setattr(Sanic, "test_mode", True)
    kb = make_kb()
    monkeypatch.setattr(web_assist, "_kb", lambda: kb)
    monkeypatch.setattr(pipeline, "_default_analyser", lambda: FakeBounce())
    rasa = FakeRasa()
    runner = web.AppRunner(rasa.app())
    await runner.setup()
    rasa_port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", rasa_port)
    await site.start()
    if not rasa_up:
        await runner.cleanup()
    settings = Settings(rasa_url=f"http://127.0.0.1:{rasa_port}", rasa_token=RASA_TOKEN, assist_token=TOKEN,
                        upstream_timeout=5.0)
    app = create_app(settings, name=f"assist_api_test_{next(_names)}")
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    if rasa_up:  # the app warms Rasa up once; start each test with a clean record
        await asyncio.wait_for(app.ctx.assist_warm_nlu, 10)
        assert rasa.parsed == ["Outlook einrichten"]
        rasa.parsed.clear()
        rasa.tokens.clear()
    return rasa, runner, server


@pytest.fixture
async def harness(monkeypatch):
    rasa, runner, server = await _start(monkeypatch)
    port = server.server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as http:
        yield Harness(f"http://127.0.0.1:{port}", http, rasa)
    await server.before_stop()
    await server.close()
    await server.after_stop()
    await runner.cleanup()


@pytest.fixture
async def harness_rasa_down(monkeypatch):
    rasa, runner, server = await _start(monkeypatch, rasa_up=False)
    port = server.server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as http:
        yield Harness(f"http://127.0.0.1:{port}", http, rasa)
    await server.before_stop()
    await server.close()
    await server.after_stop()


# -- 401 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x", f"{TOKEN} extra"])
async def test_without_valid_token_401_and_nothing_else(harness, token):
    status, body, headers = await harness.post({"text": "Outlook einrichten"}, token=token)
    assert status == 401
    assert body == b""
    assert harness.rasa.parsed == []


async def test_other_schemes_are_refused(harness):
    for value in (f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}"):
        status, body, _ = await harness.post({"text": "x"}, token=None, headers={"Authorization": value})
        assert (status, body) == (401, b"")


async def test_token_is_checked_before_the_body(harness):
    status, body, _ = await harness.post(None, token="wrong", raw=b"{not json")
    assert (status, body) == (401, b"")


@pytest.mark.parametrize("path", ["/api/assist/article/proc_change_password", "/api/assist/conversation/conv-1"])
async def test_get_endpoints_need_the_token(harness, path):
    for token in (None, "wrong"):
        status, body, _ = await harness.get(path, token=token)
        assert (status, body) == (401, b"")


# -- 400 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe{}", b"null"])
async def test_bad_json_is_400(harness, raw):
    status, body, _ = await harness.post(None, raw=raw)
    assert status == 400
    assert isinstance(json.loads(body)["error"], str)


@pytest.mark.parametrize("payload", [{}, {"message": "x"}, {"text": None}, {"text": 5}, {"text": ["a"]},
                                     {"text": {"a": 1}}, {"text": True}])
async def test_missing_or_non_string_text_is_400(harness, payload):
    status, body, _ = await harness.post(payload)
    assert status == 400
    assert json.loads(body)["error"]


async def test_text_over_100000_characters_is_400_and_at_the_limit_200(harness):
    status, body, _ = await harness.post({"text": "a" * 100_001})
    assert status == 400 and "100.000" in json.loads(body)["error"]
    status, body, _ = await harness.post({"text": ("Mein Postfach voll? " * 5000)[:100_000]})
    assert status == 200
    assert len(harness.rasa.parsed[0]) <= 1000  # only start and end go to the NLU


# -- 200: contract ------------------------------------------------------------------------
def assert_contract(answer: dict) -> None:
    assert isinstance(answer["intent"]["name"], str)
    assert isinstance(answer["intent"]["confidence"], float)
    assert isinstance(answer["intent_ranking"], list)
    for item in answer["intent_ranking"]:
        assert isinstance(item["name"], str) and isinstance(item["confidence"], float)
    for entity in answer["entities"]:
        assert all(isinstance(entity[k], str) for k in ("entity", "value", "text"))
    assert answer["bounce"] is None or isinstance(answer["bounce"]["category"], str)
    assert isinstance(answer["articles"], list) and len(answer["articles"]) <= 3
    for article in answer["articles"]:
        assert isinstance(article["id"], str) and isinstance(article["title"], str)
        assert isinstance(article["score"], float)
    assert isinstance(answer["reply"], str) and answer["reply"]
    assert isinstance(answer["questions"], list)
    assert isinstance(answer["low_confidence"], bool)
    assert isinstance(answer["masked_text"], str)


async def test_contract_fields_and_types(harness):
    status, body, headers = await harness.post({"text": "Wie kann ich Outlook mit IMAP einrichten?"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    answer = json.loads(body)
    assert_contract(answer)
    assert answer["intent"]["name"] == "setup_client"
    assert answer["intent"]["confidence"] == 0.93
    assert answer["intent_ranking"][0]["name"] == "setup_client"
    assert {"entity": "client", "value": "outlook", "text": "Outlook"}.items() <= answer["entities"][0].items()
    assert answer["bounce"] is None
    assert answer["articles"][0]["id"] == "guide_outlook_imap"
    assert "imap.dokom.net" in answer["reply"] and "Port 993" in answer["reply"]
    assert answer["low_confidence"] is False
    assert answer["nlu_available"] is True
    assert len(answer["questions"]) == 1
    assert harness.rasa.tokens == [RASA_TOKEN]


async def test_a_bounce(harness):
    text = ("Hallo, ich bekomme diese Meldung:\n\nThe following address(es) failed:\n"
            "SMTP error from remote mail server after RCPT TO:<xy@z.de>:\n"
            "host z.de [1.2.3.4]: 554 5.7.1 <xy@z.de>: Relay access denied")
    status, body, _ = await harness.post({"text": text})
    answer = json.loads(body)
    assert status == 200
    assert_contract(answer)
    bounce = answer["bounce"]
    assert bounce["category"] == "relay_denied"
    assert (bounce["smtp_code"], bounce["enhanced_code"]) == ("554", "5.7.1")
    assert bounce["evidence"] == "Relay access denied"
    assert bounce["fix"] and "Domain-Teil" in bounce["fix"][0]
    assert answer["intent"]["name"] == "report_bounce"
    assert answer["articles"][0]["id"] == "bounce_relay_denied"
    assert "xy@z.de" in answer["reply"] and "Domain-Teil" in answer["reply"]
    assert {"entity": "error_code", "value": "554"}.items() <= next(
        e for e in answer["entities"] if e["entity"] == "error_code").items()


async def test_email_with_two_questions_and_quoted_history(harness):
    text = (
        "Guten Tag,\n\n"
        "ich nutze Outlook. Seit gestern kann ich keine E-Mails mehr verschicken. Was kann ich tun?\n\n"
        "Und wie groß darf ein Anhang eigentlich sein?\n\n"
        "Mit freundlichen Grüßen\nErika Musterfrau\n\n"
        "Am 01.03.2024 um 09:00 schrieb DOKOM21 Support <support@dokom21.de>:\n"
        "> Guten Tag, wie können wir Ihnen helfen? Postfach voll einrichten\n"
    )
    status, body, _ = await harness.post({"text": text})
    answer = json.loads(body)
    assert status == 200
    assert_contract(answer)
    questions = answer["questions"]
    assert [q["intent"]["name"] for q in questions] == ["send_problem", "max_message_size"]
    assert "verschicken" in questions[0]["text"] and "Anhang" in questions[1]["text"]
    assert questions[0]["articles"][0]["id"] == "problem_send_fails"
    assert questions[1]["articles"][0]["id"] == "info_message_size"
    assert questions[0]["entities"][0]["value"] == "outlook"
    assert {"problem_send_fails", "info_message_size"} <= {a["id"] for a in answer["articles"]}
    reply = answer["reply"]
    assert reply.startswith("Guten Tag Erika Musterfrau,")
    assert "smtp.dokom.net" in reply and "50 MB" in reply
    assert answer["history_removed"] and answer["signature_removed"]
    # the quoted history never reached the NLU
    assert harness.rasa.parsed and not any("wie können wir" in t for t in harness.rasa.parsed)
    assert "Postfach voll" not in json.dumps(answer["questions"])


async def test_password_is_masked_everywhere_and_never_logged(harness, caplog):
    caplog.set_level(logging.DEBUG)
    text = f"Hallo, Outlook sendet nicht mehr.\nBenutzer: max@dokom.net\nPasswort: {SECRET}\nGruß Max"
    status, body, _ = await harness.post({"text": text})
    answer = json.loads(body)
    assert status == 200
    assert SECRET not in body.decode()
    assert "[Passwort entfernt]" in answer["masked_text"]
    assert answer["passwords_masked"] >= 1
    assert any("Kennwort" in w for w in answer["warnings"])
    assert not any(SECRET in t for t in harness.rasa.parsed)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in logged
    assert "Outlook sendet nicht" not in logged


async def test_empty_text_gives_an_answer_without_asking_rasa(harness):
    status, body, _ = await harness.post({"text": "   "})
    answer = json.loads(body)
    assert status == 200
    assert_contract(answer)
    assert harness.rasa.parsed == []
    assert answer["questions"] == []


async def test_customer_markup_is_returned_as_data_only(harness):
    status, body, _ = await harness.post({"text": "<script>alert(1)</script> Outlook einrichten"})
    assert status == 200
    assert json.loads(body)["masked_text"].startswith("<script>")


# -- Rasa trouble: KB-only answer, never a 500 -------------------------------------------
async def test_rasa_unreachable_answers_from_the_kb(harness_rasa_down):
    status, body, _ = await harness_rasa_down.post({"text": "Mein Postfach voll, was tun?"})
    answer = json.loads(body)
    assert status == 200
    assert_contract(answer)
    assert answer["nlu_available"] is False
    assert answer["low_confidence"] is True
    assert answer["intent_ranking"] == []
    assert answer["intent_source"] == "kb" and answer["intent"]["name"] == "mailbox_full"
    assert answer["articles"][0]["id"] == "problem_mailbox_full"
    assert "300 MB" in answer["reply"]
    assert any("Rasa" in w for w in answer["warnings"])


async def test_rasa_error_and_timeout_answer_from_the_kb(harness, monkeypatch):
    monkeypatch.setattr(web_assist, "NLU_TIMEOUT", 0.3)
    for mode in ("error", "slow"):
        harness.rasa.mode = mode
        started = asyncio.get_running_loop().time()
        status, body, _ = await harness.post({"text": "Outlook sendet nicht"})
        assert status == 200
        assert json.loads(body)["nlu_available"] is False
        assert asyncio.get_running_loop().time() - started < 0.9


# -- article and conversation ------------------------------------------------------------
async def test_article_with_client_and_protocol(harness):
    status, body, _ = await harness.get("/api/assist/article/problem_send_fails?client=outlook&protocol=imap")
    view = json.loads(body)
    assert status == 200
    assert view["id"] == "problem_send_fails"
    assert view["sections"][0]["steps"][0].startswith("Prüfen Sie den Postausgangsserver")
    assert view["related_guide"]["id"] == "guide_outlook_smtp"
    status, body, _ = await harness.get("/api/assist/article/guide_thunderbird_pop3")
    view = json.loads(body)
    assert [s["protocol"] for s in view["settings"]] == ["pop3", "smtp"]
    assert view["sections"][0]["title"] == "Konto anlegen"


@pytest.mark.parametrize("path, status", [
    ("/api/assist/article/no_such_article", 404),
    ("/api/assist/article/..%2F..%2Fetc", 404),
    ("/api/assist/article/proc_change_password?client=eudora", 400),
    ("/api/assist/article/proc_change_password?protocol=ftp", 400),
])
async def test_article_errors(harness, path, status):
    got, body, _ = await harness.get(path)
    assert got == status
    assert json.loads(body)["error"]


async def test_conversation_lookup(harness):
    status, body, _ = await harness.get("/api/assist/conversation/conv-1")
    data = json.loads(body)
    assert status == 200
    assert [t["sender"] for t in data["transcript"]] == ["user", "bot"]
    assert data["slots"]["client"] == "outlook"
    assert data["handover_summary"] == "Outlook IMAP, Senden scheitert."


async def test_conversation_unknown_and_invalid_ids(harness):
    status, body, _ = await harness.get("/api/assist/conversation/nobody-here")
    assert status == 404 and json.loads(body)["error"]
    status, body, _ = await harness.get("/api/assist/conversation/a%20b")
    assert status == 400


async def test_conversation_when_rasa_is_down(harness_rasa_down):
    status, body, _ = await harness_rasa_down.get("/api/assist/conversation/conv-1")
    assert status == 503 and json.loads(body)["error"]


# -- the page ----------------------------------------------------------------------------
async def test_page_and_static_files_are_served_without_token(harness):
    status, body, headers = await harness.get("/assist", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert b'src="/assist/assist.js"' in body
    status, _, headers = await harness.get("/assist/assist.js", token=None)
    assert status == 200 and "javascript" in headers["Content-Type"]
    status, _, headers = await harness.get("/assist/assist.css", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    status, _, _ = await harness.get("/assist/secret.py", token=None)
    assert status == 404


async def test_an_undiagnosed_bounce_does_not_override_the_nlu(harness, monkeypatch):
    class Unknown:
        def __call__(self, text):
            from assist_fakes import FakeBounceResult
            return FakeBounceResult({"category": "unknown", "confidence": 0.3, "is_bounce": True,
                                     "article_id": "bounce_unknown", "smtp_code": "554"})

    monkeypatch.setattr(pipeline, "_default_analyser", lambda: Unknown())
    answer = json.loads((await harness.post({"text": "Outlook sendet nicht, Fehler 554"}))[1])
    assert answer["intent"]["name"] == "send_problem"
    assert answer["intent_source"] == "nlu"
    assert answer["bounce"]["category"] == "unknown"


@pytest.mark.parametrize("text", ["\ud800 Outlook", "\x00\x01\x1b[31m", "🙂" * 50, "' OR 1=1; --", "\u202e\u200b"])
async def test_odd_but_valid_text_is_answered(harness, text):
    status, body, _ = await harness.post(None, raw=json.dumps({"text": text}).encode())
    assert status == 200
    assert json.loads(body)["reply"]
