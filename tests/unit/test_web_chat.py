"""POST /api/chat and POST /api/session over real HTTP, with Rasa faked."""
from __future__ import annotations

import json
import time

import pytest

from bot.redact import PLACEHOLDER
from bot.web.session import COOKIE_NAME
from web_support import Running, assert_json_error, make_settings

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def web():
    with Running() as running:
        yield running


@pytest.fixture
def client(web):
    web.rasa.mode = "echo"
    web.rasa.delay = 0.0
    return web.client()


# ------------------------------------------------------------ happy path
def test_answer_has_rasa_messages_in_order_with_buttons(client, web):
    response = client.chat({"message": "Ich möchte Outlook einrichten"})
    assert response.status == 200
    data = response.json()
    assert data["messages"][0] == {"text": "Echo: Ich möchte Outlook einrichten"}
    assert data["messages"][1]["buttons"] == [
        {"title": "IMAP", "payload": '/inform{"protocol":"imap"}'},
        {"title": "POP3", "payload": '/inform{"protocol":"pop3"}'},
    ]
    assert data["messages"][2] == {"custom": {"kind": "settings"}}
    assert len(data["messages"]) == 3  # the empty Rasa message is dropped
    assert data["new_session"] is True and data["truncated"] is False


def test_button_payload_is_forwarded_as_is(client, web):
    client.chat({"message": "hallo"})
    response = client.chat({"payload": '/inform{"protocol":"imap"}'})
    assert response.status == 200
    assert web.rasa.received[-1]["message"] == '/inform{"protocol":"imap"}'
    assert response.json()["new_session"] is False


def test_session_cookie_is_signed_httponly_samesite(client):
    response = client.chat({"message": "hallo"})
    (raw,) = response.set_cookies
    assert raw.startswith(COOKIE_NAME + "=")
    lowered = raw.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # plain http on loopback
    assert "max-age" not in lowered and "expires" not in lowered  # ends with the browser session


def test_conversation_id_comes_from_the_cookie_and_stays(client, web):
    client.chat({"message": "eins"})
    first = web.rasa.received[-1]["sender"]
    client.chat({"message": "zwei"})
    assert web.rasa.received[-1]["sender"] == first
    assert len(first) == 32


def test_browser_chosen_sender_is_ignored(client, web):
    client.chat({"message": "hallo", "sender": "victim-conversation"})
    assert web.rasa.received[-1]["sender"] != "victim-conversation"
    client.cookies[COOKIE_NAME] = "victim-conversation"
    response = client.chat({"message": "hallo"})
    assert web.rasa.received[-1]["sender"] != "victim-conversation"
    assert response.json()["new_session"] is True


def test_forged_cookie_starts_a_new_conversation(client, web):
    client.chat({"message": "hallo"})
    mine = web.rasa.received[-1]["sender"]
    value = client.cookies[COOKIE_NAME]
    parts = value.split(".")
    client.cookies[COOKIE_NAME] = ".".join([parts[0], "f" * 32, parts[2], parts[3]])
    response = client.chat({"message": "hallo"})
    assert response.json()["new_session"] is True
    assert web.rasa.received[-1]["sender"] not in (mine, "f" * 32)


def test_two_clients_get_two_conversations(web):
    one, two = web.client(), web.client()
    one.chat({"message": "a"})
    sender_one = web.rasa.received[-1]["sender"]
    two.chat({"message": "b"})
    assert web.rasa.received[-1]["sender"] != sender_one


def test_new_session_endpoint_replaces_the_conversation(client, web):
    client.chat({"message": "hallo"})
    old = web.rasa.received[-1]["sender"]
    response = client.request("POST", "/api/session", body=b"{}",
                              headers={**JSON, "Origin": client.origin})
    assert response.status == 200 and response.json() == {"status": "new"}
    assert response.cookie(COOKIE_NAME)
    client.chat({"message": "hallo"})
    assert web.rasa.received[-1]["sender"] != old


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "raw,code",
    [
        (b"\xff\xfe\xfd", "invalid_encoding"),
        (b'{"message": "caf\xe9"}', "invalid_encoding"),
        (b"{not json", "bad_json"),
        (b"", "bad_json"),
        (b"[]", "bad_body"),
        (b"{}", "missing_field"),
        (b'{"message": 1}', "wrong_type"),
        (b'{"message": {"$ne": null}}', "wrong_type"),
        (b'{"payload": ["x"]}', "wrong_type"),
        (b'{"message": "   "}', "empty_message"),
        (b'{"message": "a", "payload": "/b"}', "both_fields"),
    ],
)
def test_bad_bodies_get_400_json(client, web, raw, code):
    before = len(web.rasa.received)
    assert_json_error(client.chat(raw), 400, code)
    assert len(web.rasa.received) == before  # nothing reached Rasa


