"""Agent assist: a widget conversation from Rasa's tracker, for the agent."""
from bot.assist.conversation import summarise_tracker

TRACKER = {
    "sender_id": "abc123",
    "slots": {"client": "outlook", "protocol": "imap", "encryption": None,
              "handover_summary": "Outlook, IMAP: Senden scheitert; Schritte 1-2 ohne Erfolg.",
              "session_started_metadata": {"x": 1}},
    "latest_message": {"intent": {"name": "human_handoff", "confidence": 0.9}},
    "active_loop": {},
    "events": [
        {"event": "action", "name": "action_session_start", "timestamp": 1700000000.0},
        {"event": "user", "text": "Mein Passwort ist Sommer2024!", "timestamp": 1700000001.5,
         "parse_data": {"intent": {"name": "login_problem", "confidence": 0.87123}}},
        {"event": "bot", "text": "Welches Programm nutzen Sie?", "timestamp": 1700000002.0,
         "data": {"buttons": [{"title": "Outlook", "payload": "/inform"}]}},
        {"event": "slot", "name": "client", "value": "outlook"},
        {"event": "bot", "text": None, "data": {}},
        {"event": "user", "text": "<script>alert(1)</script>", "timestamp": 1700000003.0,
         "parse_data": {"intent": {"name": "out_of_scope", "confidence": 0.5}}},
    ],
}


def test_transcript_slots_and_handover():
    summary = summarise_tracker(TRACKER)
    assert [t["sender"] for t in summary["transcript"]] == ["user", "bot", "user"]
    assert summary["transcript"][0]["intent"] == {"name": "login_problem", "confidence": 0.8712}
    assert summary["transcript"][0]["timestamp"] == "2023-11-14T22:13:21+00:00"
    assert summary["transcript"][1]["buttons"] == ["Outlook"]
    assert summary["slots"] == {"client": "outlook", "protocol": "imap",
                                "handover_summary": TRACKER["slots"]["handover_summary"]}
    assert summary["handover_summary"].startswith("Outlook, IMAP")
    assert summary["latest_intent"] == "human_handoff"
    assert summary["turns"] == 3


def test_passwords_in_old_trackers_are_masked():
    summary = summarise_tracker(TRACKER)
    assert "Sommer2024" not in str(summary)


def test_customer_markup_is_kept_as_plain_text():
    assert summarise_tracker(TRACKER)["transcript"][2]["text"] == "<script>alert(1)</script>"


def test_empty_tracker_is_none():
    assert summarise_tracker({"sender_id": "x", "events": [{"event": "action", "name": "action_listen"}]}) is None
    assert summarise_tracker({}) is None


def test_structured_handover_summary_is_passed_on_masked():
    tracker = dict(TRACKER, slots={"handover_summary": {
        "topic": "login_problem", "client": "outlook", "steps_tried": ["Kennwort geprüft"],
        "text": "Kunde schrieb: Passwort: Geheim123!"}})
    summary = summarise_tracker(tracker)
    handover = summary["handover_summary"]
    assert handover["topic"] == "login_problem" and handover["steps_tried"] == ["Kennwort geprüft"]
    assert "Geheim123" not in handover["text"]
