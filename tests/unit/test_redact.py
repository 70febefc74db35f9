"""bot.redact: passwords and credentials are masked, normal talk is not."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.redact import (
    KIND_CREDENTIAL_LINE, KIND_CREDENTIAL_PAIR, KIND_PASSWORD, PLACEHOLDER, Redaction, redact,
)

SECRETS = [
    ("mein Passwort ist Sommer2024!", "Sommer2024!"),
    ("Mein Passwort ist sonnenblume", "sonnenblume"),
    ("Kennwort: geheim", "geheim"),
    ("kennwort:geheim99", "geheim99"),
    ("pw=abc123", "abc123"),
    ("Login mit user=max&pw=Xy7!q", "Xy7!q"),
    ("passwort lautet hallo123", "hallo123"),
    ("Das Passwort lautet: Tr0ub4dor", "Tr0ub4dor"),
    ("PW: xYz!9", "xYz!9"),
    ("password: hunter2", "hunter2"),
    ("my password is hunter2", "hunter2"),
    ("Passwort:\nGeheim123", "Geheim123"),
    ("Neues Passwort: Sommer 2024", "Sommer 2024"),
    ("Das E-Mail-Passwort ist \"Sommer 2024\" oder so", "Sommer 2024"),
    ("Mein Postfachkennwort ist jetzt Fr8hling", "Fr8hling"),
    ("mit dem Passwort Abc12345 klappt es nicht", "Abc12345"),
    ("Das Passwort heißt „Maus&Katze“", "Maus&Katze"),
    ("Passwort = qwertz", "qwertz"),
    ("pwd: 9f8e7d", "9f8e7d"),
    ("Kennwort war immer noch Winter#1", "Winter#1"),
]

CREDENTIAL_LINES = [
    ("Benutzername: max@dokom.net\nGeheim123!", "Geheim123!", KIND_CREDENTIAL_LINE),
    ("Benutzer: max.mustermann\nS3cret-pass", "S3cret-pass", KIND_CREDENTIAL_LINE),
    ("max@dokom.net\nHundeK0rb", "HundeK0rb", KIND_CREDENTIAL_LINE),
    ("Geheim123!\nE-Mail: max@dokom.net", "Geheim123!", KIND_CREDENTIAL_LINE),
    ("max@dokom.net:Geheim1", "Geheim1", KIND_CREDENTIAL_PAIR),
    ("Zugangsdaten: max@dokom.net / Geheim1", "Geheim1", KIND_CREDENTIAL_PAIR),
    ("max@dokom.net Sommer2024", "Sommer2024", KIND_CREDENTIAL_PAIR),
]

NORMAL_TALK = [
    "Ich habe mein Passwort vergessen",
    "Passwort ändern",
    "Wie kann ich mein Passwort ändern?",
    "Passwort wird nicht akzeptiert",
    "Mein Passwort ist falsch",
    "Mein Passwort ist abgelaufen",
    "Das Passwort ist zu kurz",
    "Mein Passwort ist seit gestern gesperrt",
    "Mein Passwort ist gespeichert",
    "Das Passwort ist 8 bis 12 Zeichen lang",
    "Wie lang darf das Passwort sein?",
    "Welche Sonderzeichen darf ein Passwort enthalten?",
    "Passwort-Regeln: 8 bis 12 Zeichen",
    "Passwort: wie lang darf es sein?",
    "Passwort: Ihr DOKOM21-E-Mail-Kennwort",
    "Authentifizierungsmethode: Passwort, normal",
    "Aktivieren Sie die Option Passwort speichern",
    "Outlook fragt ständig nach dem Passwort",
    "Thunderbird will immer wieder das Kennwort",
    "My password is not working",
    "max@dokom.net funktioniert nicht",
    "Ich schreibe an max@dokom.net, danke",
    "Benutzername: max@dokom.net\nDanke!",
    "Server imap.dokom.net Port 993 SSL/TLS",
    "Fehler 554 5.7.1 Relay access denied",
    "Mail delivery failed: returning message to sender",
    "Ich möchte Outlook einrichten",
    "Mein Reisepass ist abgelaufen",
    "",
]


@pytest.mark.parametrize("text,secret", SECRETS)
def test_password_after_keyword_is_masked(text, secret):
    result = redact(text)
    assert secret not in result.text
    assert PLACEHOLDER in result.text
    assert result.found == [KIND_PASSWORD]
    assert result.changed


@pytest.mark.parametrize("text,secret,kind", CREDENTIAL_LINES)
def test_credentials_next_to_a_user_name_are_masked(text, secret, kind):
    result = redact(text)
    assert secret not in result.text
    assert kind in result.found
    # the user name itself stays, so the agent still sees which account is meant
    assert ("max" in result.text) or ("Benutzer" in result.text)


@pytest.mark.parametrize("text", NORMAL_TALK)
def test_normal_talk_is_untouched(text):
    result = redact(text)
    assert result == Redaction(text, [])
    assert not result.changed


def test_found_lists_kinds_never_the_secret():
    result = redact("Kennwort: Geheim123\nmax@dokom.net:Zweit99")
    assert result.found == [KIND_PASSWORD, KIND_CREDENTIAL_PAIR]
    assert all(kind in (KIND_PASSWORD, KIND_CREDENTIAL_LINE, KIND_CREDENTIAL_PAIR) for kind in result.found)
    assert "Geheim123" not in " ".join(result.found)


def test_several_secrets_in_one_text_are_all_masked():
    text = "Passwort: eins111 und später pw=zwei222, Kennwort ist drei333"
    result = redact(text)
    for secret in ("eins111", "zwei222", "drei333"):
        assert secret not in result.text


def test_surrounding_text_is_kept():
    result = redact("Hallo, mein Passwort ist Sommer2024 und Outlook sagt Fehler 554.")
    assert result.text == f"Hallo, mein Passwort ist {PLACEHOLDER} und Outlook sagt Fehler 554."


def test_redaction_is_idempotent():
    once = redact("Kennwort: geheim\nPasswort: Sommer 2024\npw=abc123")
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.found == []


def test_non_string_input_gives_empty_text():
    assert redact(None).text == ""  # type: ignore[arg-type]


def test_long_text_is_fast():
    text = ("Mein Outlook zeigt Fehler 554 und passwort " * 2500)[:100_000]
    started = time.monotonic()
    redact(text)
    redact("Passwort:" + "a" * 99_990)
    redact("x@y.de " * 14_000)
    redact("a" * 100_000)
    redact("a.b" * 33_000)
    redact("Passwort ist " * 7_000)
    redact("\n".join(["Benutzer: x"] * 8_000))
    assert time.monotonic() - started < 5.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_string_and_kinds(text):
    result = redact(text)
    assert isinstance(result.text, str)
    assert set(result.found) <= {KIND_PASSWORD, KIND_CREDENTIAL_LINE, KIND_CREDENTIAL_PAIR}
    assert result.changed == (result.text != text) or PLACEHOLDER in text


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from(["", "Hallo, ", "Zur Info: ", "Outlook geht nicht. "]),
    key=st.sampled_from(["Passwort", "Kennwort", "password", "PW", "pw", "Passwort lautet", "Kennwort ist"]),
    connector=st.sampled_from([": ", "=", " : "]),
    secret=st.from_regex(r"[A-Za-z]{3,8}[0-9]{1,4}[!#%&]?", fullmatch=True),
)
def test_generated_passwords_never_survive(prefix, key, connector, secret):
    text = f"{prefix}{key}{connector if not key.endswith(('lautet', 'ist')) else ' '}{secret}"
    assert secret not in redact(text).text