def test_wrong_content_type_still_parsed_as_json(client):
    response = client.request("POST", "/api/chat", body=b'{"message": "hallo"}',
                              headers={"Content-Type": "text/plain", "Origin": client.origin})
    assert response.status == 200


def test_100000_characters_are_cut_with_a_notice(client, web):
    response = client.chat({"message": "x" * 100_000})
    assert response.status == 200
    data = response.json()
    assert data["truncated"] is True
    assert "4.000" in data["notice"]
    assert len(web.rasa.received[-1]["message"]) == 4000


def test_message_at_the_limit_is_not_cut(client, web):
    response = client.chat({"message": "y" * 4000})
    assert response.json()["truncated"] is False and "notice" not in response.json()
    assert len(web.rasa.received[-1]["message"]) == 4000


def test_control_characters_are_removed_before_rasa(client, web):
    response = client.chat({"message": "Hallo\u0000\u0008 Welt\u001b[31m"})
    assert response.status == 200
    assert web.rasa.received[-1]["message"] == "Hallo Welt[31m"


def test_html_and_sql_are_passed_as_plain_text(client, web):
    for text in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                 "'; DROP TABLE events; --", "🙂🙂🙂"]:
        response = client.chat({"message": text})
        assert response.status == 200
        assert web.rasa.received[-1]["message"] == text
        assert response.json()["messages"][0]["text"] == "Echo: " + text


def test_body_over_one_megabyte_gets_413(client, web):
    before = len(web.rasa.received)
    response = client.request("POST", "/api/chat", body=b"{" + b" " * (10 * 1024 * 1024),
                              headers={**JSON, "Origin": client.origin})
    assert_json_error(response, 413, "too_large")
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert len(web.rasa.received) == before


def test_announced_large_body_gets_413_without_sending_it(client):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    conn.putrequest("POST", "/api/chat")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50 * 1024 * 1024))
    conn.endheaders()
    conn.send(b'{"message": "')
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


def test_get_on_chat_gives_405_json(client):
    assert_json_error(client.request("GET", "/api/chat"), 405, "method_not_allowed")


def test_unknown_path_gives_404_json(client):
    assert_json_error(client.request("GET", "/api/nothing"), 404, "not_found")


# ---------------------------------------------------------------- origin
def test_foreign_origin_gets_403(client, web):
    before = len(web.rasa.received)
    assert_json_error(client.chat({"message": "hallo"}, origin="https://evil.example"), 403, "origin_forbidden")
    assert_json_error(client.chat({"message": "hallo"}, origin="null"), 403, "origin_forbidden")
    assert_json_error(client.chat({"message": "hallo"}, origin="http://127.0.0.1:1"), 403, "origin_forbidden")
    assert len(web.rasa.received) == before


def test_foreign_origin_cannot_start_a_new_session(client):
    response = client.request("POST", "/api/session", body=b"{}",
                              headers={**JSON, "Origin": "https://evil.example"})
    assert_json_error(response, 403, "origin_forbidden")
    assert not response.set_cookies


def test_request_without_origin_is_served(client):
    assert client.chat({"message": "hallo"}, origin=None).status == 200


def test_allowed_foreign_origin_gets_cors_with_credentials(client):
    response = client.chat({"message": "hallo"}, origin="https://www.dokom21.de")
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == "https://www.dokom21.de"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]


def test_same_origin_gets_no_cors_headers(client):
    response = client.chat({"message": "hallo"})
    assert "access-control-allow-origin" not in response.headers


