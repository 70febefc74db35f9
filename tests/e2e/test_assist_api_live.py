"""Agent-assist API against the real stack (web app + Rasa + action server)."""
from __future__ import annotations

import secrets
import time

import pytest
import requests

pytestmark = pytest.mark.stack

SECRET = "Xq7!dokom99"
RELAY_BOUNCE = (
    "Hallo, ich bekomme diese Fehlermeldung:\n\n"
    "This message was created automatically by mail delivery software.\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n"
    "SMTP error from remote mail server after RCPT TO:<xy@z.de>:\n"
    "host z.de [192.0.2.10]: 554 <xy@z.de>:\n"
    "Relay access denied\n"
)
TWO_QUESTIONS = (
    "Guten Tag,\n\n"
    "seit gestern kann ich mit Outlook keine E-Mails mehr verschicken. Was kann ich tun?\n\n"
    "Und wie groß darf ein Anhang eigentlich sein?\n\n"
    "Mit freundlichen Grüßen\nErika Musterfrau\n\n"
    "Am 01.03.2024 um 09:00 schrieb DOKOM21 Support <support@dokom21.de>:\n"
    "> Guten Tag, mein Postfach ist voll und ich möchte eine Weiterleitung einrichten.\n"
)


@pytest.fixture(scope="module", autouse=True)
def nlu_ready(live_stack):
    """Wait until the web app gets answers from Rasa (its first parse is slow)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = post(live_stack, {"text": "Outlook einrichten"})
        if response.status_code == 200 and response.json()["nlu_available"]:
            return
        time.sleep(2)
    pytest.fail("the assist API got no answer from Rasa within 120 s", pytrace=False)


def post(stack, body=None, token="valid", raw=None, timeout=30):
    headers = {"Content-Type": "application/json"}
    if token == "valid":
        headers["Authorization"] = f"Bearer {stack.assist_token}"
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if raw is None:
        return requests.post(f"{stack.web_url}/api/assist", json=body, headers=headers, timeout=timeout)
    return requests.post(f"{stack.web_url}/api/assist", data=raw, headers=headers, timeout=timeout)


def get(stack, path, token="valid"):
    headers = {"Authorization": f"Bearer {stack.assist_token if token == 'valid' else token}"} if token else {}
    return requests.get(f"{stack.web_url}{path}", headers=headers, timeout=30)


@pytest.mark.parametrize("token", [None, "wrong", "valid-but-not"])
def test_401_without_valid_token(live_stack, token):
    response = post(live_stack, {"text": "Outlook einrichten"}, token=token)
    assert response.status_code == 401
    assert response.content == b""


def test_400_cases(live_stack):
    assert post(live_stack, raw=b"{kaputt").status_code == 400
    assert post(live_stack, {"message": "x"}).status_code == 400
    assert post(live_stack, {"text": 42}).status_code == 400
    too_long = post(live_stack, {"text": "x" * 100_001})
    assert too_long.status_code == 400
    assert isinstance(too_long.json()["error"], str)


def test_contract_fields_for_a_setup_question(live_stack):
    response = post(live_stack, {"text": "Wie richte ich Outlook mit IMAP ein?"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["intent"]["name"] == "setup_client"
    assert isinstance(answer["intent"]["confidence"], float) and answer["intent"]["confidence"] > 0
    assert answer["intent_ranking"] and all(
        isinstance(i["name"], str) and isinstance(i["confidence"], float) for i in answer["intent_ranking"])
    values = {(e["entity"], e["value"]) for e in answer["entities"]}
    assert {("client", "outlook"), ("protocol", "imap")} <= values
    assert all(isinstance(e["text"], str) and e["text"] for e in answer["entities"])
    assert answer["bounce"] is None
    assert 1 <= len(answer["articles"]) <= 3
    assert answer["articles"][0]["id"] == "guide_outlook_imap"
    assert all(isinstance(a["score"], float) for a in answer["articles"])
    assert "imap.dokom.net" in answer["reply"] and "993" in answer["reply"]
    assert answer["nlu_available"] is True
    assert isinstance(answer["low_confidence"], bool)
    assert isinstance(answer["masked_text"], str) and len(answer["questions"]) == 1


def test_a_pasted_bounce(live_stack):
    answer = post(live_stack, {"text": RELAY_BOUNCE}).json()
    bounce = answer["bounce"]
    assert bounce["category"] == "relay_denied"
    assert bounce["smtp_code"] == "554"
    assert "Relay access denied" in bounce["evidence"]
    assert "xy@z.de" in bounce["recipients"]
    assert bounce["fix"]
    assert answer["intent"]["name"] == "report_bounce"
    assert answer["articles"][0]["id"] == "bounce_relay_denied"
    assert "xy@z.de" in answer["reply"]


def test_no_bounce_for_a_normal_question(live_stack):
    assert post(live_stack, {"text": "Wie groß darf ein Anhang sein?"}).json()["bounce"] is None


def test_email_with_two_questions_and_quoted_history(live_stack):
    answer = post(live_stack, {"text": TWO_QUESTIONS}).json()
    questions = answer["questions"]
    assert len(questions) == 2
    assert [q["intent"]["name"] for q in questions] == ["send_problem", "max_message_size"]
    assert not any("Weiterleitung" in q["text"] for q in questions)
    ids = {a["id"] for q in questions for a in q["articles"]}
    assert "problem_send_fails" in ids
    assert "50 MB" in answer["reply"] and "smtp.dokom.net" in answer["reply"]
    assert answer["reply"].startswith("Guten Tag Erika Musterfrau,")


def test_password_is_masked(live_stack):
    response = post(live_stack, {"text": f"Outlook nimmt mein Passwort nicht an. Mein Passwort ist {SECRET}"})
    assert response.status_code == 200
    assert SECRET not in response.text
    answer = response.json()
    assert "[Passwort entfernt]" in answer["masked_text"]
    assert answer["passwords_masked"] >= 1


def test_article_and_conversation_lookup(live_stack):
    view = get(live_stack, "/api/assist/article/problem_send_fails?client=thunderbird&protocol=imap").json()
    assert view["id"] == "problem_send_fails" and view["sections"]
    assert view["related_guide"]["id"] == "guide_thunderbird_smtp"

    sender = "e2e-assist-" + secrets.token_hex(4)
    bot = requests.post(f"{live_stack.rasa_url}/webhooks/rest/webhook",
                        json={"sender": sender, "message": "Ich möchte Outlook einrichten"}, timeout=30)
    assert bot.status_code == 200
    response = get(live_stack, f"/api/assist/conversation/{sender}")
    assert response.status_code == 200
    data = response.json()
    first = data["transcript"][0]
    assert (first["sender"], first["text"]) == ("user", "Ich möchte Outlook einrichten")
    assert any(turn["sender"] == "bot" for turn in data["transcript"])
    assert data["slots"].get("client") == "outlook"
    assert get(live_stack, "/api/assist/conversation/nobody-" + secrets.token_hex(4)).status_code == 404
    assert get(live_stack, f"/api/assist/conversation/{sender}", token="wrong").status_code == 401


@pytest.mark.slow
def test_rasa_down_still_answers_from_the_kb(live_stack):
    live_stack.stop_rasa()
    try:
        response = post(live_stack, {"text": "Mein Postfach ist voll"})
        assert response.status_code == 200
        answer = response.json()
        assert answer["nlu_available"] is False and answer["low_confidence"] is True
        assert answer["articles"] and "300 MB" in answer["reply"]
        assert get(live_stack, "/api/assist/conversation/anyone").status_code == 503
    finally:
        live_stack.start_rasa()
