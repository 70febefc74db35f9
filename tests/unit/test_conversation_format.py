"""The conversation-test format, matching rules, runner, report and recorder (no stack needed)."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from tests.conversations.caseformat import (
    CASES_DIR,
    CaseFormatError,
    Pattern,
    case_files,
    load_all,
    parse_text,
    slugify,
)
from tests.conversations.recorder import cases_to_yaml, extract_facts, tracker_to_case
from tests.conversations.report import write_reports
from tests.conversations.runner import (
    BotMessage,
    ConcurrentRunner,
    RasaError,
    TurnResult,
    check_turn,
    detect_handover,
    play_case,
    render_case,
    turn_events,
)

ROOT = Path(__file__).resolve().parents[2]
FILE = Path("tests/conversations/cases/example.yml")


def parse(text: str):
    return parse_text(text, FILE)


def one_case(turns_yaml: str, name: str = "Beispiel"):
    text = f"cases:\n  - name: {name}\n    turns:\n" + "\n".join("      " + l for l in turns_yaml.strip("\n").splitlines())
    return parse(text)[0]


def error_of(text: str) -> str:
    with pytest.raises(CaseFormatError) as info:
        parse(text)
    return str(info.value)


# ---------------------------------------------------------------------------
# Format validation
# ---------------------------------------------------------------------------
VALID = """
topic: Einrichtung
cases:
  - name: Outlook mit IMAP einrichten
    description: Kunde nennt nur das Programm.
    turns:
      - user: Ich möchte Outlook einrichten
        buttons: [IMAP, POP3]
        slots: {client: outlook, protocol: null}
      - button: IMAP
        must_mention: [imap.dokom.net, 993, [Kennwort, Passwort], "re:SSL\\\\s*/\\\\s*TLS"]
        must_not_mention: weiterleiten
        slots: {protocol: imap}
        handover: false
        note: Die Schritte kommen einzeln.