def test_preflight_for_allowed_and_foreign_origins(client):
    ok = client.request("OPTIONS", "/api/chat", headers={
        "Origin": "https://www.dokom21.de", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert ok.status == 204
    assert ok.headers["access-control-allow-origin"] == "https://www.dokom21.de"
    assert "POST" in ok.headers["access-control-allow-methods"]
    bad = client.request("OPTIONS", "/api/chat", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert bad.status == 403
    assert "access-control-allow-origin" not in bad.headers


# --------------------------------------------------------- Rasa failures
@pytest.mark.parametrize("mode", ["error", "badjson", "notlist"])
def test_broken_rasa_answers_give_503(client, web, mode):
    web.rasa.mode = mode
    data = assert_json_error(client.chat({"message": "hallo"}), 503, "upstream_unavailable")
    assert "nicht erreichbar" in data["error"]


def test_slow_rasa_gives_503_within_the_time_limit(client, web):
    web.rasa.mode = "slow"
    started = time.monotonic()
    response = client.chat({"message": "hallo"})
    elapsed = time.monotonic() - started
    assert_json_error(response, 503, "upstream_timeout")
    assert elapsed < 3.0  # upstream_timeout is 1 s in these tests


def test_empty_rasa_answer_becomes_the_apology(client, web):
    # Rasa answers [] when the action server is down (tests/unit/test_web_faults.py).
    web.rasa.mode = "empty"
    response = client.chat({"message": "hallo"})
    assert response.status == 200
    [message] = response.json()["messages"]
    assert "support@dokom21.de" in message["text"]


def test_rasa_down_gives_503_quickly():
    with Running(rasa_down=True) as running:
        client = running.client()
        started = time.monotonic()
        response = client.chat({"message": "hallo"})
        assert time.monotonic() - started < 3.0
        data = assert_json_error(response, 503, "upstream_unavailable")
        assert response.headers.get("retry-after")
        assert response.cookie(COOKIE_NAME)  # the conversation is kept for the retry
        assert "Mailhilfe" in data["error"]


def test_several_rasa_servers_fail_over_to_a_running_one():
    with Running(dead_rasa_first=True) as running:
        client = running.client()
        statuses = [client.chat({"message": f"m{i}"}).status for i in range(4)]
        assert statuses == [200] * 4
        assert len(running.rasa.received) == 4  # every message answered exactly once


def test_default_time_limit_is_ten_seconds():
    from bot.web.settings import Settings

    assert Settings().upstream_timeout == 10.0


# ---------------------------------------------------------- rate limits
def test_flood_from_one_session_gets_429_then_recovers():
    settings = make_settings(rate_limit_messages=5, rate_limit_window=1.0)
    with Running(settings) as running:
        client = running.client()
        statuses = [client.chat({"message": f"m{i}"}).status for i in range(8)]
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429] * 3
        limited = client.chat({"message": "noch eine"})
        data = assert_json_error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert "Sekunden" in data["error"]
        other = running.client()
        assert other.chat({"message": "hallo"}).status == 200  # other sessions unaffected
        time.sleep(1.1)
        assert client.chat({"message": "wieder da"}).status == 200


def test_flood_of_new_sessions_from_one_address_gets_429():
    settings = make_settings(new_sessions_per_minute=3)
    with Running(settings) as running:
        statuses = [running.client().chat({"message": "hallo"}).status for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]


# ------------------------------------------------------------- redaction
def test_password_is_removed_before_rasa_and_reported_as_metadata(client, web):
    response = client.chat({"message": "Mein Passwort ist Sommer2024! und Outlook geht nicht"})
    assert response.status == 200
    sent = web.rasa.received[-1]
    assert "Sommer2024" not in json.dumps(sent)
    assert PLACEHOLDER in sent["message"]
    assert sent["metadata"] == {"redacted": ["password"]}


def test_normal_password_talk_reaches_rasa_unchanged(client, web):
    client.chat({"message": "Ich habe mein Passwort vergessen"})
    assert web.rasa.received[-1]["message"] == "Ich habe mein Passwort vergessen"
    assert web.rasa.received[-1]["metadata"] == {}


def test_password_never_appears_in_the_app_log(web, caplog):
    client = web.client()
    web.rasa.mode = "echo"
    with caplog.at_level("DEBUG"):
        client.chat({"message": "Kennwort: Zebra-77-Streifen bitte prüfen"})
        web.rasa.mode = "error"
        client.chat({"message": "pw=Zebra-77-Streifen"})
        client.chat(b'{"message": "Kennwort: Zebra-77-Streifen"')  # bad JSON
    web.rasa.mode = "echo"
    assert "Zebra-77-Streifen" not in caplog.text
    assert "bitte prüfen" not in caplog.text  # no message text at all


def test_unexpected_error_towards_rasa_is_a_503_not_a_500(client, web, monkeypatch):
    import bot.web.chat as chat_module

    async def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(chat_module, "send_balanced", broken)
    assert_json_error(client.chat({"message": "hallo"}), 503, "upstream_unavailable")


def test_body_far_over_the_drain_limit_is_refused_without_hanging(client):
    import http.client
    import socket

    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    started = time.monotonic()
    try:
        conn.request("POST", "/api/chat", body=b"{" + b" " * (20 * 1024 * 1024),
                     headers={**JSON, "Origin": client.origin})
        status = conn.getresponse().status
    except (ConnectionError, socket.timeout, http.client.HTTPException):
        status = None  # the server may close the connection once it has answered
    finally:
        conn.close()
    assert status in (413, None)
    assert time.monotonic() - started < 10


def test_chunked_upload_is_read_and_limited(client, web):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    conn.request("POST", "/api/chat", body=iter([b'{"message": ', b'"hallo chunked"}']),
                 headers={**JSON, "Origin": client.origin}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 200
    conn.close()
    assert web.rasa.received[-1]["message"] == "hallo chunked"
