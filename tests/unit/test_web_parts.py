"""The web app's small parts: settings, session cookie signing, rate limiter, input parsing,
texts."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.web.chat_input import InputError, clean_text, parse_chat_body
from bot.web.messages import error_text, load_messages, widget_texts
from bot.web.ratelimit import RateLimiter
from bot.web.session import SessionSigner
from bot.web.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------- settings
def test_settings_defaults_from_empty_environment():
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.upstream_timeout == 10.0
    assert settings.max_message_chars == 4000
    assert settings.max_body_bytes == 1024 * 1024
    assert len(settings.session_secret) >= 32
    assert settings.allowed_origins == ()


def test_settings_read_the_documented_variables():
    settings = Settings.from_env(
        {
            "WEB_PORT": "9000", "WEB_HOST": "0.0.0.0", "RASA_URL": "http://127.0.0.1:5999/",
            "RASA_TOKEN": "rt", "ASSIST_TOKEN": "at", "SESSION_SECRET": "s" * 40,
            "ALLOWED_ORIGINS": "https://www.dokom21.de, https://Hilfe.Dokom21.de/ ,",
        }
    )
    assert settings.port == 9000 and settings.host == "0.0.0.0"
    assert settings.rasa_url == "http://127.0.0.1:5999"
    assert (settings.rasa_token, settings.assist_token) == ("rt", "at")
    assert settings.session_secret == b"s" * 40
    assert settings.allowed_origins == ("https://www.dokom21.de", "https://hilfe.dokom21.de")


def test_generated_session_secrets_differ():
    assert Settings.from_env({}).session_secret != Settings.from_env({}).session_secret


def test_bad_number_in_environment_is_named():
    with pytest.raises(ValueError, match="WEB_PORT"):
        Settings.from_env({"WEB_PORT": "acht"})


# ---------------------------------------------------------------- session
class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_cookie_round_trip_and_unguessable_ids():
    signer = SessionSigner(b"k" * 32, max_age=3600)
    ids = {signer.new_conversation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    conversation = next(iter(ids))
    assert signer.conversation_id(signer.cookie_value(conversation)) == conversation


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),           # signature changed
        lambda v: v.replace(v.split(".")[1], "0" * 32),              # browser-chosen id
        lambda v: "v2" + v[2:],                                      # unknown version
        lambda v: v + ".x",                                          # extra part
        lambda v: "",                                                # empty
        lambda v: "v1.abc.1.sig",                                    # malformed id
        lambda v: v.replace(v.split(".")[2], "notanumber"),          # bad time
        lambda v: "x" * 500,                                         # huge
    ],
)
def test_forged_or_broken_cookies_are_rejected(mangle):
    signer = SessionSigner(b"k" * 32, max_age=3600)
    value = signer.cookie_value(signer.new_conversation_id())
    assert signer.conversation_id(mangle(value)) is None


def test_cookie_from_another_secret_is_rejected():
    one = SessionSigner(b"a" * 32, max_age=3600)
    other = SessionSigner(b"b" * 32, max_age=3600)
    assert other.conversation_id(one.cookie_value(one.new_conversation_id())) is None


def test_cookie_expires_after_max_age():
    clock = Clock()
    signer = SessionSigner(b"k" * 32, max_age=100, clock=clock)
    value = signer.cookie_value("a" * 32)
    clock.now += 99
    assert signer.conversation_id(value) == "a" * 32
    clock.now += 2
    assert signer.conversation_id(value) is None


def test_short_secret_is_refused():
    with pytest.raises(ValueError):
        SessionSigner(b"short", max_age=10)


# ------------------------------------------------------------- rate limit
def test_rate_limiter_allows_limit_then_refuses_until_window_passes():
    clock = Clock(0.0)
    limiter = RateLimiter(3, 10.0, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.hit("a")
    assert 9.9 < wait <= 10.0
    assert limiter.hit("b") == 0.0  # other sessions are not affected
    clock.now = 10.01
    assert limiter.hit("a") == 0.0


def test_rate_limiter_memory_is_bounded():
    limiter = RateLimiter(5, 60.0, max_keys=100)
    for i in range(1000):
        limiter.hit(f"key{i}")
    assert len(limiter) == 100


def test_rate_limiter_zero_means_unlimited():
    limiter = RateLimiter(0, 60.0)
    assert all(limiter.hit("a") == 0.0 for _ in range(100))


# ------------------------------------------------------------ chat input
def body(obj) -> bytes:
    return json.dumps(obj).encode("utf-8")


@pytest.mark.parametrize(
    "raw,code",
    [
        (b"\xff\xfe\x00", "invalid_encoding"),
        (b'{"message": "\xc3\x28"}', "invalid_encoding"),
        (b"", "bad_json"),
        (b"{", "bad_json"),
        (b"message=hallo", "bad_json"),
        (b"[" * 100_000, "bad_json"),
        (body(["hallo"]), "bad_body"),
        (body("hallo"), "bad_body"),
        (body(None), "bad_body"),
        (body({}), "missing_field"),
        (body({"text": "hallo"}), "missing_field"),
        (body({"message": None}), "missing_field"),
        (body({"message": "a", "payload": "/b"}), "both_fields"),
        (body({"message": 42}), "wrong_type"),
        (body({"message": ["a"]}), "wrong_type"),
        (body({"message": {"text": "a"}}), "wrong_type"),
        (body({"message": True}), "wrong_type"),
        (body({"payload": 1}), "wrong_type"),
        (body({"message": ""}), "empty_message"),
        (body({"message": "   \n\t "}), "empty_message"),
        (body({"message": "\x00\x01\x02"}), "empty_message"),
        (body({"payload": "/" + "x" * 1000}), "payload_too_long"),
    ],
)
def test_bad_bodies_name_their_problem(raw, code):
    with pytest.raises(InputError) as info:
        parse_chat_body(raw, max_message_chars=4000, max_payload_chars=1000)
    assert info.value.code == code


def test_long_message_is_cut_to_the_limit():
    parsed = parse_chat_body(body({"message": "a" * 100_000}), 4000, 1000)
    assert parsed.truncated and len(parsed.text) == 4000 and parsed.original_chars == 100_000


def test_payload_is_kept_and_marked():
    parsed = parse_chat_body(body({"payload": '/inform{"protocol":"imap"}'}), 4000, 1000)
    assert parsed.is_payload and parsed.text == '/inform{"protocol":"imap"}' and not parsed.truncated


def test_control_characters_and_lone_surrogates_are_removed():
    raw = b'{"message": "Hallo\\u0000 Welt\\u0007\\r\\nZeile\\ud800 \\u202e zwei"}'
    parsed = parse_chat_body(raw, 4000, 1000)
    assert parsed.text == "Hallo Welt\nZeile \u202e zwei"
    parsed.text.encode("utf-8")  # no lone surrogate left


def test_clean_text_keeps_emoji_umlauts_and_html_as_text():
    assert clean_text("  Grüße 👋🏽 <script>alert(1)</script>\n\n\n\nEnde ") == \
        "Grüße 👋🏽 <script>alert(1)</script>\n\nEnde"


# ------------------------------------------------------------------ texts
def test_all_error_codes_used_in_code_have_a_german_text():
    messages = load_messages()
    used = set()
    for path in (ROOT / "bot" / "web").glob("*.py"):
        used |= set(re.findall(r"(?:json_error\(\d+, |InputError\()\"(\w+)\"", path.read_text()))
    used |= set(re.findall(r'"(\w+)"', (ROOT / "bot" / "web" / "errors.py").read_text())) & set(messages["errors"])
    assert used, "no error codes found"
    assert used <= set(messages["errors"]), used - set(messages["errors"])
    assert error_text("rate_limited", seconds=7).count("7") == 1


def test_widget_texts_cover_what_the_widget_uses():
    script = (ROOT / "bot" / "web" / "static" / "widget.js").read_text()
    used = set(re.findall(r"\bT\.(\w+)", script))
    assert used <= set(widget_texts()), used - set(widget_texts())