"""


def test_valid_file_parses_into_cases_and_turns():
    (case,) = parse(VALID)
    assert case.name == "Outlook mit IMAP einrichten"
    assert case.description == "Kunde nennt nur das Programm."
    assert case.line == 4 and case.location.endswith("example.yml:4")
    assert case.test_id == "example/outlook-mit-imap-einrichten"
    first, second = case.turns
    assert first.user == "Ich möchte Outlook einrichten" and first.button is None
    assert [p.source for p in first.buttons] == ["IMAP", "POP3"]
    assert first.slots == {"client": "outlook", "protocol": None}
    assert second.button.source == "IMAP" and second.user is None
    assert [str(m) for m in second.must_mention][:2] == ["'imap.dokom.net'", "'993'"]  # numbers become text
    assert len(second.must_mention[2].alternatives) == 2
    assert second.must_mention[3].alternatives[0].is_regex
    assert [p.source for p in second.must_not_mention] == ["weiterleiten"]  # a single text is a list
    assert second.handover is False and second.note


@pytest.mark.parametrize(
    "turn, expected",
    [
        ("- user: x\n  must_mentoin: [a]", r"turn 1: unknown key 'must_mentoin' .*did you mean 'must_mention'"),
        ("- user: x\n  button: y\n  handover: true", r"exactly one of 'user:'"),
        ("- handover: true", r"exactly one of 'user:'"),
        ("- button: IMAP\n  handover: true", r"turn 1: 'button:' needs buttons offered"),
        ("- user: nein\n  handover: true\n- user: no\n  handover: true", r"turn 2: user: YAML read this as False"),
        ("- user: x\n  must_mention: ['re:(']", r"must_mention item 1: 're:\(' is not a valid regular expression"),
        ("- user: x\n  must_mention: ['re:']", r"regular expression after 're:' is empty"),
        ("- user: x\n  must_mention: []", r"must_mention: expected a non-empty list"),
        ("- user: x\n  must_mention: ['']", r"must_mention item 1: must not be empty"),
        ("- user: x\n  must_not_mention: [[a, b]]", r"list every forbidden text as its own item"),
        ("- user: x\n  handover: ja", r"handover: expected true or false, got 'ja'"),
        ("- user: x\n  slots: [client]", r"slots: expected a block"),
        ("- user: x\n  slots: {client: [a]}", r"slots: client: expected a single value"),
        ("- user: x\n  slots: {client: 're:(('}", r"slots: client: 're:\(\(' is not a valid regular expression"),
        ("- user: x\n  slots: {'mein slot': a}", r"is not a slot name"),
        ("- user: x\n  buttons: [[a]]", r"buttons item 1: expected a button title"),
        ("- user: x", r"the case checks nothing"),
        ("- Hallo", r"turn 1: expected a block with 'user:'"),
    ],
)
def test_invalid_turns_are_reported_with_case_and_turn(turn, expected):
    text = "cases:\n  - name: Fall A\n    turns:\n" + "\n".join("      " + l for l in turn.splitlines())
    message = error_of(text)
    assert re.search(expected, message), message
    assert message.startswith(str(FILE)), message
    assert "case 'Fall A'" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", r"must start with 'cases:'"),
        ("- name: a", r"must start with 'cases:'"),
        ("cases: []", r"'cases:' must be a non-empty list"),
        ("case:\n  - name: a", r"unknown key 'case' .*did you mean 'cases'"),
        ("cases:\n  - name: a\n    turn: []", r"case 'a': unknown key 'turn' .*did you mean 'turns'"),
        ("cases:\n  - name: a\n    turns: []", r"'turns:' must be a non-empty list"),
        ("cases:\n  - turns: [{user: x, handover: true}]", r"case #1: missing 'name:'"),
        ("cases:\n  - name: a\n    name: b\n    turns: []", r"example.yml:3: the key 'name' appears twice"),
        ("cases:\n  - name: [a\n", r"not valid YAML"),
        ("cases:\n  - name: 'a::b'\n    turns: [{user: x, handover: true}]", r"without '::'"),
        (
            "cases:\n  - name: Fall A\n    turns: [{user: x, handover: true}]\n"
            "  - name: fall a!\n    turns: [{user: y, handover: true}]",
            r"example.yml:4: case 'fall a!': the name is already used .* at .*example.yml:2",
        ),
    ],
)
def test_invalid_files_are_reported_with_location(text, expected):
    message = error_of(text)
    assert re.search(expected, message), message


def test_load_all_keeps_valid_files_and_reports_invalid_ones(tmp_path):
    (tmp_path / "good.yml").write_text(VALID, encoding="utf-8")
    (tmp_path / "bad.yml").write_text("cases:\n  - name: x\n    turns: [{user: x, bogus: 1}]\n", encoding="utf-8")
    (tmp_path / "ignored.txt").write_text("not a case file", encoding="utf-8")
    cases, errors = load_all(tmp_path)
    assert [c.name for c in cases] == ["Outlook mit IMAP einrichten"]
    assert len(errors) == 1 and "bad.yml" in str(errors[0]) and "bogus" in str(errors[0])


def test_slugify_is_ascii_and_stable():
    assert slugify("Postfach voll × POP3 (Größe: 300 MB)") == "postfach-voll-pop3-groesse-300-mb"
    assert slugify("???") == "case"


# ---------------------------------------------------------------------------
# Matching rules
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pattern, text, found",
    [
        ("imap.dokom.net", "Server: **IMAP.dokom.net**", True),  # case and Markdown do not matter
        ("Port 993", "Port\n  993", True),  # whitespace is collapsed
        ("SSL/TLS", "`SSL/TLS`", True),
        ("993", "Port 9930", False),  # numbers do not match inside longer numbers
        ("25", "Port 2025", False),
        ("25", "Port 25 oder 587", True),
        ("300 MB", "1300 MB", False),
        ("300 MB", "bis zu 300 MB.", True),
        ("Papierkorb", "den Papierkorbs", True),  # words match as part of longer words
        ("re:\\b(465|587)\\b", "Port 587 mit STARTTLS", True),
        ("re:^Hallo", "hallo und willkommen", True),  # regex: case-insensitive
        ("re:300\\s*MB", "300MB", True),
        ("re:Fehler \\d{3}", "Fehler 55", False),
        ("support@dokom21.de", "Schreiben Sie an support@dokom21.de.", True),
    ],
)
def test_pattern_search(pattern, text, found):
    assert Pattern.parse(pattern).search(text) is found


def test_pattern_equals_is_for_whole_titles():
    assert Pattern.parse("imap").equals(" IMAP ")
    assert not Pattern.parse("IMAP").equals("IMAP (empfohlen)")
    assert Pattern.parse("re:IMAP.*").equals("IMAP (empfohlen)")


def _turn_result(turn, texts=(), buttons=(), slots=None, events=(), extra=None) -> TurnResult:
    messages = [BotMessage(text=t) for t in texts]
    if buttons:
        messages.append(BotMessage(text="", buttons=[{"title": t, "payload": p} for t, p in buttons]))
    if extra:
        messages.append(BotMessage(extra=extra))
    result = TurnResult(turn=turn, messages=messages, slots=dict(slots or {}))
    result.events = list(events)
    evidence = detect_handover(result.events)
    result.handover, result.handover_evidence = evidence is not None, evidence or ""
    return result


def test_check_turn_reports_every_failed_check():
    case = one_case(
        """
