"""A restart of the whole stack in the middle of a conversation loses nothing.

`make run` keeps trackers in an SQLite file (Rasa's SQLTrackerStore). This test starts
a stack of its own with such a file, talks, stops every process, starts them again on
the same file and checks that the conversation (events and slots) is still there and
goes on where it stopped, directly on Rasa and, when the web app exists, through the
web app with the customer's session cookie.
"""
from __future__ import annotations

import json
import secrets
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from ops.stack import DEFAULT_MODEL, ROOT, Stack

pytestmark = pytest.mark.stack

HAS_WEB = (ROOT / "bot" / "web" / "__main__.py").exists()
COOKIE_NAME = "mailhilfe_session"
START_TIMEOUT = 600.0  # the machine may be busy; Rasa alone needs ~30 s


def post_json(url: str, body: Dict, opener=None, headers: Optional[Dict[str, str]] = None):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})},
    )
    with (opener.open if opener else urllib.request.urlopen)(request, timeout=60) as response:
        assert response.status == 200
        return json.load(response)


def tracker(stack: Stack, sender: str) -> Dict:
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.rasa_token}&include_events=ALL"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def dialogue(events: List[Dict]) -> List[tuple]:
    return [(e["event"], e.get("text")) for e in events if e["event"] in ("user", "bot")]


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory):
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first", pytrace=False)
    base = tmp_path_factory.mktemp("persistence")
    stack = Stack(
        web=HAS_WEB,
        tracker_db=base / "var" / "tracker.db",
        run_dir=base / "run",
        web_env={"SESSION_SECRET": secrets.token_urlsafe(32)},
    )
    stack.start(timeout=START_TIMEOUT)
    try:
        yield stack
    finally:
        stack.stop()


def restart(stack: Stack) -> None:
    stack.stop()
    assert not any(p.running() for p in stack.processes.values())
    stack.start(timeout=START_TIMEOUT)


def test_tracker_and_slots_survive_a_restart(sqlite_stack):
    stack = sqlite_stack
    sender = f"persist-{uuid.uuid4().hex[:10]}"
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
    post_json(webhook, {"sender": sender, "message": "Hallo"})
    post_json(webhook, {"sender": sender, "message": "Ich möchte mein Postfach in Thunderbird einrichten"})
    # a slot set through Rasa's HTTP API, independent of what NLU made of the texts
    slot_url = f"{stack.rasa_url}/conversations/{sender}/tracker/events?token={stack.rasa_token}"
    post_json(slot_url, {"event": "slot", "name": "client", "value": "thunderbird"})
    before = tracker(stack, sender)
    assert before["slots"]["client"] == "thunderbird"
    assert [t for k, t in dialogue(before["events"]) if k == "user"] == [
        "Hallo", "Ich möchte mein Postfach in Thunderbird einrichten"]

    restart(stack)

    after = tracker(stack, sender)
    assert after["slots"] == before["slots"]
    assert dialogue(after["events"]) == dialogue(before["events"])
    assert len(after["events"]) == len(before["events"])
    # the conversation goes on in the same tracker
    post_json(webhook, {"sender": sender, "message": "Welcher Port ist für IMAP richtig?"})
    later = tracker(stack, sender)
    assert dialogue(later["events"])[: len(dialogue(before["events"]))] == dialogue(before["events"])
    assert [t for k, t in dialogue(later["events"]) if k == "user"][-1] == "Welcher Port ist für IMAP richtig?"
    assert later["slots"]["client"] == "thunderbird"
    assert Path(stack.tracker_db).exists()


@pytest.mark.skipif(not HAS_WEB, reason="bot/web not there yet")
def test_web_customer_keeps_the_conversation_across_a_restart(sqlite_stack):
    stack = sqlite_stack
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    chat = f"{stack.web_url}/api/chat"
    origin = {"Origin": stack.web_url}
    first = post_json(chat, {"message": "Hallo"}, opener, origin)
    assert first["messages"], first
    post_json(chat, {"message": "Mein Postfach ist voll"}, opener, origin)
    cookies = {c.name: c.value for c in jar}
    assert COOKIE_NAME in cookies, f"no session cookie: {list(cookies)}"
    conversation_id = cookies[COOKIE_NAME].split(".")[1]
    before = dialogue(tracker(stack, conversation_id)["events"])

    restart(stack)

    answer = post_json(chat, {"message": "Wie groß darf ein Anhang sein?"}, opener, origin)
    assert answer["messages"], answer
    assert answer.get("new_session") is not True, "the web app started a new conversation after the restart"
    after = dialogue(tracker(stack, conversation_id)["events"])
    assert after[: len(before)] == before
    assert [t for k, t in after if k == "user"] == [
        "Hallo", "Mein Postfach ist voll", "Wie groß darf ein Anhang sein?"]
