"""Faults on the real stack: action server down or slow, Rasa down, a restart mid-form.

What Rasa 3.6.21 does (seen on this stack, see docs/security.md "Faults"):

- action server down (connection refused): every custom action fails at once; Rasa logs
  the error, drops the action's events and messages and goes on, so the REST channel
  answers 200 with an empty list. The web app turns "no answer" into a German apology
  with the support address (`no_answer_apology` in data/web/messages.yml).
- action server slow (accepts, never answers): Rasa waits for it (its action call time
  limit is a fixed 300 s in 3.6), the web app gives up after UPSTREAM_TIMEOUT (10 s) and
  answers 503 `upstream_timeout`, also with the support address. Dropping the connection
  cancels Rasa's request handler, so the conversation is not blocked afterwards.
- Rasa down: 503 `upstream_unavailable` at once.

In every case the same conversation (same session cookie, same tracker) goes on once the
part is back.
"""
from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests

from bot.kb import get_kb
from bot.web.messages import no_answer_apology
from bot.web.session import COOKIE_NAME
from ops.stack import DEFAULT_MODEL, ROOT, Stack

pytestmark = pytest.mark.stack

SUPPORT = get_kb().contact.email
UPSTREAM_TIMEOUT = 10.0  # the web app's default (docs/web.md)
START_TIMEOUT = 600.0  # the machine may be busy; Rasa alone needs ~30 s when idle