- user: Postfach voll
  must_mention: ["300 MB", [Papierkorb, Webagent], "re:POP3|IMAP"]
  must_not_mention: [Sommer2024!]
  buttons: [IMAP, POP3]
  slots: {protocol: null, client: outlook, nosuchslot: 1}
  handover: true
"""
    )
    result = _turn_result(
        case.turns[0],
        texts=["Ihr Postfach fasst 300 MB."],
        buttons=[("IMAP", "/inform{\"protocol\":\"imap\"}")],
        slots={"protocol": None, "client": "thunderbird"},
        extra={"custom": {"echo": "Sommer2024!"}},
    )
    failures = check_turn(result)
    text = "\n".join(failures)
    assert "must mention one of 'Papierkorb' / 'Webagent'" in text
    assert "must mention 're:POP3|IMAP'" not in text  # the button title IMAP is visible text
    assert "must not mention 'Sommer2024!'" in text  # custom data counts for must_not_mention
    assert "expected a button 'POP3', offered: 'IMAP'" in text
    assert "slot client: expected 'outlook', got 'thunderbird'" in text
    assert "slot nosuchslot: this slot does not exist" in text
    assert "handover: expected a hand-over in this turn, none happened" in text
    assert len(failures) == 6


def test_check_turn_passes_and_handles_buttons_true_false_and_number_slots():
    case = one_case(
        """
- user: Fehler 554
  buttons: true
  slots: {error_code: 554, encryption: null}
  handover: false
- user: danke
  buttons: false
  handover: true
