"""A widget conversation for the support agent, from Rasa's tracker JSON.

Transcript (user and bot turns), the filled slots and the hand-over summary the dialogue
stored in the slot ``handover_summary``. Every text is masked again, so even a tracker
written before redaction existed shows no password.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Optional

from .masking import mask

HANDOVER_SLOT = "handover_summary"
HIDDEN_SLOTS = {"session_started_metadata"}


def _timestamp(value: Any) -> Optional[str]:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _masked(value: Any, redactor: Optional[Callable[[str], Any]]) -> Any:
    if isinstance(value, str):
        return mask(value, redactor).text
    if isinstance(value, list):
        return [_masked(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v, redactor) for k, v in value.items()}
    return value


def _user_turn(event: dict[str, Any], redactor) -> dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    turn: dict[str, Any] = {
        "sender": "user",
        "text": _masked(event.get("text") or "", redactor),
        "timestamp": _timestamp(event.get("timestamp")),
    }
    if isinstance(intent.get("name"), str):
        turn["intent"] = {"name": intent["name"], "confidence": round(float(intent.get("confidence") or 0), 4)}
    return turn


def _bot_turn(event: dict[str, Any], redactor) -> Optional[dict[str, Any]]:
    data = event.get("data") or {}
    buttons = [b.get("title") for b in data.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
    text = event.get("text") or ""
    if not text and not buttons:
        return None
    turn: dict[str, Any] = {
        "sender": "bot",
        "text": _masked(text, redactor),
        "timestamp": _timestamp(event.get("timestamp")),
    }
    if buttons:
        turn["buttons"] = [_masked(str(b), redactor) for b in buttons]
    return turn


def summarise_tracker(tracker: dict[str, Any], redactor: Optional[Callable[[str], Any]] = None
                      ) -> Optional[dict[str, Any]]:
    """The agent's view of a conversation; ``None`` when nobody has said anything yet."""
    transcript: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            transcript.append(_user_turn(event, redactor))
        elif event.get("event") == "bot":
            turn = _bot_turn(event, redactor)
            if turn:
                transcript.append(turn)
    if not transcript:
        return None
    slots = {
        name: _masked(value, redactor)
        for name, value in (tracker.get("slots") or {}).items()
        if value not in (None, "", [], {}) and name not in HIDDEN_SLOTS
    }
    latest = (tracker.get("latest_message") or {}).get("intent") or {}
    active_loop = tracker.get("active_loop") or {}
    return {
        "conversation_id": tracker.get("sender_id"),
        "transcript": transcript,
        "slots": slots,
        "handover_summary": slots.get(HANDOVER_SLOT),
        "latest_intent": latest.get("name"),
        "active_loop": active_loop.get("name"),
        "turns": len(transcript),
    }
