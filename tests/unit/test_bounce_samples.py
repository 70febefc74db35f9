"""Hand-written samples for what the real-bounce corpus lacks (German
provider texts, the FAQ's cases, Outlook's dialog, NUL characters, ...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.bounce import CATEGORIES, analyse

SAMPLES = Path(__file__).parent / "bounce_samples"
EXPECTED: dict[str, dict] = yaml.safe_load((SAMPLES / "expected.yml").read_text(encoding="utf-8"))


def _analyse_file(name: str) -> dict:
    return analyse((SAMPLES / name).read_bytes()).to_dict()


def test_every_sample_has_an_expectation() -> None:
    files = {p.name for p in SAMPLES.iterdir() if p.name != "expected.yml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(name: str) -> None:
    expected = dict(EXPECTED[name])
    result = _analyse_file(name)
    evidence = expected.pop("evidence_contains", None)
    if evidence is not None:
        assert result["evidence"] and evidence.lower() in result["evidence"].lower(), result
    for key, value in expected.items():
        assert result[key] == value, f"{name}: {key} is {result[key]!r}, expected {value!r}\n{result}"
    assert result["category"] in CATEGORIES
    assert result["article_id"] == f"bounce_{result['category']}"
    if result["category"] != "unknown":
        assert result["is_bounce"] is True
        assert result["evidence"]
        assert result["diagnostic"]
    json.dumps(result)  # the agent-assist API sends it as JSON


@pytest.mark.parametrize("name", ["faq_c_relay_remote.txt", "gmail_5_7_26.eml", "temporary_greylisted.eml"])
def test_line_endings_do_not_matter(name: str) -> None:
    raw = (SAMPLES / name).read_bytes().replace(b"\r\n", b"\n")
    lf = analyse(raw).to_dict()
    crlf = analyse(raw.replace(b"\n", b"\r\n")).to_dict()
    cr = analyse(raw.replace(b"\n", b"\r")).to_dict()
    assert lf == crlf == cr


def test_text_and_bytes_give_the_same_result() -> None:
    raw = (SAMPLES / "gmx_de_unknown.txt").read_bytes()
    assert analyse(raw).to_dict() == analyse(raw.decode("utf-8")).to_dict()


def test_latin1_encoded_paste_is_understood() -> None:
    text = (SAMPLES / "webde_mailbox_full.txt").read_text(encoding="utf-8")
    result = analyse(text.encode("latin-1")).to_dict()
    assert result["category"] == "recipient_mailbox_full"


def test_mojibake_paste_is_repaired() -> None:
    text = "Fehler 550: Empfänger unbekannt <hans@example.de>"
    garbled = text.encode("utf-8").decode("latin-1")  # "EmpfÃ¤nger"
    assert analyse(garbled).category == "recipient_unknown"


def test_faq_relay_cases_differ_only_in_variant() -> None:
    remote = _analyse_file("faq_c_relay_remote.txt")
    local = _analyse_file("faq_d_outlook_unzustellbar.txt")
    assert remote["category"] == local["category"] == "relay_denied"
    assert (remote["variant"], local["variant"]) == ("remote_server", "local_client")


@pytest.mark.parametrize(
    "text, category",
    [
        ("554 5.7.1 <a@example.org>: Client host rejected: blocked using zen.spamhaus.org", "dnsbl"),
        ("550 5.7.1 Email rejected per DMARC policy for example.de", "sender_auth"),
        ("552 5.3.4 Message size exceeds fixed maximum message size", "message_too_large"),
        ("552-5.2.3 Your message exceeded Google's message size limits.", "message_too_large"),
        ("550 5.2.2 <b@example.org>... Mailbox Full", "recipient_mailbox_full"),
        ("550 5.1.1 The email account that you tried to reach does not exist.", "recipient_unknown"),
        ("554 5.6.0 Message contains NUL characters.", "nul_characters"),
        ("550 5.7.1 Unable to relay for c@example.org", "relay_denied"),
        ("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "relay_denied"),
        ("421 4.7.0 Try again later, closing connection.", "temporary"),
        ("451 4.7.1 Greylisting in action, please come back later", "temporary"),
        ("550 5.7.1 Message content rejected, UBE, id=12345-01", "spam_content"),
        ("554 5.7.1 The message was rejected because it contains a virus", "spam_content"),
        ("550 Requested action not taken: mailbox unavailable", "recipient_unknown"),
        ("Fehler 554: Ihre Nachricht wurde als Spam eingestuft", "spam_content"),
        ("550 5.1.1 Benutzer unbekannt", "recipient_unknown"),
        ("552 Nachricht zu groß (maximal 50 MB)", "message_too_large"),
        ("Unzustellbar: Das Postfach des Empfängers ist voll.", "recipient_mailbox_full"),
    ],
)
def test_one_liners(text: str, category: str) -> None:
    result = analyse(text)
    assert result.category == category, result.to_dict()
    assert result.is_bounce


def test_phrase_beats_enhanced_code_beats_basic_code() -> None:
    # 5.7.1 alone says little; the wording decides.
    assert analyse("550 5.7.1 Relay access denied").category == "relay_denied"
    # An enhanced code decides over a bare basic code.
    assert analyse("550 5.1.1 rejected").category == "recipient_unknown"
    # A 4xx code alone is only "temporary" ...
    assert analyse("450 4.0.0 rejected").category == "temporary"
    # ... unless the wording names the cause.
    assert analyse("452 4.2.2 Mailbox over quota").category == "recipient_mailbox_full"


def test_unknown_cause_is_still_a_bounce() -> None:
    result = analyse("Mail delivery failed: returning message to sender\n\n550 rejected by policy").to_dict()
    assert result["is_bounce"] is True
    assert result["category"] == "unknown"
    assert result["smtp_code"] == "550"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hallo, ich habe eine Frage zu meinem Passwort.",
        "Ich bekomme zu viel Spam, was kann ich tun?",
        "Bin ich auf einer Blacklist? Meine Mails kommen nicht an.",
        "Wie groß darf ein Anhang sein? Meine Nachricht ist zu groß.",
        "Ich habe 500 Mails im Posteingang.",
    ],
)
def test_customer_questions_are_not_bounces(text: str) -> None:
    result = analyse(text).to_dict()
    assert result["category"] == "unknown"
    assert result["is_bounce"] is False
    assert result["article_id"] == "bounce_unknown"
