"""The dialogue over the REST channel of the real stack (Rasa server + action server).

Each test plays one conversation with a fresh sender id and checks the facts in the
bot's replies (hosts, ports, quota, support address) and the hand-over slot.
"""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.stack

RELAY_DENIED_NDR = """Mail delivery failed: returning message to sender
This message was created automatically by mail delivery software.
A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:
SMTP error from remote mail server after RCPT TO:<kunde@beispiel.dee>:
host beispiel.dee [192.0.2.10]: 554 <kunde@beispiel.dee>: Relay access denied"""


class Chat:
    """One conversation over Rasa's REST channel."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.sender = f"e2e-{uuid.uuid4().hex[:12]}"
        self.replies: list[dict] = []

    def say(self, message: str) -> str:
        response = requests.post(f"{self.stack.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": self.sender, "message": message}, timeout=60)
        response.raise_for_status()
        self.replies = response.json()
        assert self.replies, f"no answer to {message!r}"
        return self.text

    @property
    def text(self) -> str:
        return "\n\n".join(r.get("text") or "" for r in self.replies)

    @property
    def buttons(self) -> list[dict]:
        return [b for r in self.replies for b in r.get("buttons") or []]

    def click(self, title: str) -> str:
        payload = next((b["payload"] for b in self.buttons if b["title"] == title), None)
        assert payload, f"no button {title!r} in {[b['title'] for b in self.buttons]}"
        return self.say(payload)

    def slots(self) -> dict:
        response = requests.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.stack.rasa_token}, timeout=30)
        response.raise_for_status()
        return response.json()["slots"]


@pytest.fixture
def chat(live_stack):
    return Chat(live_stack)


def test_outlook_imap_setup(chat):
    text = chat.say("Ich möchte Outlook mit IMAP einrichten")
    for fact in ("`imap.dokom.net`", "`993`", "`143`", "`smtp.dokom.net`", "`465`", "SPA",
                 "SMTP-Authentifizierung", "Schritt 1 von", "Hat das geklappt?"):
        assert fact in text, fact
    assert {b["title"] for b in chat.buttons} >= {"Ja", "Nein"}
    assert chat.slots()["client"] == "outlook" and chat.slots()["protocol"] == "imap"
    assert "Schritt 2 von" in chat.click("Ja")


def test_thunderbird_pop3_setup_asks_for_the_protocol(chat):
    text = chat.say("Ich will mein Postfach in Thunderbird einrichten")
    assert "IMAP" in text and "POP3" in text
    text = chat.click("POP3")
    for fact in ("Mozilla Thunderbird", "`pop3.dokom.net`", "`995`", "`smtp.dokom.net`",
                 "Schritt 1 von"):
        assert fact in text, fact
    assert "imap.dokom.net" not in text
    chat.click("Ja")
    assert "Schritt 2 von" in chat.text


def test_pasted_relay_access_denied_bounce(chat):
    text = chat.say("Ich bekomme beim Senden Fehler 554")
    assert "Fehlermeldung" in text
    assert "Relay access denied" in {b["title"] for b in chat.buttons}
    text = chat.say(RELAY_DENIED_NDR)
    assert "Relay access denied" in text and "@" in text
    assert "Hat Ihnen das weitergeholfen?" in text
    assert "kunde@beispiel.dee" not in text, "the customer's text is never echoed"
    slots = chat.slots()
    assert slots["bounce_category"] == "relay_denied" and slots["topic"] == "report_bounce"


def test_mailbox_full_with_pop3(chat):
    text = chat.say("Mein Postfach ist voll")
    assert "300 MB" in text
    chat.click("POP3")
    text = chat.click("Outlook")
    assert "Kopie aller Nachrichten auf dem Server belassen" in text
    assert "Hat das geklappt?" in text
    text = chat.click("Ja")
    assert "Webagent" in text


def test_handover_after_two_failed_attempts(chat):
    chat.say("Ich möchte Outlook mit IMAP einrichten")
    chat.click("Nein")
    assert "Hat es jetzt geklappt?" in chat.text
    text = chat.click("Nein")
    for fact in ("Microsoft Outlook", "IMAP", "support@dokom21.de", "Bereits versucht"):
        assert fact in text, fact
    summary = chat.slots()["handover_summary"]
    assert summary["client"] == "outlook" and summary["steps_tried"]


def test_handover_on_request(chat):
    text = chat.say("Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert "support@dokom21.de" in text
    assert chat.slots()["handover_summary"]["text"]


def test_port_question_is_answered_without_questions_back(chat):
    text = chat.say("Welcher Port für SMTP mit STARTTLS?")
    assert "`587`" in text and "`smtp.dokom.net`" in text and "?" not in text.split("\n")[-1]
