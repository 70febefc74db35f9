"""Turn a recorded Rasa conversation (tracker JSON) into a conversation case.

``tracker_to_case(tracker)`` is importable without Rasa (the agent-assist page uses it
too). It writes one turn per customer message: the text (or the title of the button
the customer clicked), the facts of the bot's answer as ``must_mention`` checks, the
buttons offered, the contract slots after the turn and whether a hand-over happened.
The bot's full answer goes into the turn's ``note`` so whoever reviews the case sees
what was said.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence

import yaml

from tests.conversations.runner import HANDOVER_ACTIONS, HANDOVER_SLOT

#: Slots recorded after every turn (the contract slots; internal slots make cases brittle).
DEFAULT_SLOTS = ("client", "protocol", "encryption", "error_code")

# Facts worth pinning: host names, e-mail addresses, URLs, numbers with units, codes, ports.
_FACT_PATTERNS = [
    re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),                      # e-mail addresses
    re.compile(r"\b(?:https?://)?(?:[\w-]+\.)+(?:net|de|com|org)(?:/\S*)?\b", re.IGNORECASE),  # hosts, URLs
    re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:MB|GB|KB|Stunden|Stunde|Minuten|Tage|Zeichen)\b"),  # sizes, durations
    re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b"),                          # enhanced status codes (5.7.26)
    re.compile(r"\b(?:Port|Ports)\s*:?\s*\d{2,4}(?:\s*(?:,|oder|und|/)\s*\d{2,4})*", re.IGNORECASE),
    re.compile(r"\b(?:SSL/TLS|STARTTLS|SPA)\b"),
]
_PORT_NUMBER = re.compile(r"\d{2,4}")
_MARKDOWN = re.compile(r"[*`_#>]+")


def _plain(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text or "")   # [title](link) -> title
    text = _MARKDOWN.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def extract_facts(text: str) -> List[str]:
    """Key facts of a bot message, each as a plain-text check."""
    plain = _plain(text)
    facts: List[str] = []

    def add(item: str) -> None:
        item = item.strip().rstrip(".,;:")
        if item and not any(item.casefold() in f.casefold() for f in facts):
            facts.append(item)

    for pattern in _FACT_PATTERNS:
        for match in pattern.finditer(plain):
            value = match.group(0)
            if value.lower().startswith("port"):
                for number in _PORT_NUMBER.findall(value):
                    add(number)
            else:
                add(value)
    return facts


def _first_words(text: str, limit: int = 60) -> str:
    """The start of the message's first line/sentence, cut at a word boundary: a fallback check."""
    first_line = next((line for line in (text or "").splitlines() if _plain(line)), "")
    plain = _plain(first_line)
    sentence = re.split(r"(?<=[.!?])\s", plain, maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0]
    return sentence.rstrip(".,;:!?")


def _checks_for(texts: Sequence[str]) -> List[str]:
    checks: List[str] = []
    for text in texts:
        facts = extract_facts(text)
        if not facts and text.strip():
            facts = [_first_words(text)]
        for fact in facts:
            if fact and fact.casefold() not in (c.casefold() for c in checks):
                checks.append(fact)
    return checks


class _Turn:
    def __init__(self, text: str) -> None:
        self.text = text
        self.bot_texts: List[str] = []
        self.buttons: List[Dict[str, str]] = []
        self.handover = False
        self.slots: Dict[str, Any] = {}


def _bot_buttons(event: Dict[str, Any]) -> List[Dict[str, str]]:
    data = event.get("data") or {}
    buttons = data.get("buttons") or []
    result = []
    for button in buttons:
        if isinstance(button, dict) and button.get("title"):
            result.append({"title": str(button["title"]), "payload": str(button.get("payload") or "")})
    return result


def _turns(events: Iterable[Dict[str, Any]], slot_names: Sequence[str]) -> List[_Turn]:
    slots: Dict[str, Any] = {}
    turns: List[_Turn] = []
    current: Optional[_Turn] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if current is not None:
                current.slots = dict(slots)
            current = _Turn(str(event.get("text") or ""))
            turns.append(current)
        elif kind == "slot":
            slots[event.get("name")] = event.get("value")
            if current is not None and event.get("name") == HANDOVER_SLOT and event.get("value") not in (None, "", [], {}):
                current.handover = True
        elif kind in ("restart", "reset_slots", "session_started"):
            slots = {}
        elif kind == "action" and current is not None and event.get("name") in HANDOVER_ACTIONS:
            current.handover = True
        elif kind == "bot" and current is not None:
            if event.get("text"):
                current.bot_texts.append(str(event["text"]))
            current.buttons.extend(_bot_buttons(event))
    if current is not None:
        current.slots = dict(slots)
    for turn in turns:
        turn.slots = {name: turn.slots.get(name) for name in slot_names}
    return turns


def tracker_to_case(tracker: Dict[str, Any], name: Optional[str] = None,
                    slot_names: Sequence[str] = DEFAULT_SLOTS) -> Dict[str, Any]:
    """A conversation case (as a plain dict, ready for YAML) from a Rasa tracker dict.

    ``tracker`` is what ``GET /conversations/<id>/tracker`` returns. Button clicks are
    written as ``button: <title>`` when the payload matches a button of the previous
    turn. Raises ``ValueError`` when the tracker has no customer message.
    """
    conversation_id = str(tracker.get("sender_id") or "unbekannt")
    if isinstance(tracker.get("slots"), dict):  # only slots the bot's domain has
        slot_names = [name for name in slot_names if name in tracker["slots"]]
    turns = _turns(tracker.get("events") or [], slot_names)
    if not turns:
        raise ValueError(f"conversation {conversation_id!r} has no customer messages")
    case_turns: List[Dict[str, Any]] = []
    previous: Optional[_Turn] = None
    for turn in turns:
        entry: Dict[str, Any] = {}
        button = None
        if previous is not None:
            button = next((b for b in previous.buttons if b["payload"] and b["payload"] == turn.text), None)
        if button is not None:
            entry["button"] = button["title"]
        else:
            entry["user"] = turn.text or "(leer)"
        checks = _checks_for(turn.bot_texts)
        if checks:
            entry["must_mention"] = checks
        if turn.buttons:
            entry["buttons"] = [b["title"] for b in turn.buttons]
        if turn.slots:
            entry["slots"] = dict(turn.slots)
        entry["handover"] = turn.handover
        if turn.bot_texts:
            entry["note"] = "Bot: " + "\n".join(turn.bot_texts)
        case_turns.append(entry)
        previous = turn
    first = next((t.text for t in turns if t.text), "")
    recorded = _dt.date.today().isoformat()
    return {
        "name": name or f"Aufgezeichnet {conversation_id}",
        "description": f"Aufgezeichnet aus Gespräch {conversation_id} am {recorded}"
                       + (f" (Anfang: „{_plain(first)[:60]}“)" if first else "")
                       + ". Prüfungen vor dem Einchecken durchsehen.",
        "turns": case_turns,
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def cases_to_yaml(cases: Sequence[Dict[str, Any]], header: str = "") -> str:
    """A complete case file (``cases:`` list) as YAML text."""
    body = yaml.dump({"cases": list(cases)}, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     width=100, default_flow_style=False)
    prefix = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    return prefix + body