class WebChat:
    """One customer talking to the web app's chat API with a session cookie."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.headers = {"Origin": stack.web_url}
        self.last: Optional[requests.Response] = None

    def post(self, body: Dict, timeout: float = 90.0) -> requests.Response:
        self.last = self.http.post(f"{self.stack.web_url}/api/chat", json=body,
                                   headers=self.headers, timeout=timeout)
        return self.last

    def say(self, text: str) -> Dict:
        response = self.post({"message": text})
        assert response.status_code == 200, (text, response.status_code, response.text)
        return response.json()

    def click(self, payload: str) -> Dict:
        response = self.post({"payload": payload})
        assert response.status_code == 200, (payload, response.status_code, response.text)
        return response.json()

    @property
    def conversation_id(self) -> str:
        cookie = self.http.cookies.get(COOKIE_NAME)
        assert cookie, "no session cookie"
        return cookie.split(".")[1]

    def tracker(self) -> Dict:
        return tracker_of(self.stack, self.conversation_id)

    def user_texts(self) -> List[str]:
        return [e.get("text") for e in self.tracker()["events"] if e["event"] == "user"]


def tracker_of(stack: Stack, sender: str) -> Dict:
    response = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                            params={"token": stack.rasa_token, "include_events": "ALL"}, timeout=30)
    response.raise_for_status()
    return response.json()


def texts(answer: Dict) -> str:
    return "\n".join(m.get("text") or "" for m in answer["messages"])


def assert_normal_answer(answer: Dict, *facts: str) -> None:
    text = texts(answer)
    assert answer["messages"], answer
    assert no_answer_apology() not in text, f"still the apology: {text}"
    for fact in facts:
        assert fact in text, (fact, text)


# ------------------------------------------------------------ action server down
def test_action_server_down_gives_apology_then_conversation_goes_on(live_stack):
    chat = WebChat(live_stack)
    assert_normal_answer(chat.say("Wie groß darf ein Anhang sein?"), "50 MB")
    live_stack.stop_actions()
    try:
        for text in ("Mein Postfach ist voll", "Ich möchte Outlook einrichten"):
            started = time.monotonic()
            answer = chat.say(text)
            assert time.monotonic() - started < UPSTREAM_TIMEOUT
            reply = texts(answer)
            assert SUPPORT in reply, f"no support contact while actions are down: {answer}"
            assert "Entschuldigung" in reply
            assert answer["new_session"] is False
    finally:
        live_stack.start_actions(timeout=START_TIMEOUT)
    answer = chat.say("Mein Postfach ist voll")
    assert_normal_answer(answer, "300 MB")
    assert answer["new_session"] is False
    # one conversation, every accepted message in it once, in order
    assert chat.user_texts() == ["Wie groß darf ein Anhang sein?", "Mein Postfach ist voll",
                                 "Ich möchte Outlook einrichten", "Mein Postfach ist voll"]


# ------------------------------------------------------------ action server slow
def test_slow_action_server_gives_503_with_contact_in_time_then_goes_on(live_stack):
    chat = WebChat(live_stack)
    assert_normal_answer(chat.say("Wie groß darf ein Anhang sein?"), "50 MB")
    live_stack.stop_actions()
    # A server that accepts connections and never answers: the worst kind of slow.
    hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        hole.bind(("127.0.0.1", live_stack.actions_port))
        hole.listen(64)
        started = time.monotonic()
        response = chat.post({"message": "Mein Postfach ist voll"})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert elapsed < UPSTREAM_TIMEOUT + 5, elapsed
        data = response.json()
        assert data["code"] == "upstream_timeout"
        assert SUPPORT in data["error"] and "Entschuldigung" in data["error"]
        assert response.headers.get("Retry-After")
    finally:
        hole.close()
        live_stack.start_actions(timeout=START_TIMEOUT)
    answer = chat.say("Mein Postfach ist voll")
    assert_normal_answer(answer, "300 MB")
    assert answer["new_session"] is False
    # the timed-out message was answered with 503 (not accepted): when the web app gave up,
    # Rasa cancelled its handling, so only the retry is in the conversation
    assert chat.user_texts() == ["Wie groß darf ein Anhang sein?", "Mein Postfach ist voll"]


# ------------------------------------------------------------ Rasa down
def test_rasa_down_gives_503_in_time_then_conversation_goes_on(live_stack):
    chat = WebChat(live_stack)
    assert_normal_answer(chat.say("Wie groß darf ein Anhang sein?"), "50 MB")
    live_stack.stop_rasa()
    try:
        started = time.monotonic()
        response = chat.post({"message": "Mein Postfach ist voll"})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert elapsed < UPSTREAM_TIMEOUT, elapsed
        data = response.json()
        assert data["code"] == "upstream_unavailable"
        assert "Mailhilfe" in data["error"] and SUPPORT in data["error"]
        assert response.headers.get("Retry-After")
    finally:
        live_stack.start_rasa(timeout=START_TIMEOUT)
    answer = chat.say("Mein Postfach ist voll")  # the customer's retry
    assert_normal_answer(answer, "300 MB")
    assert answer["new_session"] is False
    assert chat.user_texts() == ["Wie groß darf ein Anhang sein?", "Mein Postfach ist voll"]


# ------------------------------------------------------------ restart mid-form
@pytest.fixture(scope="module")
def restartable_stack(tmp_path_factory):
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first", pytrace=False)
    base = tmp_path_factory.mktemp("faults")
    stack = Stack(
        web=(ROOT / "bot" / "web" / "__main__.py").exists(),
        tracker_db=base / "var" / "tracker.db",
        run_dir=base / "run",
        # a fixed secret: the customer's session cookie stays valid across the restart
        web_env={"SESSION_SECRET": secrets.token_urlsafe(32)},
    )
    stack.start(timeout=START_TIMEOUT)
    try:
        yield stack
    finally:
        stack.stop()


def form_state(tracker: Dict) -> Dict:
    slots = tracker["slots"]
    return {
        "active_loop": (tracker.get("active_loop") or {}).get("name"),
        "requested_slot": slots.get("requested_slot"),
        "client": slots.get("client"),
        "protocol": slots.get("protocol"),
        "topic": slots.get("topic"),
    }


def test_restart_in_the_middle_of_a_form_continues_where_it_was(restartable_stack):
    stack = restartable_stack
    chat = WebChat(stack)
    answer = chat.say("Ich möchte Outlook einrichten")
    buttons = {b["title"]: b["payload"] for m in answer["messages"] for b in m.get("buttons") or []}
    assert {"IMAP", "POP3"} <= set(buttons), answer
    before = form_state(chat.tracker())
    assert before["active_loop"] == "details_form", before
    assert before["requested_slot"] == "protocol" and before["client"] == "outlook", before
    events_before = len(chat.tracker()["events"])

    stack.stop()
    assert not any(p.running() for p in stack.processes.values())
    assert Path(stack.tracker_db).stat().st_size > 0
    stack.start(timeout=START_TIMEOUT)

    after = chat.tracker()
    assert form_state(after) == before, "form state lost in the restart"
    assert len(after["events"]) == events_before
    # the customer clicks the button that was shown before the restart
    answer = chat.click(buttons["IMAP"])
    assert answer["new_session"] is False, "the restart started a new conversation"
    assert_normal_answer(answer, "imap.dokom.net", "993", "smtp.dokom.net")
    assert "pop3.dokom.net" not in texts(answer)
    done = form_state(chat.tracker())
    assert done["client"] == "outlook" and done["protocol"] == "imap"
    assert done["active_loop"] is None and done["requested_slot"] is None
    assert chat.user_texts()[0] == "Ich möchte Outlook einrichten"