"""
    )
    ok = _turn_result(case.turns[0], texts=["Bitte fügen Sie den Text ein."], buttons=[("Relay", "/x")],
                      slots={"error_code": "554", "encryption": None})
    assert check_turn(ok) == []
    handed_over = _turn_result(
        case.turns[1], texts=["Ich gebe an den Support weiter."], buttons=[("Ok", "/ok")],
        events=[{"event": "user", "text": "danke"}, {"event": "slot", "name": "handover_summary", "value": "Zusammenfassung"}],
    )
    assert check_turn(handed_over) == ["buttons: expected no buttons, the bot offered 'Ok'"]
    no_handover_expected = one_case("- user: x\n  handover: false").turns[0]
    result = _turn_result(no_handover_expected, events=[{"event": "action", "name": "action_handover"}])
    assert check_turn(result) == ["handover: expected no hand-over, but one happened (action action_handover ran)"]


def test_slot_values_can_be_regular_expressions():
    turn = one_case("- user: x\n  slots: {handover_summary: 're:Outlook.*IMAP', step: 're:.'}").turns[0]
    ok = _turn_result(turn, slots={"handover_summary": "Programm: Outlook, Protokoll: IMAP", "step": 2})
    assert check_turn(ok) == []
    unset = _turn_result(turn, slots={"handover_summary": None, "step": None})
    assert check_turn(unset) == [
        "slot handover_summary: expected 're:Outlook.*IMAP', got None",
        "slot step: expected 're:.', got None",
    ]


def test_turn_events_are_those_after_the_last_user_message():
    tracker = {"events": [
        {"event": "user", "text": "a"}, {"event": "slot", "name": "handover_summary", "value": "x"},
        {"event": "user", "text": "b"}, {"event": "bot", "text": "c"},
    ]}
    events = turn_events(tracker)
    assert [e["event"] for e in events] == ["user", "bot"]
    assert detect_handover(events) is None
    assert detect_handover([{"event": "slot", "name": "handover_summary", "value": None}]) is None


# ---------------------------------------------------------------------------
# Playing cases (fake client and fake Rasa server)
# ---------------------------------------------------------------------------
class FakeBot:
    """A scripted bot: answers depend on the message; the tracker mirrors Rasa's."""

    def __init__(self) -> None:
        self.sent: Dict[str, List[str]] = {}
        self.events: Dict[str, List[Dict[str, Any]]] = {}
        self.slots: Dict[str, Dict[str, Any]] = {}
        self.lock = threading.Lock()

    def answer(self, sender: str, message: str) -> List[Dict[str, Any]]:
        with self.lock:
            self.sent.setdefault(sender, []).append(message)
            slots = self.slots.setdefault(sender, {"client": None, "protocol": None, "handover_summary": None})
            events = self.events.setdefault(sender, [])
            events.append({"event": "user", "text": message})
            if "outlook" in message.lower():
                slots["client"] = "outlook"
                events.append({"event": "slot", "name": "client", "value": "outlook"})
                reply = [{"recipient_id": sender, "text": "Nutzen Sie IMAP oder POP3?",
                          "buttons": [{"title": "IMAP", "payload": '/inform{"protocol":"imap"}'},
                                      {"title": "POP3", "payload": '/inform{"protocol":"pop3"}'}]}]
            elif message.startswith("/inform"):
                slots["protocol"] = "imap" if "imap" in message else "pop3"
                events.append({"event": "slot", "name": "protocol", "value": slots["protocol"]})
                host = f"{slots['protocol']}.dokom.net"
                reply = [{"recipient_id": sender, "text": f"Posteingang: **{host}**, Port 993 (SSL/TLS)."},
                         {"recipient_id": sender, "text": "Hat das geklappt?"}]
            elif message == "nein":
                slots["handover_summary"] = "Outlook, IMAP"
                events.append({"event": "action", "name": "action_handover"})
                events.append({"event": "slot", "name": "handover_summary", "value": "Outlook, IMAP"})
                reply = [{"recipient_id": sender, "text": "Ich übergebe an support@dokom21.de."}]
            else:
                reply = [{"recipient_id": sender, "text": "Das habe ich nicht verstanden."}]
            for message_ in reply:
                events.append({"event": "bot", "text": message_["text"], "data": {"buttons": message_.get("buttons")}})
            return reply

    def tracker(self, sender: str) -> Dict[str, Any]:
        with self.lock:
            return {"sender_id": sender, "slots": dict(self.slots.get(sender, {})),
                    "events": list(self.events.get(sender, []))}


class FakeClient:
    def __init__(self, bot: FakeBot) -> None:
        self.bot = bot

    def send(self, sender, message):
        return self.bot.answer(sender, message)

    def tracker(self, sender):
        return self.bot.tracker(sender)


OUTLOOK = """
cases:
  - name: Outlook IMAP mit Hand-over
    turns:
      - user: Outlook einrichten
        buttons: [IMAP, POP3]
        slots: {client: outlook}
      - button: imap
        must_mention: [imap.dokom.net, "993", "re:SSL\\\\s*/\\\\s*TLS"]
        slots: {protocol: imap}
        handover: false
      - user: nein
        must_mention: [support@dokom21.de]
        handover: true
"""


