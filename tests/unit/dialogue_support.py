"""Helpers for action tests: inline rasa-sdk trackers and the real domain."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.kb import get_kb
from bot.replies import Composer, get_templates

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CLIENTS = ("outlook", "thunderbird", "apple_mail", "windows_mail", "other")
INCOMING = ("imap", "pop3")
PROTOCOLS = ("imap", "pop3", "smtp")
ENCRYPTIONS = ("ssl_tls", "starttls", "none")
CLIENT_PROTOCOLS = list(itertools.product(CLIENTS, INCOMING))

_counter = itertools.count()


def all_slots(**values: Any) -> dict[str, Any]:
    """Every domain slot (None unless given), as the action server receives them."""
    slots = {name: None for name in DOMAIN["slots"]}
    slots["requested_slot"] = None
    unknown = set(values) - set(slots)
    assert not unknown, f"not domain slots: {unknown}"
    slots.update(values)
    return slots


def user_event(text: str, intent: str, entities: Iterable[dict] = ()) -> dict:
    return {"event": "user", "text": text, "timestamp": next(_counter),
            "parse_data": {"intent": {"name": intent, "confidence": 1.0},
                           "entities": list(entities), "text": text}}


def tracker(text: str = "", intent: Optional[str] = None, entities: Iterable[dict] = (),
            events_before: Iterable[dict] = (), events_after: Iterable[dict] = (),
            active_loop: Optional[str] = None, **slot_values: Any) -> Tracker:
    """A tracker whose latest message is ``text`` with ``intent`` (and ``entities``)."""
    entities = list(entities)
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {},
              "entities": entities}
    events = list(events_before)
    if intent:
        events.append(user_event(text, intent, entities))
    events.extend(events_after)
    return Tracker(
        sender_id=f"test-{next(_counter)}", slots=all_slots(**slot_values), latest_message=latest,
        events=events, paused=False, followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str) -> dict:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


async def run(action, trk: Tracker) -> tuple[list[dict], list[dict]]:
    """Run an action; returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, DOMAIN)
    return dispatcher.messages, events


def slot_changes(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict]) -> list[str]:
    return [m.get("response") for m in messages]


def rendered(messages: list[dict]) -> str:
    """The texts the customer would see (filled like Rasa's NLG does)."""
    templates = get_templates()
    texts = []
    for message in messages:
        values = {k: v for k, v in message.items()
                  if k not in ("text", "buttons", "elements", "custom", "template", "response",
                               "image", "attachment")}
        texts.append(templates.text(message["response"], **values) if message.get("response")
                     else message.get("text") or "")
    return "\n\n".join(texts)


def composer() -> Composer:
    return Composer(get_kb())

