"""bot.dialogue.bounce: routing of bounce texts (analyser or KB fallback)."""

from __future__ import annotations


import pytest

from bot.dialogue import bounce
from bot.kb import get_kb

KB = get_kb()
RELAY_NDR = """This message was created automatically by mail delivery software.
A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:
SMTP error from remote mail server after RCPT TO:<xy@z.de>:
host z.de [10.1.2.3]: 554 <xy@z.de>: Relay access denied"""


@pytest.mark.parametrize("text", ["Fehler 554", "554", "Ich habe einen Fehler", ""])
def test_bare_code_or_question_is_not_a_pasted_bounce(text):
    assert not bounce.is_pasted_bounce(text, bounce.classify(text, KB))


def test_pasted_report_is_recognised_and_classified():
    info = bounce.classify(RELAY_NDR, KB)
    assert bounce.is_pasted_bounce(RELAY_NDR, info)
    assert info.category == "relay_denied" and "554" in info.codes


@pytest.mark.parametrize("text,category", [
    ("Relay access denied", "relay_denied"),
    ("554 5.6.0 Message contains NUL characters", "nul_characters"),
    ("550 5.7.26 unauthenticated sender", "sender_auth"),
])
def test_wording_decides_the_category(text, category):
    info = bounce.classify(text, KB)
    assert info.category == category and info.decided_by_wording


def test_fallback_uses_the_kb_wording(monkeypatch):
    monkeypatch.setattr(bounce, "_analyse", None)
    info = bounce.classify(RELAY_NDR, KB)
    assert info.category == "relay_denied" and info.is_bounce
    assert not bounce.classify("Fehler 554", KB).decided_by_wording


def test_broken_analyser_falls_back(monkeypatch):
    def broken(_):
        raise RuntimeError("boom")
    monkeypatch.setattr(bounce, "_analyse", broken)
    assert bounce.classify(RELAY_NDR, KB).category == "relay_denied"


@pytest.mark.parametrize("text,expected", [
    (RELAY_NDR, True),
    ("Mail delivery failed: returning message to sender", True),
    ("Welcher Port für IMAP?", False),
    ("", False),
    ("5.7.26", True),
])
def test_cheap_prefilter(text, expected):
    assert bounce.looks_like_bounce(text) is expected


def test_non_text_input_never_raises():
    assert bounce.classify(None, KB).category == "unknown"  # type: ignore[arg-type]
    assert not bounce.is_pasted_bounce(None, bounce.BounceInfo())  # type: ignore[arg-type]