def test_play_case_clicks_buttons_by_sending_their_payload():
    (case,) = parse(OUTLOOK)
    bot = FakeBot()
    result = play_case(case, FakeClient(bot), sender_id="s1")
    assert result.passed, render_case(result)
    assert bot.sent["s1"] == ["Outlook einrichten", '/inform{"protocol":"imap"}', "nein"]
    assert result.turns[2].handover and "action_handover" in result.turns[2].handover_evidence


def test_play_case_failure_message_shows_expected_and_actual():
    text = OUTLOOK.replace("imap.dokom.net", "pop3.dokom.net").replace("{protocol: imap}", "{protocol: pop3}")
    (case,) = parse(text)
    result = play_case(case, FakeClient(FakeBot()), sender_id="s2")
    assert not result.passed and result.first_failure == 2
    message = render_case(result)
    assert "FAILED in turn 2 of 3" in message
    assert "must mention 'pop3.dokom.net': not found in the answer" in message
    assert "slot protocol: expected 'pop3', got 'imap'" in message
    assert "Posteingang: **imap.dokom.net**, Port 993 (SSL/TLS)." in message  # what the bot said
    assert "Customer: Outlook einrichten" in message and "[clicks 'imap'" in message


def test_button_that_was_not_offered_stops_the_case():
    (case,) = parse(OUTLOOK.replace("button: imap", "button: Exchange"))
    result = play_case(case, FakeClient(FakeBot()), sender_id="s3")
    assert not result.passed and len(result.turns) == 2
    assert "cannot click button 'Exchange': the bot did not offer it in turn 1 (offered: 'IMAP', 'POP3')" \
        in result.turns[1].error
    assert "(1 later turn(s) not played)" in render_case(result)


def test_transport_errors_fail_the_turn():
    class Broken(FakeClient):
        def send(self, sender, message):
            raise RasaError("POST http://x/webhooks/rest/webhook answered 500: boom")

    (case,) = parse(OUTLOOK)
    result = play_case(case, Broken(FakeBot()))
    assert not result.passed and "answered 500" in result.turns[0].error
    assert result.sender_id.startswith("convtest-outlook-imap-mit-hand-over-")


class _FakeRasaHandler(BaseHTTPRequestHandler):
    bot: FakeBot
    token = "secret"

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/webhooks/rest/webhook":
            return self._json(404, {})
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._json(200, self.bot.answer(data["sender"], data["message"]))

    def do_GET(self):
        url = urlparse(self.path)
        match = re.fullmatch(r"/conversations/([^/]+)/tracker", url.path)
        if not match:
            return self._json(404, {})
        if parse_qs(url.query).get("token") != [self.token]:
            return self._json(401, {"message": "bad token"})
        self._json(200, self.bot.tracker(match.group(1)))


@pytest.fixture
def fake_rasa():
    handler = type("Handler", (_FakeRasaHandler,), {"bot": FakeBot()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.bot
    finally:
        server.shutdown()
        server.server_close()


def test_concurrent_runner_over_http_uses_one_conversation_per_case(fake_rasa, tmp_path):
    url, bot = fake_rasa
    cases = []
    for i in range(6):
        cases += parse(OUTLOOK.replace("Outlook IMAP mit Hand-over", f"Fall {i}"))
    runner = ConcurrentRunner(url, "secret", workers=3, timeout=10)
    try:
        runner.submit_all(cases)
        results = [runner.result(c) for c in cases]
    finally:
        runner.shutdown()
    assert all(r.passed for r in results), "\n".join(render_case(r) for r in results)
    assert len({r.sender_id for r in results}) == 6 and len(bot.sent) == 6
    assert all(len(messages) == 3 for messages in bot.sent.values())
    assert len(runner.finished()) == 6

    md, page = write_reports(results, tmp_path, rasa_url=url)
    assert "**6 of 6 cases passed**" in md.read_text(encoding="utf-8")
    assert "Fall 5" in page.read_text(encoding="utf-8")


def test_wrong_token_is_a_clear_error(fake_rasa):
    url, _ = fake_rasa
    (case,) = parse(OUTLOOK)
    runner = ConcurrentRunner(url, "wrong", workers=1, timeout=10)
    try:
        result = runner.result(case)
    finally:
        runner.shutdown()
    assert not result.passed and "answered 401" in result.turns[0].error


def test_report_lists_failures_with_details_and_escapes_html(tmp_path):
    text = OUTLOOK.replace("Outlook IMAP mit Hand-over", "Fall <b>fett</b>").replace("993", "995")
    (case,) = parse(text)
    result = play_case(case, FakeClient(FakeBot()), sender_id="s4")
    md, page = write_reports([result], tmp_path, format_errors=["cases/x.yml: kaputt"])
    md_text, html_text = md.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")
    assert "**0 of 1 cases passed**, 1 failed" in md_text
    assert "must mention '995': not found" in md_text and "cases/x.yml: kaputt" in md_text
    assert "<b>fett</b>" not in html_text and "&lt;b&gt;fett&lt;/b&gt;" in html_text
    assert "must mention &#x27;995&#x27;: not found" in html_text


# ---------------------------------------------------------------------------
# Recorder
# ---------------------------------------------------------------------------
TRACKER = {
    "sender_id": "abc123",
    "slots": {"client": "outlook", "protocol": "imap", "encryption": None, "error_code": None,
              "handover_summary": "Outlook, IMAP", "step": 2},
    "events": [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "Ich will Outlook einrichten", "parse_data": {"intent": {"name": "setup_client"}}},
        {"event": "slot", "name": "client", "value": "outlook"},
        {"event": "bot", "text": "Nutzen Sie IMAP oder POP3?", "data": {"buttons": [
            {"title": "IMAP", "payload": '/inform{"protocol":"imap"}'},
            {"title": "POP3", "payload": '/inform{"protocol":"pop3"}'}]}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": '/inform{"protocol":"imap"}'},
        {"event": "slot", "name": "protocol", "value": "imap"},
        {"event": "bot", "text": "Posteingang: **imap.dokom.net**, Port 993 (SSL/TLS) oder Port 143 (STARTTLS).\n"
                                 "Postausgang: smtp.dokom.net, Port 465.", "data": {}},
        {"event": "bot", "text": "Hat das geklappt?", "data": {}},
        {"event": "user", "text": "nein, geht immer noch nicht"},
        {"event": "action", "name": "action_handover"},
        {"event": "slot", "name": "handover_summary", "value": "Outlook, IMAP"},
        {"event": "bot", "text": "Schreiben Sie an support@dokom21.de, Betreff \"SMTP Fehler 554\". "
                                 "Das Postfach fasst 300 MB.", "data": {}},
    ],
}


def test_tracker_to_case_turns_answers_into_checks():
    case = tracker_to_case(TRACKER)
    assert case["name"] == "Aufgezeichnet abc123" and "abc123" in case["description"]
    first, second, third = case["turns"]
    assert first["user"] == "Ich will Outlook einrichten"
    assert first["buttons"] == ["IMAP", "POP3"]
    assert first["slots"] == {"client": "outlook", "protocol": None, "encryption": None, "error_code": None}
    assert first["handover"] is False
    assert first["must_mention"] == ["Nutzen Sie IMAP oder POP3?".rstrip("?")]  # no facts: start of sentence
    assert second["button"] == "IMAP" and "user" not in second
    assert second["must_mention"] == ["imap.dokom.net", "smtp.dokom.net", "993", "143", "465", "SSL/TLS", "STARTTLS",
                                      "Hat das geklappt"]
    assert second["slots"]["protocol"] == "imap"
    assert third["handover"] is True
    assert third["must_mention"] == ["support@dokom21.de", "300 MB"]
    assert third["note"].startswith("Bot: Schreiben Sie an")


def test_recorded_case_is_a_valid_case_file():
    text = cases_to_yaml([tracker_to_case(TRACKER, name="Outlook IMAP aufgezeichnet")], header="Kopf")
    assert text.startswith("# Kopf\ncases:\n")
    (case,) = parse(text)
    assert case.name == "Outlook IMAP aufgezeichnet"
    assert case.turns[1].button.source == "IMAP"
    assert yaml.safe_load(text)["cases"][0]["turns"][2]["handover"] is True
    # and it passes against the same (fake) bot behaviour it was recorded from
    bot = FakeBot()
    live = tracker_to_case(_play_and_get_tracker(bot))
    (replayed,) = parse(cases_to_yaml([live]))
    assert play_case(replayed, FakeClient(FakeBot())).passed


def _play_and_get_tracker(bot: FakeBot) -> Dict[str, Any]:
    client = FakeClient(bot)
    client.send("rec", "Outlook einrichten")
    client.send("rec", '/inform{"protocol":"imap"}')
    client.send("rec", "nein")
    return client.tracker("rec")


def test_tracker_without_customer_messages_is_rejected():
    with pytest.raises(ValueError, match="no customer messages"):
        tracker_to_case({"sender_id": "x", "events": [{"event": "action", "name": "action_listen"}]})


def test_restart_resets_recorded_slots():
    tracker = {"sender_id": "r", "events": [
        {"event": "user", "text": "Outlook"}, {"event": "slot", "name": "client", "value": "outlook"},
        {"event": "user", "text": "/restart"}, {"event": "restart"},
        {"event": "user", "text": "Hallo"},
    ]}
    first, second, third = tracker_to_case(tracker)["turns"]
    assert first["slots"]["client"] == "outlook"
    assert second["slots"]["client"] is None and third["slots"]["client"] is None


def test_fallback_check_is_the_start_of_the_first_line():
    tracker = {"sender_id": "x", "events": [
        {"event": "user", "text": "Outlook einrichten"},
        {"event": "bot", "text": "**Schritt 1 von 3: Konto hinzufügen**\n1. Öffnen Sie das Menü „Datei“.\n\nHat das geklappt?"},
    ]}
    (turn,) = tracker_to_case(tracker)["turns"]
    assert turn["must_mention"] == ["Schritt 1 von 3: Konto hinzufügen"]


def test_extract_facts():
    facts = extract_facts("Max. **50 MB** pro Nachricht, aktiv nach 2 Stunden; Gmail lehnt mit 5.7.26 ab. "
                          "Infos: www.service.dokom.net")
    assert facts == ["www.service.dokom.net", "50 MB", "2 Stunden", "5.7.26"]


def test_record_cli_writes_a_case_file(fake_rasa, tmp_path, capsys):
    from tests.conversations import record

    url, bot = fake_rasa
    _play_and_get_tracker(bot)
    out = tmp_path / "recorded.yml"
    assert record.main(["rec", "--rasa-url", url, "--token", "secret", "--out", str(out)]) == 0
    (case,) = parse(out.read_text(encoding="utf-8"))
    assert [t.describe_input() for t in case.turns] == ["Outlook einrichten", "[Button 'IMAP']", "nein"]
    assert record.main(["rec", "--rasa-url", url, "--token", "secret", "--out", str(out)]) == 2  # no overwrite
    assert "exists" in capsys.readouterr().err
    assert record.main(["rec", "--rasa-url", url, "--token", "wrong", "--out", "-"]) == 2


# ---------------------------------------------------------------------------
# The real case files
# ---------------------------------------------------------------------------
def test_all_case_files_are_valid():
    assert case_files(), f"no case files in {CASES_DIR}"
    cases, errors = load_all()
    assert not errors, "\n".join(str(e) for e in errors)
    assert len(cases) >= 40


def test_case_slots_exist_in_the_domain():
    domain_file = ROOT / "domain.yml"
    if not domain_file.exists():
        pytest.skip("domain.yml does not exist yet")
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    # plus the slots Rasa adds to every domain (forms fill requested_slot)
    known = set((domain.get("slots") or {}).keys()) | {"requested_slot", "session_started_metadata"}
    cases, _ = load_all()
    unknown = sorted({f"{c.location}: {name}" for c in cases for t in c.turns for name in t.slots if name not in known})
    assert not unknown, f"slots not in domain.yml ({sorted(known)}):\n" + "\n".join(unknown)
